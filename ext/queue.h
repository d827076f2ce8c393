/*
** queue.h — what the files of the queue concern share (queue.c, queue_claim.c,
** queue_ack.c). Internal: nothing here is exported from the library.
*/
#ifndef HONKER_QUEUE_H
#define HONKER_QUEUE_H

#include "util.h"

/* Move live row id to _honker_dead with last_error = error (n_error bytes) and
** died_at = now. The caller holds the write lock (honker_write_begin). A
** conflicting dead id fails the INSERT before the live row is touched. */
int queue_bury(sqlite3_context *ctx, sqlite3_int64 id, const char *error, int n_error,
               sqlite3_int64 now);

/* Delete the error history of job id (it was acked or cancelled). */
int queue_forget_errors(sqlite3_context *ctx, sqlite3_int64 id);

/* Append (id, attempt, error) to _honker_job_errors (an existing row for the
** same attempt, left by a job requeued from dead, is replaced). */
int queue_record_error(sqlite3_context *ctx, sqlite3_int64 id, sqlite3_int64 attempt,
                       const char *error, int n_error, sqlite3_int64 now);

/* Where this connection's sweep of orphaned _honker_job_errors rows goes on
** (the last job id it examined; kept in HonkerConn). */
sqlite3_int64 *honker_conn_errors_swept_to(sqlite3_context *ctx);

/* Delete the _honker_job_errors rows of jobs that are neither live nor dead
** (acked or cancelled by honker 0.4, which does not know the table): a
** bounded batch per call, see queue.c "Orphaned errors". Under the write lock. */
int queue_sweep_orphan_errors(sqlite3_context *ctx);

/* SQL functions defined outside queue.c, registered from queue.c's table. */
void honker_claim_batch_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_queue_next_claim_at_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_sweep_expired_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_ack_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_ack_batch_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_retry_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_fail_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_heartbeat_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_release_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_queues_stats_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_job_list_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_job_errors_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif /* HONKER_QUEUE_H */
