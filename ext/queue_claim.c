/*
** queue_claim.c — handing jobs to workers: claim, when to claim next, and
** the expiry sweep (spec/sql.md > Queue and "Fixes"). Registered from
** queue.c's table; the argument rules are in queue.c's header.
**
**   honker_claim_batch(queue, worker_id, n, visibility_timeout_s) -> JSON array
**     of {"id","queue","payload","worker_id","attempts","claim_expires_at"},
**     best first (priority DESC, run_at ASC, id ASC); payload is a JSON string
**     holding the stored text; attempts counts this claim. n >= 0 (0 -> '[]'),
**     visibility_timeout_s >= 1: claim_expires_at = now + visibility_timeout_s,
**     which must end by 9999-12-31T23:59:59Z. worker_id must not be blank.
**     Claimable: not expired (expires_at NULL or > now), attempts < max_attempts,
**     and either pending with run_at <= now or processing with a lapsed claim
**     (claim_expires_at < now). Rows met on the way with attempts >= max_attempts
**     move to _honker_dead ('max attempts exceeded'); expired rows are skipped
**     and left for honker_sweep_expired. When a read shows nothing due and no
**     lapsed claim (or n = 0), it returns '[]' without taking the write lock.
**     First, at most once a second per connection, it expires the claims of
**     registered workers whose process died (lifeline.c: a read, and a write
**     only when a dead worker is found).
**     Example: SELECT honker_claim_batch('emails', 'worker-1', 10, 300);
**
**   honker_queue_next_claim_at(queue) -> unix second, or 0.
**     now when a claim could succeed right now (a due pending row or a lapsed
**     claim, not expired, attempts left: the fix for a waiter that just missed
**     a deadline); else the earliest future second a claim could succeed: the
**     next pending run_at, or claim_expires_at + 1 of a processing row (rows
**     that will have expired by then are ignored), at most 253402300799
**     (util.h's bound: a claim that lapses at it gives the bound, not one
**     second past it); else 0 (nothing to wait for).
**     A processing row counts even on its final attempt (honker skips it):
**     when that claim lapses (its worker died) the claim made then moves it
**     to _honker_dead, instead of it staying 'processing' until some
**     unrelated commit wakes a worker. Pending rows without attempts left
**     (only raw SQL makes them) are not waited for: a claim buries them.
**     While the queue has processing rows and _honker_workers has a row, at
**     most now + 1: waiters look once a second, and the claim made then
**     rescues the jobs of a registered worker whose process died (lifeline.c).
**     Example: SELECT honker_queue_next_claim_at('emails');
**
**   honker_sweep_expired(queue) -> rows moved to _honker_dead ('expired'):
**     pending rows with expires_at <= now, and processing rows with
**     expires_at <= now whose claim lapsed (a valid claim is left to its
**     holder). Their _honker_job_errors rows are kept. They count as dead in
**     the queue's history (history.c), as do the rows a claim buries. Also
**     deletes a batch of orphaned error rows (any queue): queue.c "Orphaned
**     errors".
**
** The claim path (the claim-cost fix): cost depends on n, on the number of
** distinct pending priorities of the queue and on rows that must be skipped
** (expired but not yet swept), never on the number of due, in-flight or
** future rows. Every statement is an index seek:
**   1. lapsed claims: _honker_live_processing_deadline (queue, claim_expires_at),
**      oldest lapse first, stop after n candidates (so at most n lapsed claims
**      compete per call; the rest wait for the next one);
**   2. due pending rows level by level: _honker_live_ready (queue, priority
**      DESC, run_at, id) WHERE state='pending' — one seek finds the top
**      priority, one range scan takes its rows with run_at <= now in order and
**      stops at the first future row; then the next lower priority;
**   3. the candidates are merged best first and the first n are claimed.
** honker_write_begin runs first, so the candidates cannot change under us and
** racing claimers serialize instead of failing with SQLITE_BUSY_SNAPSHOT.
*/
#include "util.h"

#include "history.h"
#include "lifeline.h"
#include "queue.h"

