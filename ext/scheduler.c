/*
** scheduler.c — periodic tasks: the SQL glue around cron.c and cron_next.c
** (spec/sql.md "Scheduler"; table _honker_scheduler_tasks).
**
**   honker_cron_next_after and honker_cron_error, the SQL face of cron.c,
**   live in cron_sql.c (registered from the table below).
**
**   honker_scheduler_register(name, queue, expr, payload, priority,
**                             expires_s|NULL [, max_attempts]) -> 1
**     Upserts the task: every column is replaced and next_fire_at becomes
**     the next boundary after now; cron_expr is stored as the canonical text
**     of expr (cron.h cron_canonical_n: @daily is stored as 0 0 * * *, MON
**     as 1), a form honker 0.4's tickers parse; enabled is kept, so a paused task stays
**     paused when re-registered. name, queue: non-empty TEXT, not blank (only
**     whitespace); payload: TEXT; expires_s: seconds after each fire, >= 1 and
**     such that the first fire's jobs expire by 9999-12-31T23:59:59Z
**     ("expires_s must end by 9999-12-31T23:59:59Z (got ...)"), or NULL (the
**     jobs never expire); max_attempts >= 1, default 3.
**     Example: SELECT honker_scheduler_register('nightly', 'reports',
**                '0 3 * * *', '{"kind":"nightly"}', 0, NULL);
**
**   honker_scheduler_unregister(name) -> 1 when deleted, 0 when absent.
**   honker_scheduler_pause(name) -> 1 when it was enabled, else 0.
**   honker_scheduler_resume(name) -> 1 when it was paused, else 0. Resuming
**     sets next_fire_at to the next boundary after now: the boundaries that
**     passed while paused are skipped, never fired as a burst.
**
**   honker_scheduler_list() -> JSON array, ordered by name, of
**     {"name","queue","cron_expr","payload","priority","expires_s",
**      "next_fire_at","enabled"(boolean),"max_attempts"}.
**
**   honker_scheduler_update(name, expr|NULL, payload|NULL, priority|NULL,
**                           expires_s|NULL, touch_expires
**                           [, max_attempts|NULL, touch_max_attempts]) -> 1/0
**     A NULL expr, payload or priority leaves that column as it is. expires_s
**     is applied only when touch_expires is 1 (then NULL clears it), likewise
**     max_attempts with touch_max_attempts (then NULL resets it to 3); the
**     touch flags are 0 or 1. A new expires_s follows register's rule, from
**     the new expr's next boundary, or from now when expr is NULL. A new expr
**     is stored as register stores it and recomputes next_fire_at from now.
**     Returns 1 when the task exists and something was asked to change, 0
**     otherwise (honker's rule: a call that changes nothing returns 0).
**     Example: SELECT honker_scheduler_update('nightly', '0 4 * * *', NULL,
**                NULL, NULL, 0);
**
**   honker_scheduler_tick(now INTEGER) -> JSON array of
**     {"name","queue","fire_at","job_id"}
**     For each enabled task with next_fire_at <= now (in name order), one
**     job per due boundary is inserted into _honker_live: run_at = the
**     boundary, expires_at = boundary + expires_s (or NULL), the task's
**     queue, payload, priority and max_attempts (an expiry past
**     9999-12-31T23:59:59Z, possible only for rows stored before that bound
**     or by honker 0.4, is stored as 253402300799). At most 64 boundaries per
**     task per tick: the older ones are enqueued, the rest skipped, and
**     next_fire_at moves to the first boundary after now; a task with no
**     boundary left by 9999-12-31T23:59:59Z stops there (enabled = 0,
**     next_fire_at = 253402300799). now: 0 ..
**     253402300799. A task whose stored cron_expr does not parse (written by
**     raw SQL or another version) is skipped, so it cannot stop the others.
**     Example: SELECT honker_scheduler_tick(unixepoch());
**
**   honker_scheduler_soonest() -> min next_fire_at of enabled tasks, or 0.
**
** Invariants:
**   - every boundary of a task is enqueued at most once, whatever the number
**     of tickers: tick takes the write lock before it reads the due tasks
**     (honker_write_begin) and advances next_fire_at with a compare-and-set
**     on the value it read, so a second ticker sees the advanced row;
**   - a tick applies all of its work or none (one savepoint), and so does
**     resume (read, then write); register, update, pause and unregister are
**     a single write each (plus a read of unixepoch()), atomic by themselves;
**   - next_fire_at only moves forward in a tick, and a task's stored
**     next_fire_at is always a boundary of its cron_expr (or, for rows
**     written by other versions, whatever they stored: tick starts there).
*/
#include "scheduler.h"

