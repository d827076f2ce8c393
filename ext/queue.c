/*
** queue.c — the durable job queue: enqueue, inspect, cancel, dead letters
** (spec/sql.md "Functions honker 0.4 has" > Queue, "Additions", "Fixes").
** The claim path lives in queue_claim.c, ack/retry/fail/heartbeat in
** queue_ack.c, the operators' views (honker_queues_stats, honker_job_list)
** in queue_inspect.c; this file registers all of them.
**
** Argument rules shared by every queue function (spec/sql.md "Arguments"):
**   queue, worker_id, key   non-empty TEXT; where a row is stored under the
**                           name (enqueue's queue and key, claim's worker_id)
**                           also not blank: "honker_enqueue: queue must not be
**                           blank (got TEXT '  ')". Functions that only find
**                           rows take any non-empty name, so jobs another
**                           writer stored under a blank one stay reachable.
**   payload, error          any TEXT (opaque: stored as given, not parsed as JSON)
**   id                      any integer (a missing id is a 0 / '' result)
**   integers                INTEGER or integral REAL (3.0 ok, 3.5 an error)
**   times                   no time is stored past 9999-12-31T23:59:59Z
**                           (253402300799, util.h HONKER_MAX_UNIX): now + a
**                           number of seconds must end by then ("honker_enqueue:
**                           delay must end by 9999-12-31T23:59:59Z (got
**                           9007199254740991)"), and so must a run_at
**
**   honker_enqueue(queue, payload, run_at|NULL, delay|NULL, priority,
**                  max_attempts, expires|NULL) -> new job id
**     run_at (unix s, any integer up to 253402300799; a larger one is an
**     error that names milliseconds when it looks like them) is used when
**     delay is NULL; delay (s, >= 0) wins over run_at: run_at = now + delay;
**     both NULL: run_at = now. priority: any integer, higher is claimed
**     first. max_attempts >= 1. expires (s, >= 1): expires_at = now +
**     expires, NULL = never. run_at and expires_at end by 9999-12-31T23:59:59Z.
**     Writes no notification row (the commit wakes watchers).
**     Example: SELECT honker_enqueue('emails', '{"to":"a@b"}', NULL, 60, 0, 3, NULL);
**
**   honker_enqueue_unique(queue, key, payload, run_at|NULL, delay|NULL,
**                         priority, max_attempts, expires|NULL) -> id
**     As honker_enqueue, but at most one live job holds (queue, key): when one
**     already does, nothing is written and its id is returned (its payload,
**     schedule and priority are left as they are); such a duplicate consumes
**     no id. The key is free again once that job is acked, failed, cancelled,
**     swept or dead-lettered.
**     Example: SELECT honker_enqueue_unique('mail', 'user:42', '{}', NULL, NULL, 0, 3, NULL);
**
**   honker_cancel(id) -> 1 if a live job (pending or processing) was deleted, else 0.
**     A worker holding it then gets 0 from ack/retry/fail/heartbeat.
**     Example: SELECT honker_cancel(17);
**
**   honker_get_job(id) -> JSON object {"id","queue","payload","state","priority",
**     "run_at","worker_id","claim_expires_at","attempts","max_attempts",
**     "created_at","expires_at","last_error"} (payload as a JSON string, NULL as
**     null), or '' when no live job has that id. last_error is the error given
**     to the latest honker_retry (or the dead row's, after honker_dead_requeue).
**     Example: SELECT json_extract(honker_get_job(17), '$.state');
**
**   honker_queue_stats(queue) -> JSON {"pending","scheduled","processing","dead"}:
**     pending = pending rows with run_at <= now (due; expired or exhausted rows
**     not yet swept are counted), scheduled = pending rows with run_at > now,
**     processing = claimed rows (valid or lapsed claims), dead = _honker_dead
**     rows of the queue. Each count is an index range of that queue only.
**     Example: SELECT honker_queue_stats('emails');
**
**   honker_dead_requeue(id) -> 1 if dead job id went back to _honker_live, else 0.
**     Same id, queue, payload, priority, max_attempts, created_at; state pending,
**     attempts 0, run_at now, last_error kept, no expiry, no unique key. Its
**     error history (_honker_job_errors) is kept. A live row with that id
**     (only possible by hand) is an error and changes nothing.
**     Example: SELECT honker_dead_requeue(17);
**
**   honker_dead_purge(queue, older_than_s) -> rows deleted: dead jobs of queue
**     with died_at <= now - older_than_s (>= 0; 0 purges all), and their errors.
**     Also deletes a batch of orphaned error rows (any queue): "Orphaned errors".
**     Example: SELECT honker_dead_purge('emails', 7 * 86400);
**
**   honker_dead_list(queue, limit) -> JSON array of the queue's newest dead jobs
**     (died_at DESC, id DESC), at most limit (>= 0), each {"id","queue",
**     "payload","priority","run_at","attempts","max_attempts","last_error",
**     "created_at","died_at"}. For src/queue.ts (queue.dead.list); not in
**     honker 0.4. Example: SELECT honker_dead_list('emails', 20);
**
**   honker_dead_get(id) -> JSON object of the dead job (the keys of
**     honker_dead_list), or '' when id is not dead (as honker_get_job does for
**     live jobs). Ours. Example: SELECT honker_dead_get(17);
**
**   honker_run_now(id) -> 1 when pending job id was waiting for a later run_at
**     and is now due (run_at = now), else 0 (due already, claimed, dead or
**     unknown). Ours: the dashboard's "retry now" for a job waiting out a
**     retry delay or scheduled for later. Its place in line: run_at now.
**     Example: SELECT honker_run_now(17);
**
** Invariants (with queue_claim.c and queue_ack.c):
**   - a pending row has worker_id and claim_expires_at NULL; a processing row
**     has both set (claims are only ever made by honker_claim_batch);
**   - a job id is in _honker_live or in _honker_dead, never both: every move
**     between them runs inside one honker_write_begin/end;
**   - our functions leave _honker_job_errors rows only for live or dead
**     jobs: ack and cancel delete them with the job, dead_purge with the dead
**     row. Another writer (honker 0.4's ack and cancel, raw SQL) can leave
**     orphans: see "Orphaned errors".
**
** Orphaned errors. honker 0.4 deletes an acked or cancelled job with a plain
** DELETE and knows nothing of _honker_job_errors, so the errors we recorded
** for it stay behind. Job ids are never reused (AUTOINCREMENT), so an orphan
** is harmless but takes room. honker_dead_purge and honker_sweep_expired
** (housekeeping, under their write lock) delete them, whatever their queue,
** in bounded batches: each call looks at the next 1000 job ids that have
** errors after where this connection's previous call stopped, deletes the
** rows of those that are neither live nor dead (two primary-key lookups per
** job), and starts again from the first job once it reached the last. With
** fewer than 1000 such jobs every call looks at all of them. Nothing is
** added to an ack.
*/
#include "util.h"

