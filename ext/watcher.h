/*
** watcher.h — private glue of the watcher concern: the handle shared by
** watcher.c (open/wait/close, the data_version poller), watcher_kernel.c (the
** inotify backend, Linux) and watcher_sql.c (the honker_update_watcher_* SQL
** functions). Not installed, not exported.
*/
#ifndef HONKER_WATCHER_H
#define HONKER_WATCHER_H

#include "honker_ext.h"
#include "util.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define WATCHER_LINGER_MS 250 /* keep watching this long after the last wait left */

struct HonkerWatcher {
  pthread_mutex_t mu;
  pthread_cond_t cv_wait; /* waiters: a check brought news, or stop/death */
  pthread_cond_t cv_poll; /* thread: a wait kicked it, or stop */
  pthread_cond_t cv_idle; /* closer: the last waiter left */
  pthread_t thread;

  /* Guarded by mu. */
  uint64_t gen;          /* observed changes */
  uint64_t seen;         /* gen when a wait last returned 1 (gen at open before that) */
  uint64_t polls;        /* completed data_version checks */
  int n_waiters;         /* waits in progress */
  int64_t idle_since_ns; /* when n_waiters last became 0 */
  int parked;            /* the thread sleeps until kicked */
  int kick;              /* a wait asked for a check now */
  int stopping;          /* close()/watcher_stop() was called */
  int dead;              /* the file was replaced or deleted */

  /* Owned by the thread (by the opener before the thread starts). */
  sqlite3 *db;
  sqlite3_stmt *stmt;
  sqlite3_int64 version; /* last data_version read */
  int have_version;      /* version holds a value */
  int in_error;          /* the last check failed with a non-busy error */
  dev_t dev;             /* identity of the file at open */
  ino_t ino;
  int64_t interval_ns; /* the poller's interval (the kernel backend's fallback) */
  char *path;          /* realpath() of db_path (malloc) */
  int inotify_fd;      /* the kernel backend's inotify instance, -1 while polling */

  /* Set at open, closed by watcher_free (after the join): written by
  ** watcher_stop() so that a thread blocked in ppoll() returns. -1 if none. */
  int wake_fd;
};

/* --- watcher.c, for watcher_kernel.c ----------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t watcher_now_ns(void);
/* Step PRAGMA data_version once; 1 when waiters should wake (thread only). */
int watcher_check(HonkerWatcher *w);
/* 1 when the path no longer names the file opened (thread only). */
int watcher_replaced(HonkerWatcher *w);
/* With mu held: when nobody has waited for WATCHER_LINGER_MS, sleep until a
** wait kicks or close is called; returns 1 when it slept. */
int watcher_park_if_idle(HonkerWatcher *w);
/* With mu held: record one round's outcome and wake the waiters that care. */
void watcher_publish(HonkerWatcher *w, int checked, int changed, int dead, int kicked);

/* --- watcher_kernel.c ----------------------------------------------------------- */

/* Set up inotify on the directory of w->path (w->inotify_fd, w->wake_fd);
** 0 on success, -1 when the kernel backend cannot work here: no inotify (not
** Linux, out of instances or watches), or a network filesystem. */
int watcher_kernel_open(HonkerWatcher *w);
/* The thread's loop while inotify is trusted. Returns 1 when the watcher is
** finished (stopping or dead), 0 when inotify failed or missed commits: the
** inotify fd is closed and the caller polls every interval instead. */
int watcher_kernel_run(HonkerWatcher *w);
/* Make a thread blocked in watcher_kernel_run's ppoll() return (any thread). */
void watcher_kernel_wake(HonkerWatcher *w);

/* --- watcher.c, for watcher_sql.c ----------------------------------------------- */

/* Make every current and later wait on w return -1 without freeing w, so a
** caller that still holds w (a SQL wait in flight) can finish before
** honker_watcher_close(w) frees it. Idempotent; safe from any thread. */
void watcher_stop(HonkerWatcher *w);

#endif /* HONKER_WATCHER_H */