#include <string.h>

#define SCHEDULER_MAX_CATCHUP 64     /* fires per task per tick (spec) */
#define SCHEDULER_DEFAULT_ATTEMPTS 3 /* honker's default max_attempts */

static const char REGISTER_SQL[] =
    "INSERT INTO _honker_scheduler_tasks"
    " (name, queue, cron_expr, payload, priority, expires_s, next_fire_at, max_attempts)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT(name) DO UPDATE SET queue = excluded.queue, cron_expr = excluded.cron_expr,"
    " payload = excluded.payload, priority = excluded.priority, expires_s = excluded.expires_s,"
    " next_fire_at = excluded.next_fire_at, max_attempts = excluded.max_attempts";

static const char UNREGISTER_SQL[] = "DELETE FROM _honker_scheduler_tasks WHERE name = ?1";

static const char PAUSE_SQL[] =
    "UPDATE _honker_scheduler_tasks SET enabled = 0 WHERE name = ?1 AND enabled = 1";

static const char RESUME_READ_SQL[] =
    "SELECT cron_expr FROM _honker_scheduler_tasks WHERE name = ?1 AND enabled = 0";

static const char RESUME_SQL[] =
    "UPDATE _honker_scheduler_tasks SET enabled = 1, next_fire_at = ?2"
    " WHERE name = ?1 AND enabled = 0";

static const char LIST_SQL[] =
    "SELECT name, queue, cron_expr, payload, priority, expires_s, next_fire_at, enabled,"
    " max_attempts FROM _honker_scheduler_tasks ORDER BY name";

static const char UPDATE_SQL[] =
    "UPDATE _honker_scheduler_tasks SET"
    " cron_expr = coalesce(?2, cron_expr), next_fire_at = coalesce(?3, next_fire_at),"
    " payload = coalesce(?4, payload), priority = coalesce(?5, priority),"
    " expires_s = CASE WHEN ?6 THEN ?7 ELSE expires_s END,"
    " max_attempts = CASE WHEN ?8 THEN ?9 ELSE max_attempts END"
    " WHERE name = ?1";

static const char SOONEST_SQL[] =
    "SELECT coalesce(min(next_fire_at), 0) FROM _honker_scheduler_tasks WHERE enabled = 1";

/* The next due task after ?2 in name order (?2 NULL: the first). */
static const char TICK_DUE_SQL[] =
    "SELECT name, queue, cron_expr, payload, priority, expires_s, next_fire_at, max_attempts"
    " FROM _honker_scheduler_tasks"
    " WHERE enabled = 1 AND next_fire_at <= ?1 AND (?2 IS NULL OR name > ?2)"
    " ORDER BY name LIMIT 1";

/* Compare-and-set: only the ticker that read ?3 may advance the row. A task
** whose next boundary (?2) passes ?4 = HONKER_MAX_UNIX has none left that can
** be stored: it stops (enabled = 0) at the bound instead. */
static const char TICK_ADVANCE_SQL[] =
    "UPDATE _honker_scheduler_tasks SET next_fire_at = min(?2, ?4), enabled = (?2 <= ?4)"
    " WHERE name = ?1 AND next_fire_at = ?3 AND enabled = 1";

/* The columns honker_enqueue writes. */
static const char TICK_ENQUEUE_SQL[] =
    "INSERT INTO _honker_live (queue, payload, run_at, priority, max_attempts, expires_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";

/* --- helpers ------------------------------------------------------------------ */

