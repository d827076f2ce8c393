/*
** queue_inspect.c — read-only views of every queue, for operators (the
** `honker` command line: `honker stats`, `honker jobs`). Registered from
** queue.c's table. Nothing here writes or takes the write lock.
**
**   honker_queues_stats() -> JSON array, one object per queue that has a live
**     or dead job, ordered by queue name:
**     {"queue","pending","scheduled","processing","dead","oldest_pending_at"}
**     with the counts of honker_queue_stats(queue) and oldest_pending_at = the
**     smallest run_at of the queue's due pending jobs (unix s), null when none
**     is due. Queue names are found by skip-scans of the indexes
**     _honker_live_claim and _honker_dead_queue (one index seek per distinct
**     queue, never a table scan); each count is an index range of that queue.
**     Example: SELECT value ->> '$.queue' FROM json_each(honker_queues_stats());
**
**   honker_job_list(queue, state|NULL, limit [, offset]) -> JSON array of at
**     most limit (>= 0) jobs of queue, after skipping the first offset (>= 0,
**     default 0: pages for the dashboard; each page is read afresh):
**       NULL          every live job (pending, scheduled, processing), by id;
**       'pending'     due pending jobs in claim order (priority DESC, run_at, id);
**       'scheduled'   pending jobs with run_at > now, soonest first;
**       'processing'  claimed jobs, soonest claim expiry first;
**     each with honker_get_job's keys {"id","queue","payload","state",
**     "priority","run_at","worker_id","claim_expires_at","attempts",
**     "max_attempts","created_at","expires_at","last_error"} (state as stored:
**     a scheduled job is "pending");
**       'dead'        dead jobs, newest first, with honker_dead_list's keys.
**     Any other state is an error: "honker_job_list: state must be one of
**     pending, scheduled, processing, dead or NULL (got TEXT 'x')".
**     Example: SELECT honker_job_list('emails', 'processing', 20);
**
**   honker_job_errors(id) -> JSON array of {"attempt","error","created_at"},
**     the error of every failed attempt of job id (live or dead), by attempt;
**     '[]' for a job without errors or an unknown id. Acked and cancelled
**     jobs have none (their history goes with them).
**     Example: SELECT honker_job_errors(17);
*/
#include "util.h"

#include <string.h>

#include "queue.h"

/* Distinct queue names by skip-scan: each step is one seek past the previous
** name in an index whose first column is queue. */
static const char QUEUES_STATS_SQL[] =
    "WITH RECURSIVE"
    " lq(name) AS ("
    "  SELECT (SELECT min(queue) FROM _honker_live WHERE state IN ('pending', 'processing'))"
    "  UNION ALL"
    "  SELECT (SELECT min(queue) FROM _honker_live"
    "          WHERE state IN ('pending', 'processing') AND queue > lq.name)"
    "  FROM lq WHERE lq.name IS NOT NULL),"
    " dq(name) AS ("
    "  SELECT (SELECT min(queue) FROM _honker_dead)"
    "  UNION ALL"
    "  SELECT (SELECT min(queue) FROM _honker_dead WHERE queue > dq.name)"
    "  FROM dq WHERE dq.name IS NOT NULL),"
    " names(name) AS ("
    "  SELECT name FROM lq WHERE name IS NOT NULL"
    "  UNION SELECT name FROM dq WHERE name IS NOT NULL)"
    " SELECT name,"
    "  (SELECT count(*) FROM _honker_live"
    "    WHERE queue = names.name AND state = 'pending' AND run_at <= ?1),"
    "  (SELECT count(*) FROM _honker_live"
    "    WHERE queue = names.name AND state = 'pending' AND run_at > ?1),"
    "  (SELECT count(*) FROM _honker_live"
    "    WHERE queue = names.name AND state = 'processing'),"
    "  (SELECT count(*) FROM _honker_dead WHERE queue = names.name),"
    "  (SELECT min(run_at) FROM _honker_live"
    "    WHERE queue = names.name AND state = 'pending' AND run_at <= ?1)"
    " FROM names ORDER BY name";

