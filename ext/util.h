/*
** util.h — what every concern of honker_ext shares: the per-connection state
** (a prepared-statement cache), the registration table, argument readers,
** the one error format, savepoints and JSON output.
**
** Where each part lives:
**   util.c        connection state, registration, errors, argument readers
**   stmt_cache.c  statement cache (and the anchor table that empties it), step helpers
**   write_lock.c  honker_write_begin / honker_write_end: write lock + savepoint
**   json.c        JSON output
**   conn.h        the layout of HonkerConn, private to util.c and stmt_cache.c
**
** Error format (spec/sql.md "Arguments"):
**   <sql_function>: <argument> must <rule> (got <value>)
**   <sql_function>: <sqlite3_errmsg>            (a failed inner statement)
*/
#ifndef HONKER_UTIL_H
#define HONKER_UTIL_H

#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3

#include <stdarg.h>
#include <stdint.h>

/* Per-connection state shared by every function registered on one sqlite3*. */
typedef struct HonkerConn HonkerConn;

/* One row of a concern's registration table. */
typedef struct HonkerFunc {
  const char *name; /* SQL name, e.g. "honker_claim_batch" */
  int n_arg;        /* arity; a function with optional arguments has one row per arity */
  void (*fn)(sqlite3_context *, int, sqlite3_value **);
  int flags; /* HONKER_FN_DB, SQLITE_INNOCUOUS or SQLITE_DIRECTONLY (below), ORed with UTF8 */
} HonkerFunc;

/* The flags of a row, pinned per function by test/extension.surface.txt.
**   HONKER_FN_DB       reads or writes the database, or reads the clock
**                      (unixepoch()): neither deterministic nor innocuous.
**                      Still callable from triggers and views (PRAGMA
**                      trusted_schema=ON, SQLite's default), so an AFTER INSERT
**                      trigger can enqueue or notify in the same transaction.
**   SQLITE_INNOCUOUS   no side effect; reads only its arguments (and the
**                      process's time zone, which is why honker_cron_next_after
**                      is not SQLITE_DETERMINISTIC: SQLite does not count
**                      'localtime' as deterministic either, since an index or
**                      CHECK built in one zone would be wrong in another).
**   SQLITE_DIRECTONLY  effects outside the database file (watcher threads,
**                      blocking waits): refused in triggers, views, CHECK
**                      constraints and generated columns.
** SQLite >= 3.38 defines all three; the fallbacks keep an older header building. */
#ifndef SQLITE_DETERMINISTIC
#define SQLITE_DETERMINISTIC 0x000000800
#endif
#ifndef SQLITE_DIRECTONLY
#define SQLITE_DIRECTONLY 0x000080000
#endif
#ifndef SQLITE_INNOCUOUS
#define SQLITE_INNOCUOUS 0x000200000
#endif
#define HONKER_FN_DB 0

#define HONKER_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* --- connection state and registration ------------------------------------ */

/* Create the state for db (refcount 1, owned by the caller until unref). */
HonkerConn *honker_conn_new(sqlite3 *db, char **pzErrMsg);
void honker_conn_unref(HonkerConn *conn);

/* Register every row of fns on db (SQLITE_UTF8 | row flags); on failure write
** "honker_ext: cannot register <name>: <error>" into *pzErrMsg. */
int honker_register_functions(sqlite3 *db, HonkerConn *conn, const HonkerFunc *fns, int count,
                              char **pzErrMsg);

/* The SQL name of the function being called (for error messages). */
const char *honker_fn_name(sqlite3_context *ctx);
sqlite3 *honker_db(sqlite3_context *ctx);

/* --- errors ---------------------------------------------------------------- */

/* Set a SQL error "<fn>: <formatted message>". */
void honker_result_errorf(sqlite3_context *ctx, const char *fmt, ...);
/* Report a failed sqlite3_* call: "<fn>: <sqlite3_errmsg>" with the code kept;
** SQLITE_NOMEM becomes sqlite3_result_error_nomem. Returns rc. */
int honker_result_sqlite_error(sqlite3_context *ctx, int rc);