/* The next boundary of spec after the connection's now; one past
** HONKER_MAX_UNIX could not be stored, so it is an error. */
static int scheduler_next_after_now(sqlite3_context *ctx, const CronSpec *spec,
                                    sqlite3_int64 *next) {
  sqlite3_int64 now;
  if (honker_now(ctx, &now)) return SQLITE_ERROR;
  if (cron_sql_next(ctx, spec, now, next)) return SQLITE_ERROR;
  if (*next > HONKER_MAX_UNIX) {
    honker_result_errorf(ctx, "the schedule has no boundary by %s", HONKER_MAX_UNIX_TEXT);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* The first job's expiry, fire_at + expires_s, must end by HONKER_MAX_UNIX
** (util.h): "<fn>: expires_s must end by 9999-12-31T23:59:59Z (got ...)". */
static int scheduler_check_expiry(sqlite3_context *ctx, sqlite3_int64 fire_at,
                                  sqlite3_int64 expires_s) {
  sqlite3_int64 expires_at;
  return honker_add_seconds(ctx, "expires_s", fire_at, expires_s, &expires_at);
}

/* The expires_at of a job fired at fire_at (<= HONKER_MAX_UNIX). register and
** update refuse an expires_s that passes HONKER_MAX_UNIX at the first fire,
** but a row stored before that rule (or by honker 0.4, which has none) or a
** boundary late in year 9999 may still reach past it: such a job expires at
** HONKER_MAX_UNIX, effectively never, rather than failing the tick of every
** task. */
static sqlite3_int64 scheduler_expiry(sqlite3_int64 fire_at, sqlite3_int64 expires_s) {
  if (expires_s > 0 && expires_s > HONKER_MAX_UNIX - fire_at) return HONKER_MAX_UNIX;
  return fire_at + expires_s;
}

/* Read an integer "or NULL" argument that must be >= min when present. */
static int scheduler_arg_opt(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                             sqlite3_int64 min, sqlite3_int64 max, sqlite3_int64 *out,
                             int *is_null) {
  if (honker_arg_int_or_null(ctx, argv, i, name, out, is_null)) return SQLITE_ERROR;
  if (*is_null) return SQLITE_OK;
  if (honker_check_min(ctx, name, *out, min)) return SQLITE_ERROR;
  return honker_check_max(ctx, name, *out, max);
}

/* Read a 0/1 flag argument. */
static int scheduler_arg_flag(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                              int *out) {
  sqlite3_int64 v;
  if (honker_arg_int(ctx, argv, i, name, &v)) return SQLITE_ERROR;
  if (v != 0 && v != 1) {
    honker_result_errorf(ctx, "%s must be 0 or 1 (got %lld)", name, v);
    return SQLITE_ERROR;
  }
  *out = (int)v;
  return SQLITE_OK;
}

/* Run a one-statement write bound to name (?1); *changed = rows changed. */
static int scheduler_write_by_name(sqlite3_context *ctx, const char *sql, const char *name, int n,
                                   int *changed) {
  sqlite3_stmt *s = honker_stmt(ctx, sql);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, name, n, SQLITE_TRANSIENT);
  int rc = honker_exec_stmt(ctx, s);
  if (rc == SQLITE_OK) *changed = sqlite3_changes(honker_db(ctx));
  return rc;
}

/* --- register, unregister, pause, resume ----------------------------------------- */

static void honker_scheduler_register_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  const char *name, *queue, *expr, *payload;
  int name_n, queue_n, expr_n, payload_n, expires_null;
  sqlite3_int64 priority, expires_s, max_attempts = SCHEDULER_DEFAULT_ATTEMPTS, next;
  CronSpec spec;
  if (honker_arg_new_name(ctx, argv, 0, "name", &name, &name_n)) return;
  if (honker_arg_new_name(ctx, argv, 1, "queue", &queue, &queue_n)) return;
  if (honker_arg_text(ctx, argv, 2, "expr", &expr, &expr_n)) return;
  if (honker_arg_text(ctx, argv, 3, "payload", &payload, &payload_n)) return;
  if (honker_arg_int(ctx, argv, 4, "priority", &priority)) return;
  if (scheduler_arg_opt(ctx, argv, 5, "expires_s", 1, CRON_MAX_UNIX, &expires_s, &expires_null))
    return;
  if (argc == 7) {
    if (honker_arg_int(ctx, argv, 6, "max_attempts", &max_attempts)) return;
    if (honker_check_min(ctx, "max_attempts", max_attempts, 1)) return;
  }
  char *text = 0; /* the canonical text stored for expr */
  int text_n;
  if (cron_sql_canonical(ctx, expr, expr_n, &spec, &text, &text_n)) return;
  sqlite3_stmt *s = 0;
  if (scheduler_next_after_now(ctx, &spec, &next) ||
      (!expires_null && scheduler_check_expiry(ctx, next, expires_s)) ||
      !(s = honker_stmt(ctx, REGISTER_SQL))) {
    sqlite3_free(text);
    return;
  }
  sqlite3_bind_text(s, 1, name, name_n, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, queue, queue_n, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 3, text, text_n, sqlite3_free);
  sqlite3_bind_text(s, 4, payload, payload_n, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 5, priority);
  if (!expires_null) sqlite3_bind_int64(s, 6, expires_s);
  sqlite3_bind_int64(s, 7, next);
  sqlite3_bind_int64(s, 8, max_attempts);
  if (honker_exec_stmt(ctx, s)) return;
  sqlite3_result_int(ctx, 1);
}