#include <stdint.h>
#include <stdlib.h>

/* Candidate rows carry their payload: the claim UPDATE then needs no RETURNING
** (which buffers every returned row in an ephemeral table: a third of a claim). */
static const char LAPSED_SQL[] =
    "SELECT id, priority, run_at, attempts, max_attempts, expires_at, payload FROM _honker_live"
    " WHERE queue = ?1 AND state = 'processing' AND claim_expires_at < ?2"
    " ORDER BY claim_expires_at";
static const char TOP_PRIORITY_SQL[] =
    "SELECT priority FROM _honker_live WHERE queue = ?1 AND state = 'pending'"
    " ORDER BY priority DESC LIMIT 1";
static const char NEXT_PRIORITY_SQL[] =
    "SELECT priority FROM _honker_live WHERE queue = ?1 AND state = 'pending'"
    " AND priority < ?2 ORDER BY priority DESC LIMIT 1";
static const char DUE_AT_PRIORITY_SQL[] =
    "SELECT id, priority, run_at, attempts, max_attempts, expires_at, payload FROM _honker_live"
    " WHERE queue = ?1 AND state = 'pending' AND priority = ?2 AND run_at <= ?3"
    " ORDER BY run_at, id";
/* The queue's pending priority levels, highest first, one seek of
** _honker_live_ready each (a NULL row ends them). The probes below look for
** rows per level: with _honker_live_ready as the only index of pending rows
** (schema 4), a range on run_at alone would walk every row of the higher
** levels. */
#define PENDING_LEVELS                                                                \
  "WITH RECURSIVE lv(p) AS ("                                                         \
  " SELECT (SELECT priority FROM _honker_live WHERE queue = ?1 AND state = 'pending'" \
  "   ORDER BY priority DESC LIMIT 1)"                                                \
  " UNION ALL"                                                                        \
  " SELECT (SELECT priority FROM _honker_live WHERE queue = ?1 AND state = 'pending'" \
  "   AND priority < lv.p ORDER BY priority DESC LIMIT 1) FROM lv WHERE lv.p IS NOT NULL) "
/* Read-only: could a claim find work right now? (due pending rows, lapsed claims) */
static const char CLAIM_PROBE_SQL[] = PENDING_LEVELS
    "SELECT EXISTS (SELECT 1 FROM lv WHERE lv.p IS NOT NULL AND EXISTS (SELECT 1 FROM _honker_live"
    "   WHERE queue = ?1 AND state = 'pending' AND priority = lv.p AND run_at <= ?2))"
    " OR EXISTS (SELECT 1 FROM _honker_live WHERE queue = ?1 AND state = 'processing'"
    "   AND claim_expires_at < ?2)";
static const char CLAIM_SQL[] =
    "UPDATE _honker_live SET state = 'processing', worker_id = ?2, claim_expires_at = ?3,"
    " attempts = attempts + 1 WHERE id = ?1";
/* (claimable now, next future run_at, earliest claim_expires_at) in one snapshot;
** the pending parts per priority level (PENDING_LEVELS). */
static const char NEXT_CLAIM_SQL[] = PENDING_LEVELS
    "SELECT"
    " EXISTS (SELECT 1 FROM lv WHERE lv.p IS NOT NULL AND EXISTS (SELECT 1 FROM _honker_live"
    "   WHERE queue = ?1 AND state = 'pending' AND priority = lv.p AND run_at <= ?2"
    "   AND attempts < max_attempts AND (expires_at IS NULL OR expires_at > ?2))),"
    " (SELECT min((SELECT run_at FROM _honker_live WHERE queue = ?1 AND state = 'pending'"
    "   AND priority = lv.p AND run_at > ?2 AND attempts < max_attempts"
    "   AND (expires_at IS NULL OR expires_at > run_at) ORDER BY run_at LIMIT 1))"
    "   FROM lv WHERE lv.p IS NOT NULL),"
    " (SELECT claim_expires_at FROM _honker_live WHERE queue = ?1 AND state = 'processing'"
    "   AND (expires_at IS NULL OR expires_at > max(claim_expires_at + 1, ?2))"
    "   ORDER BY claim_expires_at LIMIT 1)";
