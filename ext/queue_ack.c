/*
** queue_ack.c — what a worker does with a job it claimed: ack, retry, fail,
** heartbeat (spec/sql.md > Queue). Registered from queue.c's table; the
** argument rules are in queue.c's header.
**
** Every function here acts only on a valid claim: the row is processing,
** worker_id is the caller's and claim_expires_at >= now. Anything else (a
** wrong worker, a lapsed claim — even one nobody has reclaimed yet — an acked
** or unknown id) is a 0 result, never an error.
**
**   honker_ack(id, worker_id) -> 1 if the job was deleted, else 0.
**     Example: SELECT honker_ack(17, 'worker-1');
**   honker_ack_batch(ids_json, worker_id) -> number of jobs deleted.
**     ids_json is a JSON array of integers ('[]' acks nothing); anything else
**     is an error: "ids_json must be a JSON array of integers (got malformed
**     JSON | a JSON object | element 2 of type text)". Duplicates count once.
**     Example: SELECT honker_ack_batch('[17,18]', 'worker-1');
**   honker_retry(id, worker_id, delay_s, error) -> 1 if handled, else 0.
**     delay_s >= 0, and now + delay_s must end by 9999-12-31T23:59:59Z
**     (queue.c "times"). The error text is appended to _honker_job_errors as
**     (id, attempt = attempts so far, error). With attempts < max_attempts the
**     job goes back to pending at now + delay_s, worker and claim cleared, and
**     _honker_live.last_error = error (readable through honker_get_job);
**     otherwise it moves to _honker_dead with last_error = error.
**     Example: SELECT honker_retry(17, 'worker-1', 30, 'timeout talking to smtp');
**   honker_fail(id, worker_id, error) -> 1 if moved to _honker_dead, else 0.
**     The error is recorded as for retry and becomes the dead row's last_error.
**     Example: SELECT honker_fail(17, 'worker-1', 'invalid address');
**   honker_heartbeat(id, worker_id, extend_s) -> 1 if extended, else 0.
**     extend_s >= 1: claim_expires_at = now + extend_s (it may shorten a
**     claim), which must end by 9999-12-31T23:59:59Z.
**     A late heartbeat (claim already lapsed) is 0: the job may be reclaimed.
**     Example: SELECT honker_heartbeat(17, 'worker-1', 300);
**   honker_release(id, worker_id) -> 1 if handed back, else 0.  (ours)
**     For a worker that stops holding claimed jobs it never started: the job
**     goes back to pending with worker and claim cleared and the attempt the
**     claim counted given back (attempts - 1, never below 0); run_at is kept,
**     so the job keeps its place in line. No error is recorded.
**     Example: SELECT honker_release(17, 'worker-1');
**
** Each settle is counted in its queue's row of the current minute of
** _honker_history (history.c), in the same transaction: ack and ack_batch as
** completed, retry with attempts left as failed, fail and a final retry as
** dead.
**
** Invariants: ack deletes the job's _honker_job_errors rows in the same
** transaction (retry and fail keep them: the job is still live, or dead and
** inspectable); nothing in this file ever makes a claim.
*/
#include "util.h"

#include <string.h>

#include "history.h"
#include "queue.h"

/* ?3 is now: one clock reading per call, shared by every statement. The
** valid claim is found first (its queue is counted, history.c), then deleted. */
static const char ACK_FIND_SQL[] =
    "SELECT queue FROM _honker_live WHERE id = ?1 AND worker_id = ?2 AND claim_expires_at >= ?3";
static const char ACK_SQL[] = "DELETE FROM _honker_live WHERE id = ?1";
/* Counts the ack in its queue's row of this minute (?1) when the claim is
** valid and that row exists: the claim check and the count in one statement. */
static const char ACK_COUNT_SQL[] =
    "UPDATE _honker_history SET completed = completed + 1 WHERE minute = ?1 AND queue ="
    " (SELECT queue FROM _honker_live WHERE id = ?2 AND worker_id = ?3 AND claim_expires_at >= ?4)";
/* NULL when ?1 is a JSON array of integers, else what it is instead. */
static const char ACK_BATCH_CHECK_SQL[] =
    "SELECT CASE WHEN json_valid(?1) = 0 THEN 'malformed JSON'"
    " WHEN json_type(?1) <> 'array' THEN 'a JSON ' || json_type(?1)"
    " ELSE (SELECT 'element ' || key || ' of type ' || type FROM json_each(?1)"
    "       WHERE type <> 'integer' ORDER BY key LIMIT 1) END";