static void honker_scheduler_unregister_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *name;
  int n, changed;
  if (honker_arg_name(ctx, argv, 0, "name", &name, &n)) return;
  if (scheduler_write_by_name(ctx, UNREGISTER_SQL, name, n, &changed)) return;
  sqlite3_result_int(ctx, changed > 0);
}

static void honker_scheduler_pause_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *name;
  int n, changed;
  if (honker_arg_name(ctx, argv, 0, "name", &name, &n)) return;
  if (scheduler_write_by_name(ctx, PAUSE_SQL, name, n, &changed)) return;
  sqlite3_result_int(ctx, changed > 0);
}

/* Inside the write transaction: re-enable a paused task from now on. */
static int scheduler_resume(sqlite3_context *ctx, const char *name, int n, int *changed) {
  sqlite3_stmt *s = honker_stmt(ctx, RESUME_READ_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, name, n, SQLITE_TRANSIENT);
  int rc = honker_step(ctx, s);
  if (rc == SQLITE_DONE) {
    honker_stmt_done(s);
    *changed = 0;
    return SQLITE_OK;
  }
  if (rc != SQLITE_ROW) return rc;
  CronSpec spec;
  char err[160];
  rc = cron_parse_n((const char *)sqlite3_column_text(s, 0), (size_t)sqlite3_column_bytes(s, 0),
                    &spec, err, sizeof err);
  honker_stmt_done(s);
  if (rc != CRON_OK) {
    honker_result_errorf(ctx, "task '%s' has an invalid cron_expr: %s", name, err);
    return SQLITE_ERROR;
  }
  sqlite3_int64 next;
  if (scheduler_next_after_now(ctx, &spec, &next)) return SQLITE_ERROR;
  if (!(s = honker_stmt(ctx, RESUME_SQL))) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, name, n, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, next);
  rc = honker_exec_stmt(ctx, s);
  if (rc == SQLITE_OK) *changed = sqlite3_changes(honker_db(ctx));
  return rc;
}

static void honker_scheduler_resume_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *name;
  int n, changed = 0;
  HonkerTxn txn;
  if (honker_arg_name(ctx, argv, 0, "name", &name, &n)) return;
  if (honker_write_begin(ctx, &txn)) return;
  int rc = scheduler_resume(ctx, name, n, &changed);
  if (honker_write_end(ctx, &txn, rc) == SQLITE_OK) sqlite3_result_int(ctx, changed > 0);
}

/* --- list, update, soonest ------------------------------------------------------- */

static void honker_scheduler_list_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  /* The JSON keys, in LIST_SQL's column order. */
  static const char *const keys[] = {"name",         "queue",    "cron_expr",
                                     "payload",      "priority", "expires_s",
                                     "next_fire_at", "enabled",  "max_attempts"};
  sqlite3_stmt *s = honker_stmt(ctx, LIST_SQL);
  if (!s) return;
  sqlite3_str *out = sqlite3_str_new(honker_db(ctx));
  sqlite3_str_appendchar(out, 1, '[');
  int rc, rows = 0;
  while ((rc = honker_step(ctx, s)) == SQLITE_ROW) {
    sqlite3_str_appendall(out, rows++ ? ",{" : "{");
    for (int i = 0; i < HONKER_COUNT(keys); i++) {
      sqlite3_str_appendf(out, "%s\"%s\":", i ? "," : "", keys[i]);
      if (i == 7) { /* enabled is a JSON boolean, as in honker */
        sqlite3_str_appendall(out, sqlite3_column_int64(s, i) ? "true" : "false");
      } else {
        honker_json_column(out, s, i);
      }
    }
    sqlite3_str_appendchar(out, 1, '}');
  }
  if (rc != SQLITE_DONE) {
    sqlite3_free(sqlite3_str_finish(out));
    return;
  }
  honker_stmt_done(s);
  sqlite3_str_appendchar(out, 1, ']');
  honker_result_str(ctx, out);
}