static const char SWEEP_INSERT_SQL[] =
    "INSERT INTO _honker_dead (id, queue, payload, priority, run_at, max_attempts, attempts,"
    " last_error, created_at, died_at)"
    " SELECT id, queue, payload, priority, run_at, max_attempts, attempts, 'expired',"
    " created_at, ?2 FROM _honker_live"
    " WHERE queue = ?1 AND state = 'pending' AND expires_at <= ?2"
    " UNION ALL"
    " SELECT id, queue, payload, priority, run_at, max_attempts, attempts, 'expired',"
    " created_at, ?2 FROM _honker_live"
    " WHERE queue = ?1 AND state = 'processing' AND claim_expires_at < ?2 AND expires_at <= ?2";
static const char SWEEP_DELETE_SQL[] =
    "DELETE FROM _honker_live WHERE id IN ("
    " SELECT id FROM _honker_live WHERE queue = ?1 AND state = 'pending' AND expires_at <= ?2"
    " UNION ALL"
    " SELECT id FROM _honker_live WHERE queue = ?1 AND state = 'processing'"
    " AND claim_expires_at < ?2 AND expires_at <= ?2)";

/* A claimable row: what ordering needs, and what the claimed job's JSON shows. */
typedef struct QueueCand {
  sqlite3_int64 id, priority, run_at, attempts;
  sqlite3_value *payload; /* a copy (sqlite3_value_dup), freed by queue_claim_set_free */
} QueueCand;

/* A growable list of candidates and one of exhausted ids to bury. */
typedef struct QueueClaimSet {
  QueueCand *cand;
  sqlite3_int64 n_cand, cap_cand;
  sqlite3_int64 *dead;
  sqlite3_int64 n_dead, cap_dead;
} QueueClaimSet;

/* Grow *p (elements of size sz, capacity *cap) to hold one more; 0 or SQLITE_NOMEM. */
static int queue_grow(void **p, sqlite3_int64 *cap, sqlite3_int64 used, size_t sz) {
  if (used < *cap) return SQLITE_OK;
  sqlite3_int64 want = *cap ? *cap * 2 : 16;
  void *q = sqlite3_realloc64(*p, (sqlite3_uint64)want * sz);
  if (!q) return SQLITE_NOMEM;
  *p = q;
  *cap = want;
  return SQLITE_OK;
}

/* Free set's lists and the payload copies of its candidates. */
static void queue_claim_set_free(QueueClaimSet *set) {
  for (sqlite3_int64 i = 0; i < set->n_cand; i++)
    sqlite3_value_free(set->cand[i].payload);
  sqlite3_free(set->cand);
  sqlite3_free(set->dead);
}

/* Sort one row (id, priority, run_at, attempts, max_attempts, expires_at, payload)
** of s into set: skipped when expired, to bury when exhausted, else a candidate. */
static int queue_sort_row(sqlite3_context *ctx, QueueClaimSet *set, sqlite3_stmt *s,
                          sqlite3_int64 now) {
  int rc = SQLITE_OK;
  if (sqlite3_column_type(s, 5) != SQLITE_NULL && sqlite3_column_int64(s, 5) <= now) {
    return SQLITE_OK; /* expired: honker_sweep_expired's job */
  }
  if (sqlite3_column_int64(s, 3) >= sqlite3_column_int64(s, 4)) {
    rc = queue_grow((void **)&set->dead, &set->cap_dead, set->n_dead, sizeof(sqlite3_int64));
    if (rc == SQLITE_OK) set->dead[set->n_dead++] = sqlite3_column_int64(s, 0);
  } else {
    rc = queue_grow((void **)&set->cand, &set->cap_cand, set->n_cand, sizeof(QueueCand));
    sqlite3_value *payload = rc == SQLITE_OK ? sqlite3_value_dup(sqlite3_column_value(s, 6)) : NULL;
    if (rc == SQLITE_OK && !payload) rc = SQLITE_NOMEM;
    if (rc == SQLITE_OK) {
      QueueCand *c = &set->cand[set->n_cand++];
      c->id = sqlite3_column_int64(s, 0);
      c->priority = sqlite3_column_int64(s, 1);
      c->run_at = sqlite3_column_int64(s, 2);
      c->attempts = sqlite3_column_int64(s, 3);
      c->payload = payload;
    }
  }
  if (rc == SQLITE_NOMEM) sqlite3_result_error_nomem(ctx);
  return rc;
}