static const char ACK_BATCH_ERRORS_SQL[] =
    "DELETE FROM _honker_job_errors WHERE job_id IN (SELECT id FROM _honker_live"
    " WHERE id IN (SELECT value FROM json_each(?1)) AND worker_id = ?2"
    " AND claim_expires_at >= ?3)";
/* The jobs the batch will ack, per queue: what history.c counts. */
static const char ACK_BATCH_COUNT_SQL[] =
    "SELECT queue, count(*) FROM _honker_live WHERE id IN (SELECT value FROM json_each(?1))"
    " AND worker_id = ?2 AND claim_expires_at >= ?3 GROUP BY queue";
static const char ACK_BATCH_SQL[] =
    "DELETE FROM _honker_live WHERE id IN (SELECT value FROM json_each(?1))"
    " AND worker_id = ?2 AND claim_expires_at >= ?3";
static const char VALID_CLAIM_SQL[] =
    "SELECT attempts, max_attempts, queue FROM _honker_live WHERE id = ?1 AND worker_id = ?2"
    " AND state = 'processing' AND claim_expires_at >= ?3";
static const char RETRY_SQL[] =
    "UPDATE _honker_live SET state = 'pending', run_at = ?2, worker_id = NULL,"
    " claim_expires_at = NULL, last_error = ?3 WHERE id = ?1";
static const char RELEASE_SQL[] =
    "UPDATE _honker_live SET state = 'pending', worker_id = NULL, claim_expires_at = NULL,"
    " attempts = max(attempts - 1, 0) WHERE id = ?1 AND worker_id = ?2"
    " AND state = 'processing' AND claim_expires_at >= ?3";
static const char HEARTBEAT_SQL[] =
    "UPDATE _honker_live SET claim_expires_at = ?4 WHERE id = ?1 AND worker_id = ?2"
    " AND state = 'processing' AND claim_expires_at >= ?3";

/* Run a (id, worker_id, now) statement and report how many rows it changed. */
static int queue_exec_claimed(sqlite3_context *ctx, const char *sql, sqlite3_int64 id,
                              const char *worker, int n_worker, sqlite3_int64 now, int *changed) {
  sqlite3_stmt *s = honker_stmt(ctx, sql);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, worker, n_worker, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, now);
  int rc = honker_exec_stmt(ctx, s);
  if (rc == SQLITE_OK) *changed = sqlite3_changes(honker_db(ctx));
  return rc;
}

/* The ack of a claim that ACK_COUNT_SQL did not count: either no valid claim
** (*acked = 0) or its queue has no history row this minute yet (counted here,
** through history_count, which creates the row). */
static int queue_ack_first_of_minute(sqlite3_context *ctx, sqlite3_int64 id, const char *worker,
                                     int n_worker, sqlite3_int64 now, int *acked) {
  sqlite3_stmt *s = honker_stmt(ctx, ACK_FIND_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, worker, n_worker, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, now);
  int rc = honker_step(ctx, s);
  if (rc == SQLITE_DONE) {
    honker_stmt_done(s);
    return SQLITE_OK;
  }
  if (rc != SQLITE_ROW) return rc;
  *acked = 1;
  /* Counted while the row is current: the queue name is the column's text. */
  rc = history_count(ctx, (const char *)sqlite3_column_text(s, 0), sqlite3_column_bytes(s, 0), now,
                     1, 0, 0);
  honker_stmt_done(s);
  return rc;
}

void honker_ack_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id, now;
  const char *worker;
  int n_worker, acked = 0;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  if (honker_arg_name(ctx, argv, 1, "worker_id", &worker, &n_worker)) return;
  if (honker_now(ctx, &now)) return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  /* Usually one statement checks the claim and counts it (history.c). */
  sqlite3_stmt *s = honker_stmt(ctx, ACK_COUNT_SQL);
  int rc = s ? SQLITE_OK : SQLITE_ERROR;
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, now - now % 60);
    sqlite3_bind_int64(s, 2, id);
    sqlite3_bind_text(s, 3, worker, n_worker, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, now);
    rc = honker_exec_stmt(ctx, s);
    acked = rc == SQLITE_OK && sqlite3_changes(honker_db(ctx)) > 0;
  }
  if (rc == SQLITE_OK && !acked)
    rc = queue_ack_first_of_minute(ctx, id, worker, n_worker, now, &acked);
  if (rc == SQLITE_OK && acked) {
    if (!(s = honker_stmt(ctx, ACK_SQL))) {
      rc = SQLITE_ERROR;
    } else {
      sqlite3_bind_int64(s, 1, id);
      rc = honker_exec_stmt(ctx, s);
    }
  }
  if (rc == SQLITE_OK && acked) rc = queue_forget_errors(ctx, id);
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, acked ? 1 : 0);
}