static void honker_scheduler_update_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  const char *name, *expr, *payload;
  int name_n, expr_n, payload_n, priority_null, expires_null, attempts_null = 1;
  int touch_expires, touch_attempts = 0;
  sqlite3_int64 priority, expires_s, max_attempts = 0, next = 0;
  CronSpec spec;
  if (honker_arg_name(ctx, argv, 0, "name", &name, &name_n)) return;
  if (honker_arg_text_or_null(ctx, argv, 1, "expr", &expr, &expr_n)) return;
  if (honker_arg_text_or_null(ctx, argv, 2, "payload", &payload, &payload_n)) return;
  if (honker_arg_int_or_null(ctx, argv, 3, "priority", &priority, &priority_null)) return;
  if (scheduler_arg_opt(ctx, argv, 4, "expires_s", 1, CRON_MAX_UNIX, &expires_s, &expires_null))
    return;
  if (scheduler_arg_flag(ctx, argv, 5, "touch_expires", &touch_expires)) return;
  if (argc == 8) {
    if (scheduler_arg_opt(ctx, argv, 6, "max_attempts", 1, INT64_MAX, &max_attempts,
                          &attempts_null))
      return;
    if (scheduler_arg_flag(ctx, argv, 7, "touch_max_attempts", &touch_attempts)) return;
  }
  char *text = 0; /* the canonical text stored for expr */
  int text_n = 0;
  if (expr) {
    if (cron_sql_canonical(ctx, expr, expr_n, &spec, &text, &text_n)) return;
    if (scheduler_next_after_now(ctx, &spec, &next)) {
      sqlite3_free(text);
      return;
    }
  }
  if (touch_expires && !expires_null) {
    /* Without a new expr the stored next_fire_at (>= now) is not read: now is the bound's base. */
    sqlite3_int64 base = next;
    if ((!expr && honker_now(ctx, &base)) || scheduler_check_expiry(ctx, base, expires_s)) {
      sqlite3_free(text);
      return;
    }
  }
  if (!expr && !payload && priority_null && !touch_expires && !touch_attempts) {
    sqlite3_result_int(ctx, 0); /* nothing asked to change */
    return;
  }
  sqlite3_stmt *s = honker_stmt(ctx, UPDATE_SQL);
  if (!s) {
    sqlite3_free(text);
    return;
  }
  sqlite3_bind_text(s, 1, name, name_n, SQLITE_TRANSIENT);
  if (expr) {
    sqlite3_bind_text(s, 2, text, text_n, sqlite3_free);
    sqlite3_bind_int64(s, 3, next);
  }
  if (payload) sqlite3_bind_text(s, 4, payload, payload_n, SQLITE_TRANSIENT);
  if (!priority_null) sqlite3_bind_int64(s, 5, priority);
  sqlite3_bind_int(s, 6, touch_expires);
  if (!expires_null) sqlite3_bind_int64(s, 7, expires_s);
  sqlite3_bind_int(s, 8, touch_attempts);
  sqlite3_bind_int64(s, 9, attempts_null ? SCHEDULER_DEFAULT_ATTEMPTS : max_attempts);
  if (honker_exec_stmt(ctx, s)) return;
  sqlite3_result_int(ctx, sqlite3_changes(honker_db(ctx)) > 0);
}

static void honker_scheduler_soonest_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  sqlite3_int64 v;
  sqlite3_stmt *s = honker_stmt(ctx, SOONEST_SQL);
  if (!s || honker_query_int(ctx, s, 0, &v)) return;
  sqlite3_result_int64(ctx, v);
}

/* --- tick ------------------------------------------------------------------------ */

/* One due task, copied out of TICK_DUE_SQL's row (text kept with its length). */
typedef struct SchedulerTask {
  char *buf; /* holds name, queue, payload */
  const char *name, *queue, *payload;
  int name_n, queue_n, payload_n;
  sqlite3_int64 priority, expires_s, next_fire_at, max_attempts;
  int expires_null;
  int invalid; /* cron_expr does not parse: skipped by tick */
  CronSpec spec;
} SchedulerTask;