/* Step s, sorting its rows into set, until set holds `until` candidates. */
static int queue_collect(sqlite3_context *ctx, QueueClaimSet *set, sqlite3_stmt *s,
                         sqlite3_int64 until, sqlite3_int64 now) {
  int rc;
  while (set->n_cand < until && (rc = honker_step(ctx, s)) == SQLITE_ROW) {
    if ((rc = queue_sort_row(ctx, set, s, now)) != SQLITE_OK) break;
  }
  if (set->n_cand >= until) rc = SQLITE_DONE;
  if (rc == SQLITE_DONE || rc == SQLITE_NOMEM) honker_stmt_done(s);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Step 1: up to n lapsed claims, oldest lapse first. */
static int queue_collect_lapsed(sqlite3_context *ctx, QueueClaimSet *set, const char *queue,
                                int n_queue, sqlite3_int64 n, sqlite3_int64 now) {
  sqlite3_stmt *s = honker_stmt(ctx, LAPSED_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, queue, n_queue, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, now);
  return queue_collect(ctx, set, s, n, now);
}

/* The highest pending priority of queue (below `below` when has_below): *found. */
static int queue_priority_level(sqlite3_context *ctx, const char *queue, int n_queue, int has_below,
                                sqlite3_int64 below, int *found, sqlite3_int64 *priority) {
  sqlite3_stmt *s = honker_stmt(ctx, has_below ? NEXT_PRIORITY_SQL : TOP_PRIORITY_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, queue, n_queue, SQLITE_TRANSIENT);
  if (has_below) sqlite3_bind_int64(s, 2, below);
  int rc = honker_step(ctx, s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
  *found = rc == SQLITE_ROW;
  if (*found) *priority = sqlite3_column_int64(s, 0);
  honker_stmt_done(s);
  return SQLITE_OK;
}

/* Step 2: up to n due pending rows, best first, one priority level at a time. */
static int queue_collect_due(sqlite3_context *ctx, QueueClaimSet *set, const char *queue,
                             int n_queue, sqlite3_int64 n, sqlite3_int64 now) {
  sqlite3_int64 until = n > INT64_MAX - set->n_cand ? INT64_MAX : set->n_cand + n;
  sqlite3_int64 priority = 0;
  int found = 0, has_below = 0;
  while (set->n_cand < until) {
    int rc = queue_priority_level(ctx, queue, n_queue, has_below, priority, &found, &priority);
    if (rc != SQLITE_OK) return rc;
    if (!found) break;
    sqlite3_stmt *s = honker_stmt(ctx, DUE_AT_PRIORITY_SQL);
    if (!s) return SQLITE_ERROR;
    sqlite3_bind_text(s, 1, queue, n_queue, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, priority);
    sqlite3_bind_int64(s, 3, now);
    if ((rc = queue_collect(ctx, set, s, until, now)) != SQLITE_OK) return rc;
    has_below = 1;
  }
  return SQLITE_OK;
}

/* Best first: priority DESC, run_at ASC, id ASC. */
static int queue_cand_cmp(const void *a, const void *b) {
  const QueueCand *x = (const QueueCand *)a, *y = (const QueueCand *)b;
  if (x->priority != y->priority) return x->priority > y->priority ? -1 : 1;
  if (x->run_at != y->run_at) return x->run_at < y->run_at ? -1 : 1;
  return x->id < y->id ? -1 : (x->id > y->id);
}

/* Step 3: claim set->cand[0..n) and append each claimed row to out as JSON:
** {"id","queue","payload","worker_id","attempts","claim_expires_at"} (spec/sql.md),
** built from the candidate (the row as read under the write lock) and the
** values the UPDATE wrote. */
static int queue_claim_rows(sqlite3_context *ctx, const QueueClaimSet *set, sqlite3_int64 n,
                            const char *queue, int n_queue, const char *worker, int n_worker,
                            sqlite3_int64 until, sqlite3_str *out) {
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  sqlite3_int64 emitted = 0;
  for (sqlite3_int64 i = 0; i < n && i < set->n_cand; i++) {
    const QueueCand *c = &set->cand[i];
    sqlite3_stmt *s = honker_stmt(ctx, CLAIM_SQL);
    if (!s) return SQLITE_ERROR;
    sqlite3_bind_int64(s, 1, c->id);
    sqlite3_bind_text(s, 2, worker, n_worker, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, until);
    int rc = honker_exec_stmt(ctx, s);
    if (rc != SQLITE_OK) return rc;
    if (sqlite3_changes(db) != 1) continue; /* cannot happen under the write lock */
    if (emitted++) sqlite3_str_appendchar(out, 1, ',');
    sqlite3_str_appendf(out, "{\"id\":%lld,\"queue\":", c->id);
    honker_json_string(out, queue, n_queue);
    sqlite3_str_append(out, ",\"payload\":", 11);
    honker_json_value(out, c->payload);
    sqlite3_str_append(out, ",\"worker_id\":", 13);
    honker_json_string(out, worker, n_worker);
    sqlite3_str_appendf(out, ",\"attempts\":%lld,\"claim_expires_at\":%lld}", c->attempts + 1,
                        until);
  }
  return SQLITE_OK;
}

void honker_claim_batch_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *queue, *worker;
  int n_queue, n_worker;
  sqlite3_int64 n, timeout, now, until;
  if (honker_arg_name(ctx, argv, 0, "queue", &queue, &n_queue)) return;
  if (honker_arg_new_name(ctx, argv, 1, "worker_id", &worker, &n_worker)) return;
  if (honker_arg_int(ctx, argv, 2, "n", &n)) return;
  if (honker_check_min(ctx, "n", n, 0)) return;
  if (honker_arg_int(ctx, argv, 3, "visibility_timeout_s", &timeout)) return;
  if (honker_check_min(ctx, "visibility_timeout_s", timeout, 1)) return;
  if (honker_now(ctx, &now)) return;
  if (honker_add_seconds(ctx, "visibility_timeout_s", now, timeout, &until)) return;
  sqlite3_int64 claimable = 0;
  /* Worker liveness (lifeline.c): a dead registered worker's claims lapse now. */
  if (n > 0 && lifeline_rescue_due(ctx, now)) return;
  if (n > 0) {
    /* An idle worker wakes on every commit to the file: answer it from a read
    ** (two index seeks) instead of taking the write lock each time, which
    ** would make it collide with the writers that woke it. */
    sqlite3_stmt *probe = honker_stmt(ctx, CLAIM_PROBE_SQL);
    if (!probe) return;
    sqlite3_bind_text(probe, 1, queue, n_queue, SQLITE_TRANSIENT);
    sqlite3_bind_int64(probe, 2, now);
    if (honker_query_int(ctx, probe, 0, &claimable) != SQLITE_OK) return;
  }
  if (!claimable) {
    sqlite3_result_text(ctx, "[]", 2, SQLITE_STATIC);
    return;
  }
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  QueueClaimSet set = {0, 0, 0, 0, 0, 0};
  sqlite3_str *out = sqlite3_str_new(honker_db(ctx));
  int rc = queue_collect_lapsed(ctx, &set, queue, n_queue, n, now);
  if (rc == SQLITE_OK) rc = queue_collect_due(ctx, &set, queue, n_queue, n, now);
  for (sqlite3_int64 i = 0; rc == SQLITE_OK && i < set.n_dead; i++) {
    rc = queue_bury(ctx, set.dead[i], "max attempts exceeded", -1, now);
  }
  if (rc == SQLITE_OK) rc = history_count(ctx, queue, n_queue, now, 0, 0, set.n_dead);
  if (rc == SQLITE_OK) {
    if (set.n_cand > 1) qsort(set.cand, (size_t)set.n_cand, sizeof(QueueCand), queue_cand_cmp);
    sqlite3_str_appendchar(out, 1, '[');
    rc = queue_claim_rows(ctx, &set, n, queue, n_queue, worker, n_worker, until, out);
    sqlite3_str_appendchar(out, 1, ']');
  }
  queue_claim_set_free(&set);
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) {
    honker_result_str(ctx, out);
  } else {
    sqlite3_free(sqlite3_str_finish(out));
  }
}

