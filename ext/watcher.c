/*
** watcher.c — wake on commit: the watcher C ABI of honker_ext.h (spec/sql.md
** "Watcher"): open, wait, close and the data_version poller. The inotify
** backend is watcher_kernel.c; the SQL functions honker_update_watcher_* are
** in watcher_sql.c, on top of this ABI.
**
**   HonkerWatcher *honker_watcher_open(db_path, backend, err_buf, err_len)
**   HonkerWatcher *honker_watcher_open_v2(db_path, backend, poll_interval_ms,
**                                         err_buf, err_len)
**     Start watching the existing database file db_path (a path, not a URI).
**     backend:
**       NULL or ""                the best available: 'kernel' where inotify
**                                 works, else the poller;
**       "kernel", "kernel-watcher"  inotify on the database's directory,
**                                 confirmed by PRAGMA data_version
**                                 (watcher_kernel.c); where inotify cannot
**                                 be used (not Linux, no inotify instance or
**                                 watch left, a network filesystem) it polls
**                                 instead, with the same contract;
**       "polling", "poll"         the poller: PRAGMA data_version every
**                                 poll_interval_ms.
**     poll_interval_ms: the poller's interval (for 'kernel', the interval of
**     its fallback poll); <= 0 means the default 1 ms, at most 60000. On
**     failure returns NULL and writes a NUL-terminated message into err_buf
**     (truncated to err_len - 1 bytes; nothing is written when err_buf is
**     NULL or err_len <= 0):
**       watcher backend 'shm' requires the shm-fast-path feature, ...
**       unknown watcher backend 'x'; valid: NULL, '', 'kernel', ...
**       cannot watch '/no/such.db': No such file or directory ...
**   int honker_watcher_wait(w, timeout_ms)
**     1 when a commit was seen since this handle's previous wait returned 1
**     (or since open), 0 when timeout_ms passed first, -1 when the watcher is
**     closed or dead. timeout_ms < 0 waits until one of those happens.
**   void honker_watcher_close(w)
**     Blocked waits return -1; then the thread is joined and w is freed.
**   Example (C, after the library was loaded as an extension):
**     HonkerWatcher *w = honker_watcher_open("app.db", NULL, err, sizeof err);
**     while (honker_watcher_wait(w, 1000) >= 0) { ... re-read the queue ... }
**
** How it works. Each handle owns one thread and one read-only connection to
** the file, opened through the host's SQLite (the sqlite3_api routines the
** extension was loaded with: the library must have been loaded as an
** extension at least once in the process before the C ABI is called, which
** is what honker's bindings do). The thread steps a prepared PRAGMA
** data_version: a different value means another connection committed (a
** ROLLBACK leaves it unchanged). When to step it is the backend's business:
** the poller steps it every interval; the kernel backend when inotify
** reports a write to the -wal (see watcher_kernel.c), with a safety check
** every 500 ms. On a change the thread bumps a generation counter and
** broadcasts a condition variable, so every waiter sees one change however
** many commits landed (waits coalesce). Waiters compare the generation with
** the one they started from: several threads may wait on one handle and all
** of them wake on one commit.
**
** Invariants:
**   - the database, its -wal and -shm are never opened with a raw file
**     descriptor: closing one would drop SQLite's POSIX locks for the whole
**     process. The file identity check uses stat() on the path; inotify
**     watches the directory, which opens no file;
**   - the statement is reset after every step, so the watcher never holds a
**     read snapshot (it never blocks a checkpoint), and a wait never touches
**     the caller's connection;
**   - SQLITE_BUSY / SQLITE_LOCKED is "no change this time" (a rollback-journal
**     writer mid-commit); any other error wakes the waiters once, as a change
**     might have been missed, and the check is retried;
**   - the file is stat()ed whenever a wait starts on a parked thread and
**     then at least every WATCHER_IDENTITY_MS (poller) or 500 ms (kernel,
**     which also checks at once when the directory reports a rename, delete
**     or create of the database's name): a different (st_dev, st_ino), or no
**     file, means the database was replaced or deleted. The watcher is then
**     dead for good: the thread closes its connection and exits, and every
**     wait returns -1 until close;
**   - idle cost: while no wait is in progress (for WATCHER_LINGER_MS) the
**     thread parks instead of watching (~0.03% of a core). While a wait
**     blocks, the 1 ms poller costs ~2% of a core (half of that is the 1 kHz
**     timer wakeup itself, half the data_version read) and the kernel backend
**     ~0.005% (bench/watcher-c.ts). A wait that finds the thread parked kicks
**     it and waits for that one check (and identity check) before it looks
**     at the generation, so no commit made while parked is missed, even by a
**     wait with timeout 0;
**   - close() is safe against waits blocked on the same handle (they return
**     -1, and close frees nothing until they have left). A wait must not
**     start after close() was called: the handle is freed when close returns.
**   - the thread blocks every signal, so the host's handlers run on its own
**     threads. Not fork-safe: a child process must open its own watcher.
*/
/* realpath, strerror_r, pthread_condattr_setclock: must precede every include. */
#define _XOPEN_SOURCE 700
#include "util.h"
#include "watcher.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WATCHER_DEFAULT_INTERVAL_MS 1
#define WATCHER_MAX_INTERVAL_MS 60000
#define WATCHER_IDENTITY_MS 100   /* the poller notices a replacement within about this */
#define WATCHER_OPEN_BUSY_MS 2000 /* busy_timeout while reading the baseline */