/* --- arguments --------------------------------------------------------------
** Each reader takes the argument's name for its error message, sets the SQL
** error and returns non-zero when the value is not acceptable.
** Integers: INTEGER, or REAL with an integral value that fits in 64 bits.
** Text: TEXT only (no BLOB, no number coerced to text). */
int honker_arg_int(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                   sqlite3_int64 *out);
int honker_arg_int_or_null(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                           sqlite3_int64 *out, int *is_null);
int honker_arg_text(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                    const char **out, int *n_bytes);
int honker_arg_text_or_null(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                            const char **out, int *n_bytes);
/* A name that looks up rows (queue, channel, topic, lock, owner, consumer,
** worker_id, task): TEXT that is not empty, "<fn>: <name> must be non-empty
** TEXT (got ...)" otherwise. Blank is accepted here so that rows another
** writer stored under a blank name (honker 0.4 has no rule) can still be
** claimed, acked, read and removed. */
int honker_arg_name(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                    const char **out, int *n_bytes);
/* honker_arg_name, or NULL (*out = 0): "<fn>: <name> must be non-empty TEXT
** or NULL (got ...)" otherwise. For filters such as honker_history's queue. */
int honker_arg_name_or_null(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                            const char **out, int *n_bytes);
/* A name a row is stored under (enqueue's queue and key, claim's worker_id,
** notify's channel, publish's topic, a consumer, a lock and its owner, a
** rate limit, a scheduler task and its queue): honker_arg_name, and not blank,
** i.e. not only whitespace as JavaScript's \s sees it (so SQL and the
** TypeScript client agree): "<fn>: <name> must not be blank (got TEXT ' ')". */
int honker_arg_new_name(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                        const char **out, int *n_bytes);
/* "<fn>: <name> must be >= <min> (got <v>)" when v < min. */
int honker_check_min(sqlite3_context *ctx, const char *name, sqlite3_int64 v, sqlite3_int64 min);
/* "<fn>: <name> must be <= <max> (got <v>)" when v > max. */
int honker_check_max(sqlite3_context *ctx, const char *name, sqlite3_int64 v, sqlite3_int64 max);

/* --- time bound -------------------------------------------------------------
** No function computes or stores a time past HONKER_MAX_UNIX,
** 9999-12-31T23:59:59Z (cron.h's CRON_MAX_UNIX, the range of every date
** library): a run_at, expires_at, claim_expires_at or lease end beyond it is
** a mistake (milliseconds passed as seconds, Number.MAX_SAFE_INTEGER as
** "never"), not a plan. */
#define HONKER_MAX_UNIX INT64_C(253402300799)
#define HONKER_MAX_UNIX_TEXT "9999-12-31T23:59:59Z"
/* *out = a + b for a time a (0 .. HONKER_MAX_UNIX, usually now) and seconds b;
** fails with "<fn>: <name> must end by 9999-12-31T23:59:59Z (got <b>)" when
** the sum would pass HONKER_MAX_UNIX (and "<name> is too large" on a
** negative overflow). Every computed time goes through here. */
int honker_add_seconds(sqlite3_context *ctx, const char *name, sqlite3_int64 a, sqlite3_int64 b,
                       sqlite3_int64 *out);
/* A time given as an argument (run_at): "<fn>: <name> must be unix seconds up
** to 253402300799, i.e. 9999-12-31T23:59:59Z (got <v>)" when v passes
** HONKER_MAX_UNIX, with ", which looks like milliseconds: divide by 1000"
** when v / 1000 would fit. */
int honker_check_time(sqlite3_context *ctx, const char *name, sqlite3_int64 v);

/* --- statements -------------------------------------------------------------
** honker_stmt returns the cached statement for sql (compared by pointer: pass
** a static const char array), reset with its bindings cleared, or NULL with
** the SQL error already set. Statements are finalized when the connection
** closes. Always finish with honker_stmt_done (or a step helper) so a cached
** statement never holds a read snapshot between calls. */
sqlite3_stmt *honker_stmt(sqlite3_context *ctx, const char *sql);
/* honker_stmt for a statement that names a table the file may lack: when it
** does not prepare, NULL with no error set (out of memory still sets one). */
sqlite3_stmt *honker_stmt_quiet(sqlite3_context *ctx, const char *sql);
void honker_stmt_done(sqlite3_stmt *stmt);
/* Step once: SQLITE_ROW or SQLITE_DONE; any other code sets the SQL error,
** resets the statement and is returned. */
int honker_step(sqlite3_context *ctx, sqlite3_stmt *stmt);
/* Step to completion and reset; returns SQLITE_OK or the error (already set). */
int honker_exec_stmt(sqlite3_context *ctx, sqlite3_stmt *stmt);
/* Run a statement that yields one integer (or none: *out = dflt) and reset. */
int honker_query_int(sqlite3_context *ctx, sqlite3_stmt *stmt, sqlite3_int64 dflt,
                     sqlite3_int64 *out);