/* Check that ids (n bytes) is a JSON array of integers; else set the error. */
static int queue_check_ids(sqlite3_context *ctx, const char *ids, int n) {
  /* SQLite's JSON functions stop at a NUL: what follows one would be ignored. */
  if (memchr(ids, 0, (size_t)n)) {
    honker_result_errorf(ctx, "ids_json must be a JSON array of integers (got malformed JSON)");
    return SQLITE_ERROR;
  }
  sqlite3_stmt *s = honker_stmt(ctx, ACK_BATCH_CHECK_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, ids, n, SQLITE_TRANSIENT);
  int rc = honker_step(ctx, s);
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE) honker_stmt_done(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
    honker_stmt_done(s);
    return SQLITE_OK;
  }
  honker_result_errorf(ctx, "ids_json must be a JSON array of integers (got %s)",
                       (const char *)sqlite3_column_text(s, 0));
  honker_stmt_done(s);
  return SQLITE_ERROR;
}

/* Bind (ids, worker, now) to sql and run it. */
static int queue_exec_ids(sqlite3_context *ctx, const char *sql, const char *ids, int n_ids,
                          const char *worker, int n_worker, sqlite3_int64 now) {
  sqlite3_stmt *s = honker_stmt(ctx, sql);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, ids, n_ids, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, worker, n_worker, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, now);
  return honker_exec_stmt(ctx, s);
}

/* Count the jobs ack_batch is about to delete, per queue (history.c). */
static int queue_count_batch(sqlite3_context *ctx, const char *ids, int n_ids, const char *worker,
                             int n_worker, sqlite3_int64 now) {
  sqlite3_stmt *s = honker_stmt(ctx, ACK_BATCH_COUNT_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, ids, n_ids, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, worker, n_worker, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, now);
  int rc;
  while ((rc = honker_step(ctx, s)) == SQLITE_ROW) {
    rc = history_count(ctx, (const char *)sqlite3_column_text(s, 0), sqlite3_column_bytes(s, 0),
                       now, sqlite3_column_int64(s, 1), 0, 0);
    if (rc != SQLITE_OK) {
      honker_stmt_done(s);
      return rc;
    }
  }
  if (rc != SQLITE_DONE) return rc;
  honker_stmt_done(s);
  return SQLITE_OK;
}

void honker_ack_batch_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *ids, *worker;
  int n_ids, n_worker, acked = 0;
  sqlite3_int64 now;
  if (honker_arg_text(ctx, argv, 0, "ids_json", &ids, &n_ids)) return;
  if (honker_arg_name(ctx, argv, 1, "worker_id", &worker, &n_worker)) return;
  if (queue_check_ids(ctx, ids, n_ids)) return;
  if (honker_now(ctx, &now)) return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  int rc = queue_count_batch(ctx, ids, n_ids, worker, n_worker, now);
  if (rc == SQLITE_OK)
    rc = queue_exec_ids(ctx, ACK_BATCH_ERRORS_SQL, ids, n_ids, worker, n_worker, now);
  if (rc == SQLITE_OK) {
    rc = queue_exec_ids(ctx, ACK_BATCH_SQL, ids, n_ids, worker, n_worker, now);
    if (rc == SQLITE_OK) acked = sqlite3_changes(honker_db(ctx));
  }
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, acked);
}