/* Copy column i of s into *dst at buf + *at; returns the bytes copied. */
static int scheduler_copy(sqlite3_stmt *s, int i, char *buf, int *at, const char **dst) {
  const void *z = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  if (n > 0) memcpy(buf + *at, z, (size_t)n);
  buf[*at + n] = 0;
  *dst = buf + *at;
  *at += n + 1;
  return n;
}

/* Load the first due task after `after` (NULL: the first) into *t.
** Returns SQLITE_ROW (t->buf to be freed), SQLITE_DONE, or an error. */
static int scheduler_load_due(sqlite3_context *ctx, sqlite3_int64 now, const SchedulerTask *after,
                              SchedulerTask *t) {
  sqlite3_stmt *s = honker_stmt(ctx, TICK_DUE_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_int64(s, 1, now);
  if (after) sqlite3_bind_text(s, 2, after->name, after->name_n, SQLITE_TRANSIENT);
  int rc = honker_step(ctx, s);
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE) honker_stmt_done(s);
    return rc;
  }
  memset(t, 0, sizeof(*t));
  char err[160];
  /* A row we cannot parse (written by raw SQL or another version) must not
  ** stop every other schedule: tick skips it; list still shows it, and
  ** honker_scheduler_update/register with a valid expression repairs it. */
  t->invalid =
      cron_parse_n((const char *)sqlite3_column_text(s, 2), (size_t)sqlite3_column_bytes(s, 2),
                   &t->spec, err, sizeof err) != CRON_OK;
  /* Fetch first, then measure (SQLite's rule for column_blob/column_bytes). */
  sqlite3_column_blob(s, 0);
  sqlite3_column_blob(s, 1);
  sqlite3_column_blob(s, 3);
  sqlite3_int64 size = (sqlite3_int64)sqlite3_column_bytes(s, 0) + sqlite3_column_bytes(s, 1) +
                       sqlite3_column_bytes(s, 3) + 3;
  if (!(t->buf = sqlite3_malloc64((sqlite3_uint64)size))) {
    honker_stmt_done(s);
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  int at = 0;
  t->name_n = scheduler_copy(s, 0, t->buf, &at, &t->name);
  t->queue_n = scheduler_copy(s, 1, t->buf, &at, &t->queue);
  t->payload_n = scheduler_copy(s, 3, t->buf, &at, &t->payload);
  t->priority = sqlite3_column_int64(s, 4);
  t->expires_null = sqlite3_column_type(s, 5) == SQLITE_NULL;
  t->expires_s = sqlite3_column_int64(s, 5);
  t->next_fire_at = sqlite3_column_int64(s, 6);
  t->max_attempts = sqlite3_column_int64(s, 7);
  honker_stmt_done(s);
  return SQLITE_ROW;
}

/* Fire the due boundaries of t (at most SCHEDULER_MAX_CATCHUP), advance its
** next_fire_at past now, and append one JSON object per job to out. */
static int scheduler_fire(sqlite3_context *ctx, const SchedulerTask *t, sqlite3_int64 now,
                          sqlite3_str *out, int *fired_total) {
  sqlite3_int64 fires[SCHEDULER_MAX_CATCHUP], next = t->next_fire_at;
  int count = 0;
  while (next <= now && count < SCHEDULER_MAX_CATCHUP) {
    fires[count++] = next;
    if (cron_sql_next(ctx, &t->spec, next, &next)) return SQLITE_ERROR;
  }
  /* Catch-up cap reached: skip the remaining missed boundaries. */
  if (next <= now && cron_sql_next(ctx, &t->spec, now, &next)) return SQLITE_ERROR;

  sqlite3_stmt *s = honker_stmt(ctx, TICK_ADVANCE_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, t->name, t->name_n, SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, next);
  sqlite3_bind_int64(s, 3, t->next_fire_at);
  sqlite3_bind_int64(s, 4, HONKER_MAX_UNIX);
  int rc = honker_exec_stmt(ctx, s);
  if (rc != SQLITE_OK) return rc;
  if (sqlite3_changes(honker_db(ctx)) == 0) return SQLITE_OK; /* another ticker won */

  for (int i = 0; i < count; i++) {
    sqlite3_int64 id;
    if (!(s = honker_stmt(ctx, TICK_ENQUEUE_SQL))) return SQLITE_ERROR;
    sqlite3_bind_text(s, 1, t->queue, t->queue_n, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, t->payload, t->payload_n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, fires[i]);
    sqlite3_bind_int64(s, 4, t->priority);
    sqlite3_bind_int64(s, 5, t->max_attempts);
    if (!t->expires_null) sqlite3_bind_int64(s, 6, scheduler_expiry(fires[i], t->expires_s));
    if ((rc = honker_query_int(ctx, s, 0, &id)) != SQLITE_OK) return rc;
    sqlite3_str_appendall(out, (*fired_total)++ ? ",{\"name\":" : "{\"name\":");
    honker_json_string(out, t->name, t->name_n);
    sqlite3_str_appendall(out, ",\"queue\":");
    honker_json_string(out, t->queue, t->queue_n);
    sqlite3_str_appendf(out, ",\"fire_at\":%lld,\"job_id\":%lld}", fires[i], id);
  }
  return SQLITE_OK;
}