#include "queue.h"

/* No RETURNING: the new id is sqlite3_last_insert_rowid() (RETURNING costs a
** third of an enqueue: it buffers the row in an ephemeral table). */
static const char ENQUEUE_SQL[] =
    "INSERT INTO _honker_live (queue, payload, run_at, priority, max_attempts, expires_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
/* The conflict target names the partial unique index (queue, unique_key). */
static const char ENQUEUE_UNIQUE_SQL[] =
    "INSERT INTO _honker_live"
    " (queue, payload, run_at, priority, max_attempts, expires_at, unique_key)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " ON CONFLICT (queue, unique_key) WHERE unique_key IS NOT NULL DO NOTHING";
static const char UNIQUE_HOLDER_SQL[] =
    "SELECT id FROM _honker_live WHERE queue = ?1 AND unique_key = ?2";
static const char CANCEL_SQL[] = "DELETE FROM _honker_live WHERE id = ?1";
static const char RUN_NOW_SQL[] =
    "UPDATE _honker_live SET run_at = ?2 WHERE id = ?1 AND state = 'pending' AND run_at > ?2";
static const char FORGET_ERRORS_SQL[] = "DELETE FROM _honker_job_errors WHERE job_id = ?1";
/* Orphaned errors: how many of the next ?2 job ids with errors after ?1 there
** are, and the last of them. */
static const char ORPHAN_WINDOW_SQL[] =
    "SELECT count(*), max(job_id) FROM (SELECT DISTINCT job_id FROM _honker_job_errors"
    " WHERE job_id > ?1 ORDER BY job_id LIMIT ?2)";
