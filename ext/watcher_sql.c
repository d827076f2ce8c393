/*
** watcher_sql.c — the watcher as SQL functions (spec/sql.md "Watcher"), for
** hosts that cannot call the C ABI (honker's Elixir binding, scripts).
** Each function runs the C ABI of watcher.c; handles live in a process-wide
** table keyed by an integer id. All three are registered SQLITE_DIRECTONLY:
** they start threads and block, effects outside the database file, so SQLite
** refuses them in triggers, views, CHECK constraints and generated columns
** ("unsafe use of honker_update_watcher_open()"); call them from top-level SQL.
**
**   honker_update_watcher_open(db_path, backend|NULL [, poll_ms|NULL]) -> id
**     Starts a watcher on the existing database file db_path (TEXT path, not
**     a URI); backend NULL or '' (the best: 'kernel' where inotify works,
**     else the poller), 'kernel' or 'kernel-watcher' (inotify, polling where
**     it cannot be had), 'polling' or 'poll' (see watcher.c); poll_ms NULL
**     (1 ms) or 1..60000, the poller's interval (kernel: its fallback's).
**     Returns a handle id (INTEGER >= 1), unique for the life of the process
**     (never reused). Errors: the C ABI's message, e.g.
**       honker_update_watcher_open: unknown watcher backend 'x'; valid: ...
**       honker_update_watcher_open: cannot watch 'no.db': No such file ...
**       honker_update_watcher_open: poll_ms must be >= 1 (got 0)
**     Example: SELECT honker_update_watcher_open('/srv/app.db', NULL);
**
**   honker_update_watcher_wait(id, timeout_ms) -> 1 | 0 | -1
**     Blocks the calling thread until a commit is seen (1; commits since this
**     handle's previous 1, or since open, coalesce into one), timeout_ms
**     passes (0), or the handle is closed or dead (-1). timeout_ms < 0 waits
**     with no time limit (as the C ABI), at most 2147483647. An unknown or
**     already closed id returns -1, as honker does. A -1 caused by a dead
**     watcher (database file replaced or deleted) also closes the handle.
**     The wait uses no connection of the caller: it never holds the caller's
**     read snapshot or lock (but a wait inside the caller's own transaction
**     keeps that transaction open while it blocks).
**     Example: SELECT honker_update_watcher_wait(1, 1000);
**
**   honker_update_watcher_close(id) -> 1
**     Stops the watcher; waits blocked on id in other threads return -1.
**     Closing an unknown or closed id is a no-op that also returns 1.
**     Example: SELECT honker_update_watcher_close(1);
**
** Invariants:
**   - a SqlWatcher is freed (and its HonkerWatcher closed) only when no SQL
**     call holds it: every call takes a reference under watcher_sql_mu
**     before it touches the watcher, so close() never frees a handle that a
**     concurrent wait is about to enter;
**   - the table's own reference is dropped exactly once, by whichever of
**     close or a dead wait unlists the entry first.
*/
#include "util.h"
#include "watcher.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

/* One handle of the table. */
typedef struct SqlWatcher {
  sqlite3_int64 id;
  HonkerWatcher *w;
  int users; /* references: SQL calls in flight, plus 1 while listed */
  struct SqlWatcher *next;
} SqlWatcher;

static pthread_mutex_t watcher_sql_mu = PTHREAD_MUTEX_INITIALIZER;
static SqlWatcher *watcher_sql_list;          /* guarded by watcher_sql_mu */
static sqlite3_int64 watcher_sql_next_id = 1; /* guarded by watcher_sql_mu */

/* The listed entry with this id, with one more reference; NULL if none. */
static SqlWatcher *watcher_sql_acquire(sqlite3_int64 id) {
  pthread_mutex_lock(&watcher_sql_mu);
  SqlWatcher *e = watcher_sql_list;
  while (e && e->id != id)
    e = e->next;
  if (e) e->users++;
  pthread_mutex_unlock(&watcher_sql_mu);
  return e;
}

/* Drop one reference; the last one closes the watcher and frees the entry. */
static void watcher_sql_release(SqlWatcher *e) {
  pthread_mutex_lock(&watcher_sql_mu);
  int last = --e->users == 0;
  pthread_mutex_unlock(&watcher_sql_mu);
  if (!last) return;
  honker_watcher_close(e->w); /* every wait on it has returned: no blocking here */
  sqlite3_free(e);
}