/* Inside the write transaction: fire every due task, in name order. */
static int scheduler_tick(sqlite3_context *ctx, sqlite3_int64 now, sqlite3_str *out) {
  SchedulerTask tasks[2], *prev = 0;
  int fired = 0, k = 0, rc;
  while ((rc = scheduler_load_due(ctx, now, prev, &tasks[k])) == SQLITE_ROW) {
    if (prev) sqlite3_free(prev->buf);
    prev = &tasks[k];
    k ^= 1;
    if (prev->invalid) continue;
    if ((rc = scheduler_fire(ctx, prev, now, out, &fired)) != SQLITE_OK) break;
  }
  if (prev) sqlite3_free(prev->buf);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void honker_scheduler_tick_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 now;
  HonkerTxn txn;
  if (honker_arg_int(ctx, argv, 0, "now", &now)) return;
  if (honker_check_min(ctx, "now", now, CRON_MIN_UNIX)) return;
  if (honker_check_max(ctx, "now", now, CRON_MAX_UNIX)) return;
  if (honker_write_begin(ctx, &txn)) return;
  sqlite3_str *out = sqlite3_str_new(honker_db(ctx));
  sqlite3_str_appendchar(out, 1, '[');
  int rc = scheduler_tick(ctx, now, out);
  sqlite3_str_appendchar(out, 1, ']');
  if (honker_write_end(ctx, &txn, rc) != SQLITE_OK) {
    sqlite3_free(sqlite3_str_finish(out));
    return;
  }
  honker_result_str(ctx, out);
}

/* --- registration ---------------------------------------------------------------- */

static const HonkerFunc scheduler_functions[] = {
    {"honker_cron_next_after", 2, honker_cron_next_after_fn, SQLITE_INNOCUOUS},
    {"honker_cron_error", 1, honker_cron_error_fn, SQLITE_INNOCUOUS},
    {"honker_scheduler_register", 6, honker_scheduler_register_fn, HONKER_FN_DB},
    {"honker_scheduler_register", 7, honker_scheduler_register_fn, HONKER_FN_DB},
    {"honker_scheduler_unregister", 1, honker_scheduler_unregister_fn, HONKER_FN_DB},
    {"honker_scheduler_pause", 1, honker_scheduler_pause_fn, HONKER_FN_DB},
    {"honker_scheduler_resume", 1, honker_scheduler_resume_fn, HONKER_FN_DB},
    {"honker_scheduler_list", 0, honker_scheduler_list_fn, HONKER_FN_DB},
    {"honker_scheduler_update", 6, honker_scheduler_update_fn, HONKER_FN_DB},
    {"honker_scheduler_update", 8, honker_scheduler_update_fn, HONKER_FN_DB},
    {"honker_scheduler_tick", 1, honker_scheduler_tick_fn, HONKER_FN_DB},
    {"honker_scheduler_soonest", 0, honker_scheduler_soonest_fn, HONKER_FN_DB},
};

int honker_scheduler_register_functions(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, scheduler_functions, HONKER_COUNT(scheduler_functions),
                                   pzErrMsg);
}