static const char ORPHAN_DELETE_SQL[] =
    "DELETE FROM _honker_job_errors WHERE job_id > ?1 AND job_id <= ?2"
    " AND NOT EXISTS (SELECT 1 FROM _honker_live WHERE id = job_id)"
    " AND NOT EXISTS (SELECT 1 FROM _honker_dead WHERE id = job_id)";
#define GET_JOB_COLUMNS                                                              \
  "SELECT id, queue, payload, state, priority, run_at, worker_id, claim_expires_at," \
  " attempts, max_attempts, created_at, expires_at,"
static const char GET_JOB_SQL[] = GET_JOB_COLUMNS " last_error FROM _honker_live WHERE id = ?1";
/* A file of honker 0.4 not migrated yet (schema.c "Old files"): no last_error column. */
static const char GET_JOB_04_SQL[] = GET_JOB_COLUMNS " NULL FROM _honker_live WHERE id = ?1";
static const char STATS_SQL[] =
    "SELECT"
    " (SELECT count(*) FROM _honker_live"
    "   WHERE queue = ?1 AND state = 'pending' AND run_at <= ?2),"
    " (SELECT count(*) FROM _honker_live"
    "   WHERE queue = ?1 AND state = 'pending' AND run_at > ?2),"
    " (SELECT count(*) FROM _honker_live"
    "   WHERE queue = ?1 AND state = 'processing'),"
    " (SELECT count(*) FROM _honker_dead WHERE queue = ?1)";
static const char BURY_INSERT_SQL[] =
    "INSERT INTO _honker_dead (id, queue, payload, priority, run_at, max_attempts, attempts,"
    " last_error, created_at, died_at)"
    " SELECT id, queue, payload, priority, run_at, max_attempts, attempts, ?2, created_at, ?3"
    " FROM _honker_live WHERE id = ?1";
static const char BURY_DELETE_SQL[] = "DELETE FROM _honker_live WHERE id = ?1";
static const char RECORD_ERROR_SQL[] =
    "INSERT INTO _honker_job_errors (job_id, attempt, error, created_at) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (job_id, attempt) DO UPDATE SET error = excluded.error,"
    " created_at = excluded.created_at";
static const char REQUEUE_INSERT_SQL[] =
    "INSERT INTO _honker_live (id, queue, payload, state, priority, run_at, attempts,"
    " max_attempts, created_at, last_error)"
    " SELECT id, queue, payload, 'pending', priority, ?2, 0, max_attempts, created_at, last_error"
    " FROM _honker_dead WHERE id = ?1";
static const char REQUEUE_DELETE_SQL[] = "DELETE FROM _honker_dead WHERE id = ?1";
static const char PURGE_ERRORS_SQL[] =
    "DELETE FROM _honker_job_errors WHERE job_id IN"
    " (SELECT id FROM _honker_dead WHERE queue = ?1 AND died_at <= ?2)";
static const char PURGE_DEAD_SQL[] = "DELETE FROM _honker_dead WHERE queue = ?1 AND died_at <= ?2";
static const char DEAD_LIST_SQL[] =
    "SELECT id, queue, payload, priority, run_at, attempts, max_attempts, last_error, created_at,"
    " died_at FROM _honker_dead WHERE queue = ?1 ORDER BY died_at DESC, id DESC LIMIT ?2";
static const char DEAD_GET_SQL[] =
    "SELECT id, queue, payload, priority, run_at, attempts, max_attempts, last_error, created_at,"
    " died_at FROM _honker_dead WHERE id = ?1";
/* The JSON keys of a dead job, in DEAD_LIST_SQL's and DEAD_GET_SQL's column order. */
static const char *const dead_keys[] = {"id",         "queue",    "payload",      "priority",
                                        "run_at",     "attempts", "max_attempts", "last_error",
                                        "created_at", "died_at"};

int queue_forget_errors(sqlite3_context *ctx, sqlite3_int64 id) {
  sqlite3_stmt *s = honker_stmt(ctx, FORGET_ERRORS_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, id);
  return honker_exec_stmt(ctx, s);
}

/* Job ids with errors examined per call of queue_sweep_orphan_errors. */
#define QUEUE_ORPHAN_BATCH 1000