void honker_queue_next_claim_at_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *queue;
  int n_queue;
  sqlite3_int64 now;
  if (honker_arg_name(ctx, argv, 0, "queue", &queue, &n_queue)) return;
  if (honker_now(ctx, &now)) return;
  sqlite3_stmt *s = honker_stmt(ctx, NEXT_CLAIM_SQL);
  if (!s) return;
  sqlite3_bind_text(s, 1, queue, n_queue, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, now);
  int rc = honker_step(ctx, s);
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE) {
      honker_stmt_done(s);
      honker_result_errorf(ctx, "no result row");
    }
    return;
  }
  sqlite3_int64 next = 0; /* 0: nothing to wait for (honker's convention) */
  int in_flight = sqlite3_column_type(s, 2) != SQLITE_NULL;
  if (sqlite3_column_int64(s, 0)) {
    next = now;
  } else {
    if (sqlite3_column_type(s, 1) != SQLITE_NULL) next = sqlite3_column_int64(s, 1);
    if (in_flight) {
      sqlite3_int64 lapse = sqlite3_column_int64(s, 2);
      sqlite3_int64 at =
          lapse < now ? now : (lapse >= HONKER_MAX_UNIX ? HONKER_MAX_UNIX : lapse + 1);
      if (next == 0 || at < next) next = at;
    }
  }
  /* No time past the bound (util.h), even from a row honker 0.4 stored beyond it. */
  if (next > HONKER_MAX_UNIX) next = HONKER_MAX_UNIX;
  honker_stmt_done(s);
  if (in_flight && (next == 0 || next > now + 1)) {
    /* Jobs in flight and registered workers: look once a second, so the claim
    ** made then finds a dead worker's jobs (lifeline.c). */
    int registered = 0;
    if (lifeline_workers_present(ctx, &registered)) return;
    if (registered) next = now + 1;
  }
  sqlite3_result_int64(ctx, next);
}