/* Unlist e (once) and stop its watcher so waits in flight return -1. The
** caller holds a reference, so e outlives this call. */
static void watcher_sql_retire(SqlWatcher *e) {
  int unlisted = 0;
  pthread_mutex_lock(&watcher_sql_mu);
  for (SqlWatcher **pp = &watcher_sql_list; *pp; pp = &(*pp)->next) {
    if (*pp == e) {
      *pp = e->next;
      e->users--; /* the table's reference; the caller's keeps it > 0 */
      unlisted = 1;
      break;
    }
  }
  pthread_mutex_unlock(&watcher_sql_mu);
  if (unlisted) watcher_stop(e->w);
}

/* Read a TEXT argument that must not hide a NUL (C would stop reading there). */
static int watcher_sql_arg_cstr(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                                int or_null, const char **out) {
  int n = 0;
  int rc = or_null ? honker_arg_text_or_null(ctx, argv, i, name, out, &n)
                   : honker_arg_text(ctx, argv, i, name, out, &n);
  if (rc) return rc;
  if (*out && (int)strlen(*out) != n) {
    honker_result_errorf(ctx, "%s must not contain NUL bytes", name);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* honker_update_watcher_open(db_path, backend [, poll_ms]) */
static void honker_update_watcher_open_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  const char *path, *backend;
  sqlite3_int64 poll_ms = 0;
  int poll_null = 1;
  if (watcher_sql_arg_cstr(ctx, argv, 0, "db_path", 0, &path)) return;
  if (watcher_sql_arg_cstr(ctx, argv, 1, "backend", 1, &backend)) return;
  if (argc > 2) {
    if (honker_arg_int_or_null(ctx, argv, 2, "poll_ms", &poll_ms, &poll_null)) return;
    if (!poll_null && (honker_check_min(ctx, "poll_ms", poll_ms, 1) ||
                       honker_check_max(ctx, "poll_ms", poll_ms, 60000))) {
      return;
    }
  }
  char err[512];
  HonkerWatcher *w =
      honker_watcher_open_v2(path, backend, poll_null ? 0 : (int)poll_ms, err, (int)sizeof err);
  if (!w) {
    honker_result_errorf(ctx, "%s", err);
    return;
  }
  SqlWatcher *e = sqlite3_malloc(sizeof(*e));
  if (!e) {
    honker_watcher_close(w);
    sqlite3_result_error_nomem(ctx);
    return;
  }
  e->w = w;
  e->users = 1;
  pthread_mutex_lock(&watcher_sql_mu);
  e->id = watcher_sql_next_id++;
  e->next = watcher_sql_list;
  watcher_sql_list = e;
  pthread_mutex_unlock(&watcher_sql_mu);
  sqlite3_result_int64(ctx, e->id);
}

/* honker_update_watcher_wait(id, timeout_ms) */
static void honker_update_watcher_wait_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id, timeout_ms;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  if (honker_arg_int(ctx, argv, 1, "timeout_ms", &timeout_ms)) return;
  if (honker_check_max(ctx, "timeout_ms", timeout_ms, INT_MAX)) return;
  SqlWatcher *e = watcher_sql_acquire(id);
  if (!e) {
    sqlite3_result_int(ctx, -1); /* closed or never opened: honker says -1 too */
    return;
  }
  int r = honker_watcher_wait(e->w, timeout_ms < 0 ? -1 : (int)timeout_ms);
  if (r < 0) watcher_sql_retire(e); /* dead (or closed meanwhile): free it like honker */
  watcher_sql_release(e);
  sqlite3_result_int(ctx, r);
}

/* honker_update_watcher_close(id) */
static void honker_update_watcher_close_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 id;
  if (honker_arg_int(ctx, argv, 0, "id", &id)) return;
  SqlWatcher *e = watcher_sql_acquire(id);
  if (e) {
    watcher_sql_retire(e);
    watcher_sql_release(e);
  }
  sqlite3_result_int(ctx, 1);
}

static const HonkerFunc WATCHER_FUNCS[] = {
    {"honker_update_watcher_open", 2, honker_update_watcher_open_fn, SQLITE_DIRECTONLY},
    {"honker_update_watcher_open", 3, honker_update_watcher_open_fn, SQLITE_DIRECTONLY},
    {"honker_update_watcher_wait", 2, honker_update_watcher_wait_fn, SQLITE_DIRECTONLY},
    {"honker_update_watcher_close", 1, honker_update_watcher_close_fn, SQLITE_DIRECTONLY},
};

int honker_watcher_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, WATCHER_FUNCS, HONKER_COUNT(WATCHER_FUNCS), pzErrMsg);
}
