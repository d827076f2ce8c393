-- install.sql — honker's SQL surface for PostgreSQL, in install order.
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f node_modules/honker/pg/install.sql
--
-- Creates (or replaces) every honker_* function and notify() in the first
-- schema of the session's search_path (normally public); honker_bootstrap(),
-- run right after schema.sql, creates or migrates the tables (the functions
-- after it name their row types) and records the schema version. The TypeScript
-- client (openPostgres) runs these files itself, in this order, under an
-- advisory lock, and skips them when the installed version is current
-- (src/postgres/install.ts). Each file mirrors one file of ext/.
\ir util.sql
\ir schema.sql
SELECT honker_bootstrap();
\ir history.sql
\ir queue.sql
\ir queue_claim.sql
\ir queue_ack.sql
\ir queue_inspect.sql
\ir lifeline.sql
\ir notify.sql
\ir stream.sql
\ir stream_inspect.sql
\ir results.sql
\ir locks.sql
\ir cron.sql
\ir scheduler.sql