#define INSPECT_LIVE_COLUMNS                                                         \
  "SELECT id, queue, payload, state, priority, run_at, worker_id, claim_expires_at," \
  " attempts, max_attempts, created_at, expires_at, last_error FROM _honker_live"
/* A file of honker 0.4 not migrated yet (schema.c "Old files"): no last_error column. */
#define INSPECT_LIVE_COLUMNS_04                                                      \
  "SELECT id, queue, payload, state, priority, run_at, worker_id, claim_expires_at," \
  " attempts, max_attempts, created_at, expires_at, NULL FROM _honker_live"
#define LIST_ALL_WHERE \
  " WHERE queue = ?1 AND state IN ('pending', 'processing') ORDER BY id LIMIT ?3 OFFSET ?4"
#define LIST_PENDING_WHERE                                   \
  " WHERE queue = ?1 AND state = 'pending' AND run_at <= ?2" \
  " ORDER BY priority DESC, run_at, id LIMIT ?3 OFFSET ?4"
#define LIST_SCHEDULED_WHERE \
  " WHERE queue = ?1 AND state = 'pending' AND run_at > ?2 ORDER BY run_at, id LIMIT ?3 OFFSET ?4"
#define LIST_PROCESSING_WHERE \
  " WHERE queue = ?1 AND state = 'processing' ORDER BY claim_expires_at, id LIMIT ?3 OFFSET ?4"
static const char LIST_ALL_SQL[] = INSPECT_LIVE_COLUMNS LIST_ALL_WHERE;
static const char LIST_PENDING_SQL[] = INSPECT_LIVE_COLUMNS LIST_PENDING_WHERE;
static const char LIST_SCHEDULED_SQL[] = INSPECT_LIVE_COLUMNS LIST_SCHEDULED_WHERE;
static const char LIST_PROCESSING_SQL[] = INSPECT_LIVE_COLUMNS LIST_PROCESSING_WHERE;
static const char LIST_ALL_04_SQL[] = INSPECT_LIVE_COLUMNS_04 LIST_ALL_WHERE;
static const char LIST_PENDING_04_SQL[] = INSPECT_LIVE_COLUMNS_04 LIST_PENDING_WHERE;
static const char LIST_SCHEDULED_04_SQL[] = INSPECT_LIVE_COLUMNS_04 LIST_SCHEDULED_WHERE;
static const char LIST_PROCESSING_04_SQL[] = INSPECT_LIVE_COLUMNS_04 LIST_PROCESSING_WHERE;
static const char LIST_DEAD_SQL[] =
    "SELECT id, queue, payload, priority, run_at, attempts, max_attempts, last_error, created_at,"
    " died_at FROM _honker_dead WHERE queue = ?1"
    " ORDER BY died_at DESC, id DESC LIMIT ?3 OFFSET ?4";

static const char JOB_ERRORS_SQL[] =
    "SELECT attempt, error, created_at FROM _honker_job_errors WHERE job_id = ?1 ORDER BY attempt";

static const char *const inspect_live_keys[] = {
    "id",         "queue",      "payload",          "state",    "priority",
    "run_at",     "worker_id",  "claim_expires_at", "attempts", "max_attempts",
    "created_at", "expires_at", "last_error"};
static const char *const inspect_dead_keys[] = {
    "id",       "queue",        "payload",    "priority",   "run_at",
    "attempts", "max_attempts", "last_error", "created_at", "died_at"};

void honker_queues_stats_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  static const char *const keys[] = {"queue",      "pending", "scheduled",
                                     "processing", "dead",    "oldest_pending_at"};
  sqlite3_int64 now;
  if (honker_now(ctx, &now)) return;
  sqlite3_stmt *s = honker_stmt(ctx, QUEUES_STATS_SQL);
  if (!s) return;
  sqlite3_bind_int64(s, 1, now);
  honker_result_json_rows(ctx, s, keys, HONKER_COUNT(keys));
}