static const char WATCHER_CHECK_SQL[] = "PRAGMA data_version";

/* The backends a name selects (watcher_backend). */
typedef enum { WATCHER_BEST, WATCHER_KERNEL, WATCHER_POLL } WatcherBackend;

/* --- time -------------------------------------------------------------------- */

int64_t watcher_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec watcher_timespec(int64_t ns) {
  struct timespec ts;
  ts.tv_sec = (time_t)(ns / 1000000000);
  ts.tv_nsec = (long)(ns % 1000000000);
  return ts;
}

/* Wait on cv until deadline_ns (CLOCK_MONOTONIC); returns ETIMEDOUT when it passed. */
static int watcher_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ns) {
  struct timespec ts = watcher_timespec(deadline_ns);
  return pthread_cond_timedwait(cv, mu, &ts);
}

/* --- errors ------------------------------------------------------------------- */

/* Write a formatted, NUL-terminated message into err_buf (never past err_len). */
static void watcher_error(char *err_buf, int err_len, const char *fmt, ...) {
  if (!err_buf || err_len <= 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err_buf, (size_t)err_len, fmt, ap);
  va_end(ap);
}

/* Read the backend name into *out; 0 when it is one we run, else write the error. */
static int watcher_backend(const char *backend, WatcherBackend *out, char *err_buf, int err_len) {
  if (!backend || !*backend) {
    *out = WATCHER_BEST;
  } else if (!strcmp(backend, "kernel") || !strcmp(backend, "kernel-watcher")) {
    *out = WATCHER_KERNEL;
  } else if (!strcmp(backend, "polling") || !strcmp(backend, "poll")) {
    *out = WATCHER_POLL;
  } else if (!strcmp(backend, "shm") || !strcmp(backend, "shm-fast-path")) {
    /* honker's bindings look for "requires the" and then skip the backend. */
    watcher_error(err_buf, err_len,
                  "watcher backend 'shm' requires the shm-fast-path feature, which this build "
                  "of honker_ext does not include; use NULL, 'kernel' or 'polling'");
    return 1;
  } else {
    watcher_error(err_buf, err_len,
                  "unknown watcher backend '%.200s'; valid: NULL, '', 'kernel', "
                  "'kernel-watcher', 'polling', 'poll' ('shm' is not built into honker_ext)",
                  backend);
    return 1;
  }
  return 0;
}

/* --- the thread ---------------------------------------------------------------- */

