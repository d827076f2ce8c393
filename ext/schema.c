/*
** schema.c — the on-disk format and honker_bootstrap().
**
**   honker_bootstrap() -> 1
**     Creates every table and index of spec/sql.md "Tables" if missing, adds
**     the columns older databases lack, and records the schema version.
**     Idempotent and safe to run from several processes at once: the work
**     runs under the write lock (BEGIN IMMEDIATE in autocommit mode, a
**     SAVEPOINT inside the caller's transaction), so a second bootstrapper
**     waits (busy_timeout) and then finds nothing to do. An already current
**     database is detected with reads only, so bootstrap also succeeds on a
**     read-only file that was bootstrapped before. On a file it cannot write
**     (read-only file or connection, PRAGMA query_only) that has honker's
**     tables but not all of ours, it writes nothing and returns 1, as honker
**     0.4's bootstrap does: readers do without our parts (below). A file
**     without honker's tables that cannot be written is an error.
**     Example: SELECT honker_bootstrap();
**
** The tables and honker's three partial indexes are honker 0.4's, column for
** column, so honker's own bindings and SQL keep working on our files. What we
** add (all ignorable by honker's explicit column lists):
**   - _honker_meta(key, value): schema_version (PRAGMA user_version is the
**     user's, not ours);
**   - _honker_live.unique_key, _honker_live.last_error (nullable, at the end);
**   - _honker_live_ready: pending rows only, so a claim never walks
**     in-flight rows (the claim-cost fix);
**   - _honker_live_unique: one live job per (queue, unique_key);
**   - _honker_job_errors: the error text of every failed attempt;
**   - _honker_dead_queue: dead rows by queue and age, for purge and stats;
**   - _honker_workers (schema 2): registered workers, one row per slot of the
**     lock file "<db>-honker" (worker liveness, lifeline.c). token is a random
**     number per process and copy of the library (it tells this process's
**     rows from those of a dead process whose pid it reuses).
**   - _honker_history (schema 3): jobs completed, failed and dead per queue
**     and minute, written by every settle (history.c), kept 7 days.
**
** Old files. A file honker 0.4 made (its tables, none of ours), or one of an
** older schema of ours, works with every function before anyone runs our
** bootstrap. One mechanism, per connection:
**   - honker_schema_version() reads our version (0: none of ours) once and
**     again only when PRAGMA schema_version (the schema cookie, which SQLite
**     bumps on every schema change in any process) differs from the one it
**     was read under (HonkerConn.schema);
**   - a function that writes migrates: honker_write_begin, once it holds the
**     write lock, runs honker_schema_ensure(), which brings a file that has
**     honker's tables up to HONKER_SCHEMA_VERSION with the same code as
**     bootstrap, inside the function's own transaction and before its own
**     statements (a rollback of the caller's transaction undoes both; the
**     next write migrates again). On a file it cannot write, a writer fails
**     with "attempt to write a readonly database", as its write would;
**   - a function that only reads never writes: where a statement names one
**     of our additions (today _honker_live.last_error: honker_get_job,
**     honker_job_list), it has a twin that names only honker 0.4's columns,
**     picked by the version (last_error reads as null). Functions that read
**     _honker_workers check that the table exists (lifeline.c).
** A statement that fails to prepare is never cached (stmt_cache.c), so the
** statements that name our additions prepare once the migration ran, and
** SQLite re-prepares cached ones after any schema change. Single-statement
** writers that only touch honker 0.4's columns (honker_enqueue, heartbeat,
** the scheduler's register and pause ...) do not need a migration and do not
** run one.
*/
#include "util.h"

#include <string.h>

/* Bump when the DDL below changes; bootstrap then migrates. */
#define HONKER_SCHEMA_VERSION 3 /* 2: _honker_workers; 3: _honker_history */