/* The window of the orphan sweep after job id from: *n job ids, the last *to. */
static int queue_orphan_window(sqlite3_context *ctx, sqlite3_int64 from, sqlite3_int64 *n,
                               sqlite3_int64 *to) {
  sqlite3_stmt *s = honker_stmt(ctx, ORPHAN_WINDOW_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, from);
  sqlite3_bind_int(s, 2, QUEUE_ORPHAN_BATCH);
  int rc = honker_step(ctx, s);
  if (rc == SQLITE_DONE) { /* an aggregate always yields a row */
    honker_stmt_done(s);
    honker_result_errorf(ctx, "no result row");
    return SQLITE_ERROR;
  }
  if (rc != SQLITE_ROW) return rc;
  *n = sqlite3_column_int64(s, 0);
  *to = sqlite3_column_int64(s, 1);
  honker_stmt_done(s);
  return SQLITE_OK;
}

int queue_sweep_orphan_errors(sqlite3_context *ctx) {
  sqlite3_int64 *cursor = honker_conn_errors_swept_to(ctx), n = 0, to = 0;
  if (!cursor) return SQLITE_OK; /* cannot happen: every function has its state */
  sqlite3_int64 from = *cursor;
  int rc = queue_orphan_window(ctx, from, &n, &to);
  if (rc == SQLITE_OK && n == 0 && from > 0) { /* past the last one: from the first again */
    from = 0;
    rc = queue_orphan_window(ctx, from, &n, &to);
  }
  if (rc != SQLITE_OK) return rc;
  if (n > 0) {
    sqlite3_stmt *s = honker_stmt(ctx, ORPHAN_DELETE_SQL);
    if (!s) return SQLITE_ERROR;
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, to);
    if ((rc = honker_exec_stmt(ctx, s)) != SQLITE_OK) return rc;
  }
  /* A short window reached the last job with errors: the next call starts over. */
  *cursor = n < QUEUE_ORPHAN_BATCH ? 0 : to;
  return SQLITE_OK;
}

int queue_bury(sqlite3_context *ctx, sqlite3_int64 id, const char *error, int n_error,
               sqlite3_int64 now) {
  sqlite3_stmt *s = honker_stmt(ctx, BURY_INSERT_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, error, n_error, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, now);
  int rc = honker_exec_stmt(ctx, s);
  if (rc != SQLITE_OK) return rc;
  if (!(s = honker_stmt(ctx, BURY_DELETE_SQL))) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, id);
  return honker_exec_stmt(ctx, s);
}

int queue_record_error(sqlite3_context *ctx, sqlite3_int64 id, sqlite3_int64 attempt,
                       const char *error, int n_error, sqlite3_int64 now) {
  sqlite3_stmt *s = honker_stmt(ctx, RECORD_ERROR_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, attempt);
  sqlite3_bind_text(s, 3, error, n_error, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 4, now);
  return honker_exec_stmt(ctx, s);
}

/* --- enqueue ---------------------------------------------------------------- */

/* A validated job: what both enqueue functions insert. */
typedef struct QueueJob {
  const char *queue, *payload;
  int n_queue, n_payload;
  sqlite3_int64 run_at, priority, max_attempts, expires_at;
  int no_expiry;
} QueueJob;

/* Read (run_at|NULL, delay|NULL, priority, max_attempts, expires|NULL) from
** argv[i..i+4] and resolve them against now (delay wins over run_at). */
static int queue_read_schedule(sqlite3_context *ctx, sqlite3_value **argv, int i, QueueJob *job) {
  sqlite3_int64 run_at, delay, expires, now;
  int run_at_null, delay_null;
  if (honker_arg_int_or_null(ctx, argv, i, "run_at", &run_at, &run_at_null)) return 1;
  if (!run_at_null && honker_check_time(ctx, "run_at", run_at)) return 1;
  if (honker_arg_int_or_null(ctx, argv, i + 1, "delay", &delay, &delay_null)) return 1;
  if (!delay_null && honker_check_min(ctx, "delay", delay, 0)) return 1;
  if (honker_arg_int(ctx, argv, i + 2, "priority", &job->priority)) return 1;
  if (honker_arg_int(ctx, argv, i + 3, "max_attempts", &job->max_attempts)) return 1;
  if (honker_check_min(ctx, "max_attempts", job->max_attempts, 1)) return 1;
  if (honker_arg_int_or_null(ctx, argv, i + 4, "expires", &expires, &job->no_expiry)) return 1;
  if (!job->no_expiry && honker_check_min(ctx, "expires", expires, 1)) return 1;
  if (honker_now(ctx, &now)) return 1;
  if (!delay_null) {
    if (honker_add_seconds(ctx, "delay", now, delay, &job->run_at)) return 1;
  } else {
    job->run_at = run_at_null ? now : run_at;
  }
  job->expires_at = 0;
  if (!job->no_expiry && honker_add_seconds(ctx, "expires", now, expires, &job->expires_at)) {
    return 1;
  }
  return 0;
}