int watcher_check(HonkerWatcher *w) {
  int rc = sqlite3_step(w->stmt);
  if (rc == SQLITE_ROW) {
    sqlite3_int64 v = sqlite3_column_int64(w->stmt, 0);
    sqlite3_reset(w->stmt); /* end the read transaction now */
    int wake = !w->have_version || w->in_error || v != w->version;
    w->version = v;
    w->have_version = 1;
    w->in_error = 0;
    return wake;
  }
  rc = sqlite3_reset(w->stmt) & 0xff;
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return 0; /* a writer mid-commit */
  if (w->in_error) return 0;                              /* already woke them for this outage */
  w->in_error = 1;
  return 1;
}

int watcher_replaced(HonkerWatcher *w) {
  struct stat st;
  if (stat(w->path, &st) != 0) return errno == ENOENT || errno == ENOTDIR;
  return st.st_dev != w->dev || st.st_ino != w->ino;
}

int watcher_park_if_idle(HonkerWatcher *w) {
  if (w->n_waiters > 0) return 0;
  if (watcher_now_ns() - w->idle_since_ns < (int64_t)WATCHER_LINGER_MS * 1000000) return 0;
  /* Nobody has waited for a while: cost nothing until a wait kicks us. */
  w->parked = 1;
  while (!w->stopping && !w->kick)
    pthread_cond_wait(&w->cv_poll, &w->mu);
  w->parked = 0;
  return 1;
}

void watcher_publish(HonkerWatcher *w, int checked, int changed, int dead, int kicked) {
  if (changed) w->gen++;
  if (dead) w->dead = 1;
  if (checked) w->polls++;
  if (changed || dead || kicked) pthread_cond_broadcast(&w->cv_wait);
}

/* The poller: sleep an interval (or park while nobody waits), check, publish. */
static void watcher_poll_run(HonkerWatcher *w) {
  int64_t next_identity_ns = watcher_now_ns() + (int64_t)WATCHER_IDENTITY_MS * 1000000;
  pthread_mutex_lock(&w->mu);
  while (!w->stopping) {
    if (!w->kick && !watcher_park_if_idle(w)) {
      int64_t deadline = watcher_now_ns() + w->interval_ns;
      while (!w->stopping && !w->kick &&
             watcher_cond_wait_until(&w->cv_poll, &w->mu, deadline) != ETIMEDOUT) {
      }
    }
    if (w->stopping) break;
    int kicked = w->kick;
    w->kick = 0;
    pthread_mutex_unlock(&w->mu);

    int changed = watcher_check(w);
    int dead = 0;
    int64_t now = watcher_now_ns();
    if (kicked || now >= next_identity_ns) {
      dead = watcher_replaced(w);
      next_identity_ns = now + (int64_t)WATCHER_IDENTITY_MS * 1000000;
    }

    pthread_mutex_lock(&w->mu);
    watcher_publish(w, 1, changed, dead, kicked);
    if (dead) break;
  }
  pthread_mutex_unlock(&w->mu);
}

/* The thread: the kernel backend while it is trusted, the poller otherwise. */
static void *watcher_main(void *arg) {
  HonkerWatcher *w = (HonkerWatcher *)arg;
  int finished = w->inotify_fd >= 0 && watcher_kernel_run(w);
  if (!finished) watcher_poll_run(w);
  /* Release the file as soon as we stop (dead, or close() is joining us). */
  sqlite3_finalize(w->stmt);
  sqlite3_close(w->db);
  w->stmt = 0;
  w->db = 0;
  return 0;
}

/* --- open ------------------------------------------------------------------------ */

/* Free a handle whose thread never started or was joined. */
static void watcher_free(HonkerWatcher *w) {
  if (w->stmt) sqlite3_finalize(w->stmt);
  if (w->db) sqlite3_close(w->db);
  if (w->inotify_fd >= 0) close(w->inotify_fd);
  if (w->wake_fd >= 0) close(w->wake_fd);
  pthread_cond_destroy(&w->cv_idle);
  pthread_cond_destroy(&w->cv_poll);
  pthread_cond_destroy(&w->cv_wait);
  pthread_mutex_destroy(&w->mu);
  free(w->path);
  free(w);
}