static const char SCHEMA_DDL[] =
    "CREATE TABLE IF NOT EXISTS _honker_live ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " queue TEXT NOT NULL,"
    " payload TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending',"
    " priority INTEGER NOT NULL DEFAULT 0,"
    " run_at INTEGER NOT NULL DEFAULT (unixepoch()),"
    " worker_id TEXT,"
    " claim_expires_at INTEGER,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " max_attempts INTEGER NOT NULL DEFAULT 3,"
    " created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
    " expires_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS _honker_live_claim"
    " ON _honker_live(queue, priority DESC, run_at, id)"
    " WHERE state IN ('pending', 'processing');"
    "CREATE INDEX IF NOT EXISTS _honker_live_pending_deadline"
    " ON _honker_live(queue, run_at) WHERE state = 'pending';"
    "CREATE INDEX IF NOT EXISTS _honker_live_processing_deadline"
    " ON _honker_live(queue, claim_expires_at) WHERE state = 'processing';"
    "CREATE TABLE IF NOT EXISTS _honker_dead ("
    " id INTEGER PRIMARY KEY,"
    " queue TEXT NOT NULL,"
    " payload TEXT NOT NULL,"
    " priority INTEGER NOT NULL DEFAULT 0,"
    " run_at INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " max_attempts INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
    " died_at INTEGER NOT NULL DEFAULT (unixepoch()));"
    "CREATE TABLE IF NOT EXISTS _honker_notifications ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " channel TEXT NOT NULL,"
    " payload TEXT NOT NULL,"
    " created_at INTEGER NOT NULL DEFAULT (unixepoch()));"
    "CREATE INDEX IF NOT EXISTS _honker_notifications_recent"
    " ON _honker_notifications(channel, id);"
    "CREATE TABLE IF NOT EXISTS _honker_locks ("
    " name TEXT PRIMARY KEY,"
    " owner TEXT NOT NULL,"
    " expires_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS _honker_rate_limits ("
    " name TEXT NOT NULL,"
    " window_start INTEGER NOT NULL,"
    " count INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (name, window_start));"
    "CREATE TABLE IF NOT EXISTS _honker_scheduler_tasks ("
    " name TEXT PRIMARY KEY,"
    " queue TEXT NOT NULL,"
    " cron_expr TEXT NOT NULL,"
    " payload TEXT NOT NULL,"
    " priority INTEGER NOT NULL DEFAULT 0,"
    " expires_s INTEGER,"
    " next_fire_at INTEGER NOT NULL,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " max_attempts INTEGER NOT NULL DEFAULT 3);"
    "CREATE TABLE IF NOT EXISTS _honker_results ("
    " job_id INTEGER PRIMARY KEY,"
    " value TEXT,"
    " created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
    " expires_at INTEGER);"
    "CREATE TABLE IF NOT EXISTS _honker_stream ("
    " offset INTEGER PRIMARY KEY AUTOINCREMENT,"
    " topic TEXT NOT NULL,"
    " key TEXT,"
    " payload TEXT NOT NULL,"
    " created_at INTEGER NOT NULL DEFAULT (unixepoch()));"
    "CREATE INDEX IF NOT EXISTS _honker_stream_topic ON _honker_stream(topic, offset);"
    "CREATE TABLE IF NOT EXISTS _honker_stream_consumers ("
    " name TEXT NOT NULL,"
    " topic TEXT NOT NULL,"
    " offset INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (name, topic));"
    /* ours */
    "CREATE TABLE IF NOT EXISTS _honker_meta ("
    " key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS _honker_job_errors ("
    " job_id INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " error TEXT NOT NULL,"
    " created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
    " PRIMARY KEY (job_id, attempt));"
    "CREATE INDEX IF NOT EXISTS _honker_dead_queue ON _honker_dead(queue, died_at);"
    "CREATE TABLE IF NOT EXISTS _honker_workers ("
    " worker_id TEXT NOT NULL,"
    " slot INTEGER PRIMARY KEY,"
    " pid INTEGER NOT NULL,"
    " host TEXT NOT NULL,"
    " registered_at INTEGER NOT NULL,"
    " token INTEGER NOT NULL);"
    /* schema 3: per-minute settle counts (history.c); WITHOUT ROWID so a
    ** settle updates its minute's row in place in the rightmost leaf. */
    "CREATE TABLE IF NOT EXISTS _honker_history ("
    " minute INTEGER NOT NULL,"
    " queue TEXT NOT NULL,"
    " completed INTEGER NOT NULL DEFAULT 0,"
    " failed INTEGER NOT NULL DEFAULT 0,"
    " dead INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (minute, queue)) WITHOUT ROWID;";

/* Indexes on columns that older databases only get from the migration below. */
static const char SCHEMA_DDL_AFTER_MIGRATION[] =
    "CREATE INDEX IF NOT EXISTS _honker_live_ready"
    " ON _honker_live(queue, priority DESC, run_at, id) WHERE state = 'pending';"
    "CREATE UNIQUE INDEX IF NOT EXISTS _honker_live_unique"
    " ON _honker_live(queue, unique_key) WHERE unique_key IS NOT NULL;";