void honker_job_list_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  /* The live-job statements by state; for a file of honker 0.4 not migrated yet
  ** the twins without last_error (schema.c "Old files"). */
  static const char *const live_sql[] = {LIST_ALL_SQL, LIST_PENDING_SQL, LIST_SCHEDULED_SQL,
                                         LIST_PROCESSING_SQL};
  static const char *const live_04_sql[] = {LIST_ALL_04_SQL, LIST_PENDING_04_SQL,
                                            LIST_SCHEDULED_04_SQL, LIST_PROCESSING_04_SQL};
  const char *queue, *state;
  int n_queue, n_state, which = 0; /* live_sql's index, or -1 for dead */
  sqlite3_int64 limit, offset = 0, now, version;
  if (honker_arg_name(ctx, argv, 0, "queue", &queue, &n_queue)) return;
  if (honker_arg_text_or_null(ctx, argv, 1, "state", &state, &n_state)) return;
  if (honker_arg_int(ctx, argv, 2, "limit", &limit)) return;
  if (honker_check_min(ctx, "limit", limit, 0)) return;
  if (argc > 3) {
    if (honker_arg_int(ctx, argv, 3, "offset", &offset)) return;
    if (honker_check_min(ctx, "offset", offset, 0)) return;
  }
  if (state) {
    /* Compare whole byte strings: "pending\0x" is not "pending". */
    if (n_state == 7 && memcmp(state, "pending", 7) == 0) {
      which = 1;
    } else if (n_state == 9 && memcmp(state, "scheduled", 9) == 0) {
      which = 2;
    } else if (n_state == 10 && memcmp(state, "processing", 10) == 0) {
      which = 3;
    } else if (n_state == 4 && memcmp(state, "dead", 4) == 0) {
      which = -1;
    } else {
      honker_result_errorf(ctx,
                           "state must be one of pending, scheduled, processing, dead or NULL"
                           " (got TEXT '%!.40s%s')",
                           state, sqlite3_value_bytes(argv[1]) > 40 ? "..." : "");
      return;
    }
  }
  if (honker_now(ctx, &now)) return;
  if (honker_schema_version(ctx, &version)) return;
  sqlite3_stmt *s;
  if (which < 0) {
    s = honker_stmt(ctx, LIST_DEAD_SQL);
  } else if (version < HONKER_SCHEMA_V1) {
    s = honker_stmt(ctx, live_04_sql[which]);
  } else {
    s = honker_stmt(ctx, live_sql[which]);
  }
  if (!s) return;
  sqlite3_bind_text(s, 1, queue, n_queue, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, now);
  sqlite3_bind_int64(s, 3, limit);
  sqlite3_bind_int64(s, 4, offset);
  if (which < 0) {
    honker_result_json_rows(ctx, s, inspect_dead_keys, HONKER_COUNT(inspect_dead_keys));
  } else {
    honker_result_json_rows(ctx, s, inspect_live_keys, HONKER_COUNT(inspect_live_keys));
  }
}

void honker_job_errors_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  static const char *const keys[] = {"attempt", "error", "created_at"};
  sqlite3_int64 id;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  sqlite3_int64 version;
  if (honker_schema_version(ctx, &version)) return;
  /* honker 0.4 keeps no error history (schema.c "Old files"). */
  if (version < HONKER_SCHEMA_V1) {
    sqlite3_result_text(ctx, "[]", 2, SQLITE_STATIC);
    return;
  }
  sqlite3_stmt *s = honker_stmt(ctx, JOB_ERRORS_SQL);
  if (!s) return;
  sqlite3_bind_int64(s, 1, id);
  honker_result_json_rows(ctx, s, keys, HONKER_COUNT(keys));
}