/* Init the mutex and the CLOCK_MONOTONIC condition variables; 0 on success. */
static int watcher_init_sync(HonkerWatcher *w) {
  pthread_condattr_t attr;
  if (pthread_condattr_init(&attr)) return -1;
  int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (!rc) rc = pthread_mutex_init(&w->mu, 0);
  if (!rc) rc = pthread_cond_init(&w->cv_wait, &attr);
  if (!rc) rc = pthread_cond_init(&w->cv_poll, &attr);
  if (!rc) rc = pthread_cond_init(&w->cv_idle, &attr);
  pthread_condattr_destroy(&attr);
  return rc ? -1 : 0; /* only fails on resource exhaustion: the process is in trouble */
}

/* Open the read-only connection and read the baseline data_version. */
static int watcher_connect(HonkerWatcher *w, char *err_buf, int err_len) {
  int rc = sqlite3_open_v2(
      w->path, &w->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE, 0);
  if (rc == SQLITE_OK) {
    /* A rollback-journal writer may hold the lock for a moment: wait for the
    ** baseline, then never again (a check must not block close or death). */
    sqlite3_busy_timeout(w->db, WATCHER_OPEN_BUSY_MS);
    rc = sqlite3_prepare_v2(w->db, WATCHER_CHECK_SQL, -1, &w->stmt, 0);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(w->stmt);
    if (rc == SQLITE_ROW) {
      w->version = sqlite3_column_int64(w->stmt, 0);
      w->have_version = 1;
    }
    rc = sqlite3_reset(w->stmt);
    /* Still busy: the first successful check sets the baseline and wakes. */
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) rc = SQLITE_OK;
    sqlite3_busy_timeout(w->db, 0);
  }
  if (rc != SQLITE_OK) {
    watcher_error(err_buf, err_len, "cannot watch '%.500s': %s", w->path,
                  w->db ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc));
    return -1;
  }
  return 0;
}

/* Start the thread with every signal blocked (the host keeps its handlers). */
static int watcher_start(HonkerWatcher *w) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&w->thread, 0, watcher_main, w);
  pthread_sigmask(SIG_SETMASK, &old, 0);
  return rc;
}

HONKER_API HonkerWatcher *honker_watcher_open_v2(const char *db_path, const char *backend,
                                                 int poll_interval_ms, char *err_buf, int err_len) {
  if (err_buf && err_len > 0) err_buf[0] = 0;
  WatcherBackend kind;
  if (watcher_backend(backend, &kind, err_buf, err_len)) return 0;
  if (!db_path) {
    watcher_error(err_buf, err_len, "db_path is NULL");
    return 0;
  }
  if (poll_interval_ms > WATCHER_MAX_INTERVAL_MS) {
    watcher_error(err_buf, err_len, "poll_interval_ms must be <= %d (got %d)",
                  WATCHER_MAX_INTERVAL_MS, poll_interval_ms);
    return 0;
  }
  if (!sqlite3_api) {
    watcher_error(err_buf, err_len,
                  "honker_ext is not loaded as a SQLite extension in this process: load it "
                  "(load_extension) before calling honker_watcher_open");
    return 0;
  }
  if (!sqlite3_threadsafe()) {
    watcher_error(err_buf, err_len,
                  "the host SQLite is built with SQLITE_THREADSAFE=0; the watcher's thread "
                  "needs a thread-safe SQLite");
    return 0;
  }

  char *path = realpath(db_path, 0);
  struct stat st;
  if (!path || stat(path, &st) != 0) {
    char why[128];
    if (strerror_r(errno, why, sizeof why)) snprintf(why, sizeof why, "errno %d", errno);
    watcher_error(err_buf, err_len,
                  "cannot watch '%.500s': %s (the database file must exist; the watcher never "
                  "creates it)",
                  db_path, why);
    free(path);
    return 0;
  }
  if (!S_ISREG(st.st_mode)) {
    watcher_error(err_buf, err_len, "cannot watch '%.500s': not a regular file", db_path);
    free(path);
    return 0;
  }

  HonkerWatcher *w = calloc(1, sizeof(*w));
  if (!w || watcher_init_sync(w)) {
    watcher_error(err_buf, err_len, "out of memory");
    free(w);
    free(path);
    return 0;
  }
  w->path = path;
  w->inotify_fd = -1;
  w->wake_fd = -1;
  /* Identity before the connection: a replacement in between reads as dead. */
  w->dev = st.st_dev;
  w->ino = st.st_ino;
  w->interval_ns =
      (int64_t)(poll_interval_ms > 0 ? poll_interval_ms : WATCHER_DEFAULT_INTERVAL_MS) * 1000000;
  w->idle_since_ns = watcher_now_ns(); /* watch through the linger period after open */
  if (watcher_connect(w, err_buf, err_len)) {
    watcher_free(w);
    return 0;
  }
  /* After the connection (so the watch starts after the baseline was read;
  ** a commit in between is seen at the first check): where inotify cannot
  ** be used, 'kernel' and the default poll instead, as the contract allows. */
  if (kind != WATCHER_POLL) watcher_kernel_open(w);
  int rc = watcher_start(w);
  if (rc) {
    char why[128];
    if (strerror_r(rc, why, sizeof why)) snprintf(why, sizeof why, "error %d", rc);
    watcher_error(err_buf, err_len, "cannot start the watcher thread: %s", why);
    watcher_free(w);
    return 0;
  }
  return w;
}