/* Columns added after a table's first release: {table, column, definition}. */
static const struct {
  const char *table;
  const char *column;
  const char *definition;
} schema_added_columns[] = {
    {"_honker_scheduler_tasks", "enabled", "INTEGER NOT NULL DEFAULT 1"},
    {"_honker_scheduler_tasks", "max_attempts", "INTEGER NOT NULL DEFAULT 3"},
    {"_honker_live", "unique_key", "TEXT"},
    {"_honker_live", "last_error", "TEXT"},
};

/* The schema cookie: SQLite bumps it on every schema change, in any process. */
static const char SCHEMA_COOKIE_SQL[] = "PRAGMA schema_version";
static const char SCHEMA_TABLES_SQL[] =
    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_honker_live'),"
    " EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_honker_meta')";
static const char SCHEMA_VERSION_SQL[] =
    "SELECT CAST(value AS INTEGER) FROM _honker_meta WHERE key = 'schema_version'";
static const char SCHEMA_QUERY_ONLY_SQL[] = "PRAGMA query_only";
static const char SCHEMA_COLUMN_EXISTS_SQL[] =
    "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2";
static const char SCHEMA_SET_VERSION_SQL[] =
    "INSERT INTO _honker_meta(key, value) VALUES ('schema_version', ?1)"
    " ON CONFLICT(key) DO UPDATE SET value = excluded.value";

int honker_schema_version(sqlite3_context *ctx, sqlite3_int64 *version) {
  HonkerSchemaSeen *seen = honker_conn_schema(ctx);
  sqlite3_int64 cookie;
  sqlite3_stmt *s = honker_stmt(ctx, SCHEMA_COOKIE_SQL);
  if (!s || !seen) return SQLITE_ERROR; /* honker_stmt reported a missing state */
  int rc = honker_query_int(ctx, s, 0, &cookie);
  if (rc != SQLITE_OK) return rc;
  if (seen->known && seen->cookie == cookie) {
    *version = seen->version;
    return SQLITE_OK;
  }
  if (!(s = honker_stmt(ctx, SCHEMA_TABLES_SQL))) return SQLITE_ERROR;
  if ((rc = honker_step(ctx, s)) != SQLITE_ROW) {
    if (rc == SQLITE_DONE) honker_stmt_done(s);
    return rc == SQLITE_DONE ? SQLITE_ERROR : rc;
  }
  int has_live = sqlite3_column_int(s, 0), has_meta = sqlite3_column_int(s, 1);
  honker_stmt_done(s);
  *version = 0;
  if (has_meta) {
    if (!(s = honker_stmt(ctx, SCHEMA_VERSION_SQL))) return SQLITE_ERROR;
    if ((rc = honker_query_int(ctx, s, 0, version)) != SQLITE_OK) return rc;
  }
  /* Read after the cookie: a change in between only makes the next call read again. */
  seen->known = 1;
  seen->cookie = cookie;
  seen->version = *version;
  seen->has_honker_tables = has_live;
  seen->outdated = has_live && *version < HONKER_SCHEMA_VERSION;
  return SQLITE_OK;
}

/* *writable = 0 when this connection cannot write the main database: a
** read-only file or connection, or PRAGMA query_only. */
static int schema_writable(sqlite3_context *ctx, int *writable) {
  sqlite3_int64 query_only = 0;
  *writable = sqlite3_db_readonly(honker_db(ctx), "main") == 0;
  if (!*writable) return SQLITE_OK;
  sqlite3_stmt *s = honker_stmt(ctx, SCHEMA_QUERY_ONLY_SQL);
  if (!s) return SQLITE_ERROR;
  int rc = honker_query_int(ctx, s, 0, &query_only);
  *writable = !query_only;
  return rc;
}

static int schema_exec(sqlite3_context *ctx, const char *sql) {
  char *err = 0;
  int rc = sqlite3_exec(honker_db(ctx), sql, 0, 0, &err);
  if (rc != SQLITE_OK) {
    honker_result_errorf(ctx, "%s", err ? err : sqlite3_errstr(rc));
    sqlite3_result_error_code(ctx, rc);
  }
  sqlite3_free(err);
  return rc;
}

