/*
** results.c — task results kept for a while: _honker_results.
**
**   honker_result_save(job_id, value, ttl_s) -> 1
**     Stores value for job_id, replacing any earlier one (upsert; created_at
**     is the first save's). ttl_s > 0: the result expires at now + ttl_s;
**     ttl_s <= 0: it never expires (honker's rule); now + ttl_s must end by
**     9999-12-31T23:59:59Z (util.h HONKER_MAX_UNIX). job_id: any integer;
**     value: TEXT (may be empty; NULL is an error, as in honker).
**     Errors: honker_result_save: ttl_s must end by 9999-12-31T23:59:59Z
**     (got 9223372036854775807)
**     Example: SELECT honker_result_save(42, '{"ok":true}', 3600);  -> 1
**
**   honker_result_get(job_id) -> TEXT or NULL
**     The stored value, or NULL when there is none or it has expired
**     (expires_at <= now) — even before honker_result_sweep removed it.
**     Example: SELECT honker_result_get(42);  -> '{"ok":true}'
**
**   honker_result_sweep() -> INTEGER
**     Deletes every expired result (expires_at <= now); returns the count.
**     Example: SELECT honker_result_sweep();  -> 3
**
** Invariants: a result is visible exactly while expires_at IS NULL or
** expires_at > now; get and sweep agree on that boundary. Each function runs
** one statement (atomic on its own).
*/
#include "util.h"

/* ?3 is the absolute expiry or NULL (computed in C: overflow-checked). */
static const char RESULT_SAVE_SQL[] =
    "INSERT INTO _honker_results (job_id, value, expires_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (job_id) DO UPDATE SET value = excluded.value,"
    " expires_at = excluded.expires_at";

static const char RESULT_GET_SQL[] =
    "SELECT value FROM _honker_results"
    " WHERE job_id = ?1 AND (expires_at IS NULL OR expires_at > unixepoch())";

static const char RESULT_SWEEP_SQL[] =
    "DELETE FROM _honker_results WHERE expires_at IS NOT NULL AND expires_at <= unixepoch()";

static void honker_result_save_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 job_id, ttl_s, now, expires_at = 0;
  const char *value;
  int n_value;
  if (honker_arg_int(ctx, argv, 0, "job_id", &job_id)) return;
  if (honker_arg_text(ctx, argv, 1, "value", &value, &n_value)) return;
  if (honker_arg_int(ctx, argv, 2, "ttl_s", &ttl_s)) return;
  if (ttl_s > 0) {
    if (honker_now(ctx, &now)) return;
    if (honker_add_seconds(ctx, "ttl_s", now, ttl_s, &expires_at)) return;
  }
  sqlite3_stmt *s = honker_stmt(ctx, RESULT_SAVE_SQL);
  if (!s) return;
  sqlite3_bind_int64(s, 1, job_id);
  sqlite3_bind_text(s, 2, value, n_value, SQLITE_STATIC);
  if (ttl_s > 0) sqlite3_bind_int64(s, 3, expires_at); /* else NULL: never expires */
  if (honker_exec_stmt(ctx, s) != SQLITE_OK) return;
  sqlite3_result_int(ctx, 1);
}

static void honker_result_get_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 job_id;
  if (honker_arg_int(ctx, argv, 0, "job_id", &job_id)) return;
  sqlite3_stmt *s = honker_stmt(ctx, RESULT_GET_SQL);
  if (!s) return;
  sqlite3_bind_int64(s, 1, job_id);
  int rc = honker_step(ctx, s);
  if (rc == SQLITE_ROW) {
    sqlite3_result_value(ctx, sqlite3_column_value(s, 0)); /* copies before the reset */
  } else if (rc == SQLITE_DONE) {
    sqlite3_result_null(ctx);
  } else {
    return; /* error already set, statement reset */
  }
  honker_stmt_done(s);
}

static void honker_result_sweep_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  sqlite3_stmt *s = honker_stmt(ctx, RESULT_SWEEP_SQL);
  if (!s) return;
  if (honker_exec_stmt(ctx, s) != SQLITE_OK) return;
  sqlite3_result_int64(ctx, sqlite3_changes64(honker_db(ctx)));
}

static const HonkerFunc results_functions[] = {
    {"honker_result_save", 3, honker_result_save_fn, HONKER_FN_DB},
    {"honker_result_get", 1, honker_result_get_fn, HONKER_FN_DB},
    {"honker_result_sweep", 0, honker_result_sweep_fn, HONKER_FN_DB},
};

int honker_results_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, results_functions, HONKER_COUNT(results_functions),
                                   pzErrMsg);
}