HONKER_API HonkerWatcher *honker_watcher_open(const char *db_path, const char *backend,
                                              char *err_buf, int err_len) {
  return honker_watcher_open_v2(db_path, backend, 0, err_buf, err_len);
}

/* --- wait and close --------------------------------------------------------------- */

HONKER_API int honker_watcher_wait(HonkerWatcher *w, int timeout_ms) {
  if (!w) return -1;
  int64_t deadline = timeout_ms >= 0 ? watcher_now_ns() + (int64_t)timeout_ms * 1000000 : 0;
  pthread_mutex_lock(&w->mu);
  w->n_waiters++;
  if (w->parked && !w->stopping) {
    /* Commits made while the thread slept are only known after one check. */
    uint64_t target = w->polls + 1;
    w->kick = 1;
    pthread_cond_signal(&w->cv_poll);
    while (w->polls < target && !w->stopping && !w->dead)
      pthread_cond_wait(&w->cv_wait, &w->mu);
  }
  uint64_t base = w->seen;
  int result = 0;
  for (;;) {
    if (w->stopping || w->dead) {
      result = -1;
      break;
    }
    if (w->gen != base) {
      result = 1;
      w->seen = w->gen; /* gen only grows: seen never moves back */
      break;
    }
    if (timeout_ms < 0) {
      pthread_cond_wait(&w->cv_wait, &w->mu);
    } else if (timeout_ms == 0 ||
               watcher_cond_wait_until(&w->cv_wait, &w->mu, deadline) == ETIMEDOUT) {
      timeout_ms = 0; /* one last look at the state, then time out */
      if (w->stopping || w->dead || w->gen != base) continue;
      break;
    }
  }
  if (--w->n_waiters == 0) {
    w->idle_since_ns = watcher_now_ns();
    if (w->stopping) pthread_cond_broadcast(&w->cv_idle);
  }
  pthread_mutex_unlock(&w->mu);
  return result;
}

void watcher_stop(HonkerWatcher *w) {
  pthread_mutex_lock(&w->mu);
  w->stopping = 1;
  pthread_cond_broadcast(&w->cv_wait);
  pthread_cond_signal(&w->cv_poll);
  pthread_mutex_unlock(&w->mu);
  watcher_kernel_wake(w); /* after the flag: the thread sees it when ppoll returns */
}

HONKER_API void honker_watcher_close(HonkerWatcher *w) {
  if (!w) return;
  watcher_stop(w);
  pthread_mutex_lock(&w->mu);
  while (w->n_waiters > 0)
    pthread_cond_wait(&w->cv_idle, &w->mu);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, 0);
  watcher_free(w);
}