/* ALTER TABLE ADD COLUMN for each column an older database lacks. We hold the
** write lock, but a concurrent bootstrap that got there first is tolerated. */
static int schema_add_missing_columns(sqlite3_context *ctx) {
  for (int i = 0; i < HONKER_COUNT(schema_added_columns); i++) {
    sqlite3_stmt *s = honker_stmt(ctx, SCHEMA_COLUMN_EXISTS_SQL);
    if (!s) return SQLITE_ERROR;
    sqlite3_bind_text(s, 1, schema_added_columns[i].table, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, schema_added_columns[i].column, -1, SQLITE_STATIC);
    sqlite3_int64 present = 0;
    int rc = honker_query_int(ctx, s, 0, &present);
    if (rc != SQLITE_OK) return rc;
    if (present) continue;
    char *sql =
        sqlite3_mprintf("ALTER TABLE \"%w\" ADD COLUMN \"%w\" %s", schema_added_columns[i].table,
                        schema_added_columns[i].column, schema_added_columns[i].definition);
    if (!sql) {
      sqlite3_result_error_nomem(ctx);
      return SQLITE_NOMEM;
    }
    char *err = 0;
    rc = sqlite3_exec(honker_db(ctx), sql, 0, 0, &err);
    sqlite3_free(sql);
    if (rc != SQLITE_OK && !(err && strstr(err, "duplicate column"))) {
      honker_result_errorf(ctx, "%s", err ? err : sqlite3_errstr(rc));
      sqlite3_result_error_code(ctx, rc);
      sqlite3_free(err);
      return rc;
    }
    sqlite3_free(err);
  }
  return SQLITE_OK;
}

/* Bring the schema to HONKER_SCHEMA_VERSION. The caller holds the write lock. */
static int schema_migrate(sqlite3_context *ctx) {
  int rc = schema_exec(ctx, SCHEMA_DDL);
  if (rc == SQLITE_OK) rc = schema_add_missing_columns(ctx);
  if (rc == SQLITE_OK) rc = schema_exec(ctx, SCHEMA_DDL_AFTER_MIGRATION);
  if (rc == SQLITE_OK) {
    sqlite3_stmt *s = honker_stmt(ctx, SCHEMA_SET_VERSION_SQL);
    if (!s) {
      rc = SQLITE_ERROR;
    } else {
      sqlite3_bind_int(s, 1, HONKER_SCHEMA_VERSION);
      rc = honker_exec_stmt(ctx, s);
    }
  }
  /* Read the schema again next time: this work may yet be rolled back with
  ** the caller's transaction. */
  honker_conn_schema(ctx)->known = 0;
  return rc;
}

int honker_schema_ensure(sqlite3_context *ctx) {
  sqlite3_int64 version;
  int writable;
  int rc = honker_schema_version(ctx, &version);
  if (rc != SQLITE_OK) return rc;
  if (!honker_conn_schema(ctx)->outdated) return SQLITE_OK;
  if ((rc = schema_writable(ctx, &writable)) != SQLITE_OK) return rc;
  if (writable) return schema_migrate(ctx);
  /* Writing needs our tables, which cannot be made here: fail as the write would. */
  honker_result_errorf(ctx, "%s", sqlite3_errstr(SQLITE_READONLY));
  sqlite3_result_error_code(ctx, SQLITE_READONLY);
  return SQLITE_READONLY;
}

static void honker_bootstrap_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  sqlite3_int64 version = 0;
  int writable;
  if (honker_schema_version(ctx, &version) != SQLITE_OK) return;
  if (version == HONKER_SCHEMA_VERSION) {
    sqlite3_result_int(ctx, 1); /* current: reads only */
    return;
  }
  if (version > HONKER_SCHEMA_VERSION) {
    honker_result_errorf(ctx,
                         "database schema version %lld is newer than this honker_ext (%d); "
                         "upgrade libhonker_ext",
                         version, HONKER_SCHEMA_VERSION);
    return;
  }
  if (schema_writable(ctx, &writable) != SQLITE_OK) return;
  if (!writable && honker_conn_schema(ctx)->has_honker_tables) {
    sqlite3_result_int(ctx, 1); /* honker 0.4's answer: readers do without our parts */
    return;
  }
  HonkerTxn txn;
  int rc = honker_write_begin(ctx, &txn); /* migrates a file that has honker's tables */
  if (rc != SQLITE_OK) return;
  rc = honker_schema_version(ctx, &version);
  if (rc == SQLITE_OK && version < HONKER_SCHEMA_VERSION) rc = schema_migrate(ctx);
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, 1);
}

static const HonkerFunc schema_functions[] = {
    {"honker_bootstrap", 0, honker_bootstrap_fn, HONKER_FN_DB},
};

int honker_schema_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, schema_functions, HONKER_COUNT(schema_functions),
                                   pzErrMsg);
}
