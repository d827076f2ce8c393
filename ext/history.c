/*
** history.c — per-minute throughput of every queue: how many jobs were
** completed, failed (an attempt that will be retried) and dead-lettered,
** counted by the extension itself on every settle path, so the counts
** include every host that settles jobs (the TypeScript client, raw SQL from
** Python or the sqlite3 CLI, honker 0.4's statements excepted: they bypass
** these functions). Ours; read by the dashboard (src/dashboard/).
**
**   honker_history(queue|NULL, since) -> JSON array of {"queue","minute",
**     "completed","failed","dead"}, one object per queue and minute with at
**     least one settle, ordered by minute then queue. minute is the unix
**     second at which that minute starts (a multiple of 60); only minutes
**     >= since are returned. queue NULL: every queue; else that queue only
**     (any non-empty TEXT). since: unix seconds, 0 .. 253402300799.
**     Rows are kept HISTORY_RETENTION_S (7 days): older ones are deleted.
**     Errors: "honker_history: queue must be non-empty TEXT or NULL (got
**     INTEGER 1)", "honker_history: since must be unix seconds up to ...".
**     Example: SELECT honker_history('emails', unixepoch() - 3600);
**
** What each settle counts (one of the three per job, in the queue's row of
** the current minute, inside the settling function's own transaction):
**   completed   honker_ack, honker_ack_batch (per acked job);
**   failed      honker_retry with attempts left (the job runs again);
**   dead        honker_fail, honker_retry on the final attempt, the jobs
**               honker_claim_batch buries ('max attempts exceeded') and
**               those honker_sweep_expired moves ('expired').
** Cancel, release, requeue and purge are operator actions, not settles.
**
** Cost (the reason for this shape; figures in docs/ARCHITECTURE.md): the
** table is WITHOUT ROWID keyed (minute, queue), so a settle is one UPDATE of
** a row that sits in the rightmost leaf, written in place: one more page in
** the settle's commit, the same page for every settle of that minute. Only
** the first settle of a queue in a minute inserts its row, and only then are
** rows older than the retention deleted: a range at the left edge of the
** same b-tree, usually empty, so the hot path never scans.
**
** Invariants: a row's counts only grow; every count is written in the
** transaction of the settle it counts (a rolled-back ack counts nothing).
*/
#include "history.h"

/* Seven days of minutes: 10,080 rows per queue at most, ~25 bytes each. */
#define HISTORY_RETENTION_S (7 * 24 * 3600)

static const char HISTORY_BUMP_SQL[] =
    "UPDATE _honker_history SET completed = completed + ?3, failed = failed + ?4,"
    " dead = dead + ?5 WHERE minute = ?1 AND queue = ?2";
static const char HISTORY_INSERT_SQL[] =
    "INSERT INTO _honker_history (minute, queue, completed, failed, dead)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char HISTORY_PRUNE_SQL[] = "DELETE FROM _honker_history WHERE minute < ?1";
static const char HISTORY_ALL_SQL[] =
    "SELECT queue, minute, completed, failed, dead FROM _honker_history"
    " WHERE minute >= ?1 ORDER BY minute, queue";
static const char HISTORY_QUEUE_SQL[] =
    "SELECT queue, minute, completed, failed, dead FROM _honker_history"
    " WHERE minute >= ?1 AND queue = ?2 ORDER BY minute";

/* Bind (minute, queue, completed, failed, dead) to s and run it. */
static int history_exec(sqlite3_context *ctx, const char *sql, sqlite3_int64 minute,
                        const char *queue, int n_queue, sqlite3_int64 completed,
                        sqlite3_int64 failed, sqlite3_int64 dead) {
  sqlite3_stmt *s = honker_stmt(ctx, sql);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, minute);
  sqlite3_bind_text(s, 2, queue, n_queue, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, completed);
  sqlite3_bind_int64(s, 4, failed);
  sqlite3_bind_int64(s, 5, dead);
  return honker_exec_stmt(ctx, s);
}

int history_count(sqlite3_context *ctx, const char *queue, int n_queue, sqlite3_int64 now,
                  sqlite3_int64 completed, sqlite3_int64 failed, sqlite3_int64 dead) {
  if (completed == 0 && failed == 0 && dead == 0) return SQLITE_OK;
  if (!queue) { /* a column's text that could not be converted */
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  sqlite3_int64 minute = now - now % 60;
  int rc = history_exec(ctx, HISTORY_BUMP_SQL, minute, queue, n_queue, completed, failed, dead);
  if (rc != SQLITE_OK || sqlite3_changes(honker_db(ctx)) > 0) return rc;
  /* The queue's first settle this minute: a new row, and the retention applied. */
  rc = history_exec(ctx, HISTORY_INSERT_SQL, minute, queue, n_queue, completed, failed, dead);
  if (rc != SQLITE_OK) return rc;
  sqlite3_stmt *s = honker_stmt(ctx, HISTORY_PRUNE_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, minute - HISTORY_RETENTION_S);
  return honker_exec_stmt(ctx, s);
}

static void honker_history_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  static const char *const keys[] = {"queue", "minute", "completed", "failed", "dead"};
  const char *queue;
  int n_queue;
  sqlite3_int64 since;
  if (honker_arg_name_or_null(ctx, argv, 0, "queue", &queue, &n_queue)) return;
  if (honker_arg_int(ctx, argv, 1, "since", &since)) return;
  if (honker_check_min(ctx, "since", since, 0)) return;
  if (honker_check_time(ctx, "since", since)) return;
  sqlite3_int64 version;
  if (honker_schema_version(ctx, &version)) return;
  /* A file not migrated yet has no history (schema.c "Old files"). */
  if (version < HONKER_SCHEMA_V3) {
    sqlite3_result_text(ctx, "[]", 2, SQLITE_STATIC);
    return;
  }
  sqlite3_stmt *s = honker_stmt(ctx, queue ? HISTORY_QUEUE_SQL : HISTORY_ALL_SQL);
  if (!s) return;
  sqlite3_bind_int64(s, 1, since);
  if (queue) sqlite3_bind_text(s, 2, queue, n_queue, SQLITE_TRANSIENT);
  honker_result_json_rows(ctx, s, keys, HONKER_COUNT(keys));
}

static const HonkerFunc history_functions[] = {
    {"honker_history", 2, honker_history_fn, HONKER_FN_DB},
};

int honker_history_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, history_functions, HONKER_COUNT(history_functions),
                                   pzErrMsg);
}