void honker_sweep_expired_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *queue;
  int n_queue, swept = 0;
  sqlite3_int64 now;
  if (honker_arg_name(ctx, argv, 0, "queue", &queue, &n_queue)) return;
  if (honker_now(ctx, &now)) return;
  HonkerTxn txn;
  if (honker_write_begin(ctx, &txn)) return;
  int rc = SQLITE_OK;
  const char *const steps[] = {SWEEP_INSERT_SQL, SWEEP_DELETE_SQL};
  for (int i = 0; rc == SQLITE_OK && i < 2; i++) {
    sqlite3_stmt *s = honker_stmt(ctx, steps[i]);
    if (!s) {
      rc = SQLITE_ERROR;
      break;
    }
    sqlite3_bind_text(s, 1, queue, n_queue, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, now);
    rc = honker_exec_stmt(ctx, s);
    if (rc == SQLITE_OK && i == 1) swept = sqlite3_changes(honker_db(ctx));
  }
  if (rc == SQLITE_OK) rc = history_count(ctx, queue, n_queue, now, 0, 0, swept);
  if (rc == SQLITE_OK) rc = queue_sweep_orphan_errors(ctx);
  rc = honker_write_end(ctx, &txn, rc);
  if (rc == SQLITE_OK) sqlite3_result_int(ctx, swept);
}