/* Bind ?1..?6 of ENQUEUE_SQL / ENQUEUE_UNIQUE_SQL. */
static void queue_bind_job(sqlite3_stmt *s, const QueueJob *job) {
  sqlite3_bind_text(s, 1, job->queue, job->n_queue, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, job->payload, job->n_payload, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, job->run_at);
  sqlite3_bind_int64(s, 4, job->priority);
  sqlite3_bind_int64(s, 5, job->max_attempts);
  if (job->no_expiry) {
    sqlite3_bind_null(s, 6);
  } else {
    sqlite3_bind_int64(s, 6, job->expires_at);
  }
}

static void honker_enqueue_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  QueueJob job;
  if (honker_arg_new_name(ctx, argv, 0, "queue", &job.queue, &job.n_queue)) return;
  if (honker_arg_text(ctx, argv, 1, "payload", &job.payload, &job.n_payload)) return;
  if (queue_read_schedule(ctx, argv, 2, &job)) return;
  sqlite3_stmt *s = honker_stmt(ctx, ENQUEUE_SQL);
  if (!s) return;
  queue_bind_job(s, &job);
  if (honker_exec_stmt(ctx, s) != SQLITE_OK) return;
  sqlite3_result_int64(ctx, sqlite3_last_insert_rowid(sqlite3_context_db_handle(ctx)));
}

/* *id = the live job holding (queue, key), or 0. */
static int queue_unique_holder(sqlite3_context *ctx, const QueueJob *job, const char *key,
                               int n_key, sqlite3_int64 *id) {
  sqlite3_stmt *s = honker_stmt(ctx, UNIQUE_HOLDER_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, job->queue, job->n_queue, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, key, n_key, SQLITE_TRANSIENT);
  return honker_query_int(ctx, s, 0, id);
}

/* Under the write lock (honker_write_begin), look for the holder first and
** insert only when there is none, so a duplicate consumes no id (an INSERT
** that DO NOTHING skips still advances the AUTOINCREMENT counter). Racing
** processes serialize on the lock: the losers read the winner's committed
** row. The ON CONFLICT clause stays as a guard. */
static void honker_enqueue_unique_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  QueueJob job;
  const char *key;
  int n_key;
  if (honker_arg_new_name(ctx, argv, 0, "queue", &job.queue, &job.n_queue)) return;
  if (honker_arg_new_name(ctx, argv, 1, "key", &key, &n_key)) return;
  if (honker_arg_text(ctx, argv, 2, "payload", &job.payload, &job.n_payload)) return;
  if (queue_read_schedule(ctx, argv, 3, &job)) return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  sqlite3 *db = honker_db(ctx);
  sqlite3_int64 id = 0;
  int rc = queue_unique_holder(ctx, &job, key, n_key, &id);
  if (rc == SQLITE_OK && id == 0) {
    sqlite3_stmt *s = honker_stmt(ctx, ENQUEUE_UNIQUE_SQL);
    rc = s ? SQLITE_OK : SQLITE_ERROR;
    if (rc == SQLITE_OK) {
      queue_bind_job(s, &job);
      sqlite3_bind_text(s, 7, key, n_key, SQLITE_TRANSIENT);
      rc = honker_exec_stmt(ctx, s);
    }
    if (rc == SQLITE_OK && sqlite3_changes(db) == 1) id = sqlite3_last_insert_rowid(db);
    if (rc == SQLITE_OK && id == 0) rc = queue_unique_holder(ctx, &job, key, n_key, &id);
  }
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int64(ctx, id);
}

/* --- cancel, get_job, stats ------------------------------------------------- */

static void honker_cancel_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  int changed = 0;
  sqlite3_stmt *s = honker_stmt(ctx, CANCEL_SQL);
  int rc = s ? SQLITE_OK : SQLITE_ERROR;
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, id);
    rc = honker_exec_stmt(ctx, s);
    changed = sqlite3_changes(honker_db(ctx));
  }
  if (rc == SQLITE_OK && changed) rc = queue_forget_errors(ctx, id);
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, changed ? 1 : 0);
}