/* The connection's unixepoch(). */
int honker_now(sqlite3_context *ctx, sqlite3_int64 *now);

/* --- schema state (schema.c "Old files") ------------------------------------
** The version of our schema the main database holds: 0 when it has none of
** our additions (a file made by honker 0.4, or no honker tables at all).
** HONKER_SCHEMA_V1 is the first version with _honker_live.unique_key and
** .last_error, _honker_job_errors and _honker_meta. */
#define HONKER_SCHEMA_V1 1
/* The first version with _honker_history (history.c). */
#define HONKER_SCHEMA_V3 3
/* What a connection last read of its file's schema (kept in HonkerConn). */
typedef struct HonkerSchemaSeen {
  int known;             /* the fields below were read */
  sqlite3_int64 cookie;  /* PRAGMA schema_version when they were read */
  sqlite3_int64 version; /* our schema version then (0: none of ours) */
  int has_honker_tables; /* _honker_live existed then */
  int outdated;          /* and our version was older: the next write migrates it */
} HonkerSchemaSeen;
HonkerSchemaSeen *honker_conn_schema(sqlite3_context *ctx);
/* *version = the schema version of ours in the main database, read again
** only when PRAGMA schema_version changed since this connection last read
** it. A function that only reads picks its statements by it. */
int honker_schema_version(sqlite3_context *ctx, sqlite3_int64 *version);
/* Run by honker_write_begin once it holds the write lock: migrate a file
** that has honker's tables but an older schema of ours (or none: honker
** 0.4's) to the current one, as honker_bootstrap() would. Does nothing on a
** current file, on a file without honker's tables, or on a read-only one. */
int honker_schema_ensure(sqlite3_context *ctx);

/* --- atomicity (spec/sql.md "Atomicity") -------------------------------------
** honker_write_begin opens a SAVEPOINT and takes the write lock at once, so a
** function that reads before it writes never fails with SQLITE_BUSY_SNAPSHOT
** under contention (the busy handler applies to the first write only when no
** read snapshot is held yet). honker_write_end releases on rc == SQLITE_OK and
** rolls everything back otherwise; it returns the final rc. Called inside a
** statement that is itself writing (INSERT ... VALUES (honker_enqueue(...))),
** SQLite forbids savepoints: the outer statement is then the atomic unit. */
typedef struct HonkerTxn {
  int open; /* 1 when our savepoint is open */
} HonkerTxn;
int honker_write_begin(sqlite3_context *ctx, HonkerTxn *txn);
int honker_write_end(sqlite3_context *ctx, HonkerTxn *txn, int rc);

/* --- JSON output ------------------------------------------------------------- */
/* Append z (n bytes, or strlen when n < 0) as a JSON string literal. */
void honker_json_string(sqlite3_str *out, const char *z, int n);
/* Append column i of stmt as JSON: number, string, or null. */
void honker_json_column(sqlite3_str *out, sqlite3_stmt *stmt, int i);
/* The same for a protected value (e.g. from sqlite3_value_dup). */
void honker_json_value(sqlite3_str *out, sqlite3_value *v);
/* Append the current row of stmt as a JSON object: keys[i] -> column i. */
void honker_json_row(sqlite3_str *out, sqlite3_stmt *stmt, const char *const *keys, int n_keys);
/* Step stmt to its end; the result is a JSON array of its rows as objects
** (honker_json_row). Returns SQLITE_OK or the error (already set). */
int honker_result_json_rows(sqlite3_context *ctx, sqlite3_stmt *stmt, const char *const *keys,
                            int n_keys);
/* Finish out and make it the function's TEXT result (or report OOM). */
void honker_result_str(sqlite3_context *ctx, sqlite3_str *out);

/* --- one registration function per concern (called by honker_ext.c) ------- */
int honker_schema_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_queue_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_lifeline_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_notify_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_stream_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_results_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_locks_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_scheduler_register_functions(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_watcher_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_history_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_stream_inspect_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);
int honker_commit_signal_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg);

#endif /* HONKER_UTIL_H */