/* Look up the caller's valid claim on id: *found, and its attempt counters.
** A found job is counted in its queue's history (history.c) as the settle
** about to happen: dead when bury or the final attempt, else failed. */
static int queue_valid_claim(sqlite3_context *ctx, sqlite3_int64 id, const char *worker,
                             int n_worker, sqlite3_int64 now, int bury, int *found,
                             sqlite3_int64 *attempts, sqlite3_int64 *max_attempts) {
  sqlite3_stmt *s = honker_stmt(ctx, VALID_CLAIM_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, worker, n_worker, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, now);
  int rc = honker_step(ctx, s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
  *found = rc == SQLITE_ROW;
  if (*found) {
    *attempts = sqlite3_column_int64(s, 0);
    *max_attempts = sqlite3_column_int64(s, 1);
    int dead = bury || *attempts >= *max_attempts;
    rc = history_count(ctx, (const char *)sqlite3_column_text(s, 2), sqlite3_column_bytes(s, 2),
                       now, 0, !dead, dead);
    if (rc != SQLITE_OK) {
      honker_stmt_done(s);
      return rc;
    }
  }
  honker_stmt_done(s);
  return SQLITE_OK;
}

void honker_retry_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id, delay, now, run_at, attempts = 0, max_attempts = 0;
  const char *worker, *error;
  int n_worker, n_error, found = 0;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  if (honker_arg_name(ctx, argv, 1, "worker_id", &worker, &n_worker)) return;
  if (honker_arg_int(ctx, argv, 2, "delay_s", &delay)) return;
  if (honker_check_min(ctx, "delay_s", delay, 0)) return;
  if (honker_arg_text(ctx, argv, 3, "error", &error, &n_error)) return;
  if (honker_now(ctx, &now)) return;
  if (honker_add_seconds(ctx, "delay_s", now, delay, &run_at)) return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  int rc = queue_valid_claim(ctx, id, worker, n_worker, now, 0, &found, &attempts, &max_attempts);
  if (rc == SQLITE_OK && found) rc = queue_record_error(ctx, id, attempts, error, n_error, now);
  if (rc == SQLITE_OK && found) {
    if (attempts >= max_attempts) {
      rc = queue_bury(ctx, id, error, n_error, now);
    } else {
      sqlite3_stmt *s = honker_stmt(ctx, RETRY_SQL);
      if (!s) {
        rc = SQLITE_ERROR;
      } else {
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, run_at);
        sqlite3_bind_text(s, 3, error, n_error, SQLITE_TRANSIENT);
        rc = honker_exec_stmt(ctx, s);
      }
    }
  }
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, found);
}

void honker_fail_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id, now, attempts = 0, max_attempts = 0;
  const char *worker, *error;
  int n_worker, n_error, found = 0;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  if (honker_arg_name(ctx, argv, 1, "worker_id", &worker, &n_worker)) return;
  if (honker_arg_text(ctx, argv, 2, "error", &error, &n_error)) return;
  if (honker_now(ctx, &now)) return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  int rc = queue_valid_claim(ctx, id, worker, n_worker, now, 1, &found, &attempts, &max_attempts);
  if (rc == SQLITE_OK && found) rc = queue_record_error(ctx, id, attempts, error, n_error, now);
  if (rc == SQLITE_OK && found) rc = queue_bury(ctx, id, error, n_error, now);
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, found);
}

void honker_heartbeat_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id, extend, now, until;
  const char *worker;
  int n_worker;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  if (honker_arg_name(ctx, argv, 1, "worker_id", &worker, &n_worker)) return;
  if (honker_arg_int(ctx, argv, 2, "extend_s", &extend)) return;
  if (honker_check_min(ctx, "extend_s", extend, 1)) return;
  if (honker_now(ctx, &now)) return;
  if (honker_add_seconds(ctx, "extend_s", now, extend, &until)) return;
  sqlite3_stmt *s = honker_stmt(ctx, HEARTBEAT_SQL);
  if (!s) return;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, worker, n_worker, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, now);
  sqlite3_bind_int64(s, 4, until);
  if (honker_exec_stmt(ctx, s) == SQLITE_OK) {
    sqlite3_result_int(ctx, sqlite3_changes(honker_db(ctx)) ? 1 : 0);
  }
}

void honker_release_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id, now;
  const char *worker;
  int n_worker, released = 0;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  if (honker_arg_name(ctx, argv, 1, "worker_id", &worker, &n_worker)) return;
  if (honker_now(ctx, &now)) return;
  if (queue_exec_claimed(ctx, RELEASE_SQL, id, worker, n_worker, now, &released)) return;
  sqlite3_result_int(ctx, released ? 1 : 0);
}