static void honker_run_now_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id, now;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  if (honker_now(ctx, &now)) return;
  sqlite3_stmt *s = honker_stmt(ctx, RUN_NOW_SQL);
  if (!s) return;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, now);
  if (honker_exec_stmt(ctx, s) != SQLITE_OK) return;
  sqlite3_result_int(ctx, sqlite3_changes(honker_db(ctx)) > 0);
}

/* The one row of s (bound to an id) as a JSON object, or '' when there is none. */
static void queue_result_row_or_empty(sqlite3_context *ctx, sqlite3_stmt *s,
                                      const char *const *keys, int n_keys) {
  int rc = honker_step(ctx, s);
  if (rc == SQLITE_DONE) {
    honker_stmt_done(s);
    sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
    return;
  }
  if (rc != SQLITE_ROW) return;
  sqlite3_str *out = sqlite3_str_new(honker_db(ctx));
  honker_json_row(out, s, keys, n_keys);
  honker_stmt_done(s);
  honker_result_str(ctx, out);
}

static void honker_get_job_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  static const char *const keys[] = {"id",        "queue",        "payload",    "state",
                                     "priority",  "run_at",       "worker_id",  "claim_expires_at",
                                     "attempts",  "max_attempts", "created_at", "expires_at",
                                     "last_error"};
  sqlite3_int64 id, version;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  if (honker_schema_version(ctx, &version)) return;
  sqlite3_stmt *s = honker_stmt(ctx, version >= HONKER_SCHEMA_V1 ? GET_JOB_SQL : GET_JOB_04_SQL);
  if (!s) return;
  sqlite3_bind_int64(s, 1, id);
  queue_result_row_or_empty(ctx, s, keys, HONKER_COUNT(keys));
}

static void honker_dead_get_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  sqlite3_stmt *s = honker_stmt(ctx, DEAD_GET_SQL);
  if (!s) return;
  sqlite3_bind_int64(s, 1, id);
  queue_result_row_or_empty(ctx, s, dead_keys, HONKER_COUNT(dead_keys));
}

static void honker_queue_stats_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  static const char *const keys[] = {"pending", "scheduled", "processing", "dead"};
  const char *queue;
  int n_queue;
  sqlite3_int64 now;
  if (honker_arg_name(ctx, argv, 0, "queue", &queue, &n_queue)) return;
  if (honker_now(ctx, &now)) return;
  sqlite3_stmt *s = honker_stmt(ctx, STATS_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, queue, n_queue, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, now);
  int rc = honker_step(ctx, s);
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE) { /* an aggregate always yields a row */
      honker_stmt_done(s);
      honker_result_errorf(ctx, "no result row");
    }
    return;
  }
  sqlite3_str *out = sqlite3_str_new(honker_db(ctx));
  sqlite3_str_appendchar(out, 1, '{');
  for (int i = 0; i < HONKER_COUNT(keys); i++) {
    sqlite3_str_appendf(out, "%s\"%s\":%lld", i ? "," : "", keys[i], sqlite3_column_int64(s, i));
  }
  sqlite3_str_appendchar(out, 1, '}');
  honker_stmt_done(s);
  honker_result_str(ctx, out);
}

/* --- dead letters ------------------------------------------------------------ */

static void honker_dead_requeue_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id, now;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  if (honker_now(ctx, &now)) return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  int moved = 0;
  sqlite3_stmt *s = honker_stmt(ctx, REQUEUE_INSERT_SQL);
  int rc = s ? SQLITE_OK : SQLITE_ERROR;
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    rc = honker_exec_stmt(ctx, s);
    moved = sqlite3_changes(honker_db(ctx));
  }
  if (rc == SQLITE_OK && moved) {
    if (!(s = honker_stmt(ctx, REQUEUE_DELETE_SQL))) {
      rc = SQLITE_ERROR;
    } else {
      sqlite3_bind_int64(s, 1, id);
      rc = honker_exec_stmt(ctx, s);
    }
  }
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, moved ? 1 : 0);
}

static void honker_dead_purge_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *queue;
  int n_queue;
  sqlite3_int64 older_than, now, cutoff;
  if (honker_arg_name(ctx, argv, 0, "queue", &queue, &n_queue)) return;
  if (honker_arg_int(ctx, argv, 1, "older_than_s", &older_than)) return;
  if (honker_check_min(ctx, "older_than_s", older_than, 0)) return;
  if (honker_now(ctx, &now)) return;
  if (honker_add_seconds(ctx, "older_than_s", now, -older_than, &cutoff)) return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  int purged = 0;
  sqlite3_stmt *s = honker_stmt(ctx, PURGE_ERRORS_SQL);
  int rc = s ? SQLITE_OK : SQLITE_ERROR;
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(s, 1, queue, n_queue, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, cutoff);
    rc = honker_exec_stmt(ctx, s);
  }
  if (rc == SQLITE_OK) {
    if (!(s = honker_stmt(ctx, PURGE_DEAD_SQL))) {
      rc = SQLITE_ERROR;
    } else {
      sqlite3_bind_text(s, 1, queue, n_queue, SQLITE_TRANSIENT);
      sqlite3_bind_int64(s, 2, cutoff);
      rc = honker_exec_stmt(ctx, s);
      purged = sqlite3_changes(honker_db(ctx));
    }
  }
  if (rc == SQLITE_OK) rc = queue_sweep_orphan_errors(ctx);
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, purged);
}

static void honker_dead_list_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *queue;
  int n_queue;
  sqlite3_int64 limit;
  if (honker_arg_name(ctx, argv, 0, "queue", &queue, &n_queue)) return;
  if (honker_arg_int(ctx, argv, 1, "limit", &limit)) return;
  if (honker_check_min(ctx, "limit", limit, 0)) return;
  sqlite3_stmt *s = honker_stmt(ctx, DEAD_LIST_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, queue, n_queue, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, limit);
  honker_result_json_rows(ctx, s, dead_keys, HONKER_COUNT(dead_keys));
}

/* --- registration ------------------------------------------------------------ */

static const HonkerFunc queue_functions[] = {
    {"honker_enqueue", 7, honker_enqueue_fn, HONKER_FN_DB},
    {"honker_claim_batch", 4, honker_claim_batch_fn, HONKER_FN_DB},
    {"honker_ack", 2, honker_ack_fn, HONKER_FN_DB},
    {"honker_ack_batch", 2, honker_ack_batch_fn, HONKER_FN_DB},
    {"honker_retry", 4, honker_retry_fn, HONKER_FN_DB},
    {"honker_fail", 3, honker_fail_fn, HONKER_FN_DB},
    {"honker_heartbeat", 3, honker_heartbeat_fn, HONKER_FN_DB},
    {"honker_release", 2, honker_release_fn, HONKER_FN_DB},
    {"honker_cancel", 1, honker_cancel_fn, HONKER_FN_DB},
    {"honker_get_job", 1, honker_get_job_fn, HONKER_FN_DB},
    {"honker_sweep_expired", 1, honker_sweep_expired_fn, HONKER_FN_DB},
    {"honker_queue_next_claim_at", 1, honker_queue_next_claim_at_fn, HONKER_FN_DB},
    /* additions (spec/sql.md "Additions") */
    {"honker_queue_stats", 1, honker_queue_stats_fn, HONKER_FN_DB},
    {"honker_dead_requeue", 1, honker_dead_requeue_fn, HONKER_FN_DB},
    {"honker_dead_purge", 2, honker_dead_purge_fn, HONKER_FN_DB},
    {"honker_dead_list", 2, honker_dead_list_fn, HONKER_FN_DB}, /* ours */
    {"honker_dead_get", 1, honker_dead_get_fn, HONKER_FN_DB},   /* ours */
    {"honker_enqueue_unique", 8, honker_enqueue_unique_fn, HONKER_FN_DB},
    /* for the honker command line (queue_inspect.c) */
    {"honker_queues_stats", 0, honker_queues_stats_fn, HONKER_FN_DB},
    {"honker_job_list", 3, honker_job_list_fn, HONKER_FN_DB},
    /* for dashboards (queue_inspect.c): pages of a listing, a job's errors */
    {"honker_job_list", 4, honker_job_list_fn, HONKER_FN_DB},
    {"honker_job_errors", 1, honker_job_errors_fn, HONKER_FN_DB},
    {"honker_run_now", 1, honker_run_now_fn, HONKER_FN_DB},
};

int honker_queue_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, queue_functions, HONKER_COUNT(queue_functions),
                                   pzErrMsg);
}
