/*
** watcher_kernel.c — the 'kernel' watcher backend (Linux): inotify on the
** database's directory tells the watcher's thread when to read PRAGMA
** data_version, instead of reading it every millisecond. The handle, the
** contract (spec/sql.md "Watcher") and the poller it falls back to are in
** watcher.c; src/watcher.ts does the same for the TypeScript client.
** Figures below: this 2-core machine, test/c/watcher_wait.c and
** bench/watcher-c.ts.
**
** How a commit in another process reaches a waiter:
**   1. SQLite appends the commit's frames to <db>-wal with pwrite(2); each
**      write is an IN_MODIFY on the directory watch (a rollback-journal
**      database writes <db>-journal and <db>: both count). The thread
**      sleeps in ppoll() on the inotify fd and an eventfd that close()
**      writes, so a blocked waiter costs two wakeups a second (the safety
**      check, 4.): ~0.03% of a core, where the 1 ms poller costs ~2%;
**   2. it reads every queued event, then data_version: a write made after
**      that read() queues a new event, so no commit slips between the two;
**   3. but the frames are written before the wal-index is updated (in the
**      mmap'd -shm, which no event reports), with an fsync in between under
**      synchronous=FULL. The check right after the event found the commit
**      295 times in 300 with NORMAL, 0 in 300 with FULL (fsyncs of 0.1-25
**      ms). So a check that finds nothing after a -wal or -journal write
**      (a commit in flight) is followed by re-checks 50 µs, 100 µs, ...
**      apart, at most the poll interval (1 ms) apart, until a change or
**      KERNEL_INFLIGHT_MS after the last such event (then the safety check
**      takes over; a rollback costs that much polling). A write to the
**      database file alone (a checkpoint, in WAL mode) gets a commit window
**      of re-checks only (4.);
**   4. inotify merges an unread event with an identical new one, so the
**      writes of the next commit can hide in the event just read, and
**      that commit becomes visible after the check. After a change the
**      thread re-checks for two commit times (learned in 3.: a decaying
**      maximum, at least KERNEL_TAIL_MIN_US): with two writers under FULL,
**      240 commits in 3000 were found that way, each of which would
**      otherwise have waited for the next commit or the safety check;
**   5. during a long write (a bulk transaction spilling to the WAL, a
**      checkpoint) events are acted on no sooner than a gap after the last
**      check that found nothing, doubling up to 12.8 ms, and the thread
**      does not watch inotify while an event is pending: a blocked wait
**      through a 20,000-row transaction cost 37-92% of a core acting on
**      every event, 1-2% this way;
**   6. a safety check every KERNEL_SAFETY_MS covers what inotify cannot see
**      and re-checks the file's identity; renames, deletes and creates of
**      the database's name are seen at once. The backend gives up, closes
**      inotify and lets the poller take over (watcher.c) when the watch is
**      lost (the directory was removed or unmounted), reading the queue
**      fails, or KERNEL_DISTRUST safety checks found a commit that no event
**      announced (writers inotify cannot see: another host, writes through
**      mmap). A network filesystem (statfs) is polled from the start, and
**      so is everything where inotify_init1, inotify_add_watch or eventfd
**      fails (fs.inotify.max_user_instances, 128 per user by default, is
**      one instance per open watcher here; max_user_watches; EMFILE).
** Nothing here opens the database, -wal or -shm: an inotify watch is not an
** open file, so SQLite's POSIX locks are never at risk.
**
** Idle cost: while nobody waits the thread parks on a condition variable
** (watcher.c) and unread events stay in the kernel's queue, where identical
** ones merge; the first wait drains them and checks once.
**
** macOS and the BSDs: not built here, so 'kernel' polls there, as the
** contract allows. kqueue would be the equivalent, but EVFILT_VNODE reports
** writes only on a descriptor of the file itself: an O_EVTONLY descriptor of
** the -wal (SQLite's unix VFS locks the database and -shm, not the -wal),
** re-opened whenever NOTE_WRITE on the directory says the -wal was
** recreated. Building and testing that needs a macOS machine.
*/
#define _GNU_SOURCE /* ppoll */
#include "watcher.h"

#ifdef __linux__

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define KERNEL_SAFETY_MS 500     /* a missed commit or rename is seen within this */
#define KERNEL_DISTRUST 3        /* safety checks finding unannounced commits, then poll */
#define KERNEL_INFLIGHT_MS 250   /* re-check this long after the last unconfirmed event */
#define KERNEL_FIRST_US 50       /* the first re-check after an unconfirmed event */
#define KERNEL_TAIL_FIRST_US 100 /* the first re-check after a change */
#define KERNEL_TAIL_MIN_US 300   /* re-check after a change for 2 commit times, at least this */
#define KERNEL_TAIL_MAX_US 25000 /* and at most this */
#define KERNEL_GAP_MAX_US 12800  /* the longest re-check delay, and event gap */

/* What the directory watch reports, the database's files only. */
#define KERNEL_MASK \
  (IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

/* What one read of the queue found. */
enum {
  KERNEL_LOOK = 1,   /* a write to the database, its -wal or -journal: check */
  KERNEL_LOG = 2,    /* a write to the -wal or -journal: a commit may be in flight */
  KERNEL_NAME = 4,   /* the database's name was created, deleted or renamed */
  KERNEL_GONE = 8,   /* the watch is gone (directory removed or moved, unmount) */
  KERNEL_FAILED = 16 /* reading the queue failed */
};

/* statfs f_type of filesystems whose writes from other hosts inotify never sees. */
static const uint32_t KERNEL_REMOTE_FS[] = {
    0x6969,     /* nfs */
    0x517b,     /* smb */
    0xff534d42, /* cifs */
    0xfe534d42, /* smb2 */
    0x65735546, /* fuse (sshfs, s3fs, ...) */
    0x01021997, /* 9p (WSL2, VM shares) */
    0x00c36400, /* ceph */
    0x0bd00bd0, /* lustre */
    0x47504653, /* gpfs */
    0x6b414653, /* afs */
};

/* The re-check and safety schedule; the thread's alone. */
typedef struct KernelState {
  int64_t last_check_ns;  /* when data_version was last read */
  int64_t gap_ns;         /* act on an event no sooner than this after the last check */
  int64_t delay_ns;       /* the next re-check is this long after the last check; 0: none */
  int64_t cap_ns;         /* re-check delays double up to this */
  int64_t until_ns;       /* no re-check after this */
  int64_t next_safety_ns; /* the next safety check */
  int64_t interval_ns;    /* the poll interval: the cap while a commit may be in flight */
  int64_t inflight_ns;    /* when an event check first found nothing (0: no commit in flight) */
  int64_t commit_ns;      /* how long commits stay in flight after an event: a decaying max */
  int event_pending;      /* an event was read after the last check */
  int event_log;          /* one of them was a write to the -wal or -journal */
  int event_unseen;       /* an event arrived since the last change seen */
  int unannounced;        /* safety checks that found a change no event announced */
} KernelState;

/* 1 when f_type is a network filesystem. */
static int kernel_remote_fs(uint32_t f_type) {
  for (size_t i = 0; i < sizeof KERNEL_REMOTE_FS / sizeof KERNEL_REMOTE_FS[0]; i++) {
    if (KERNEL_REMOTE_FS[i] == f_type) return 1;
  }
  return 0;
}

int watcher_kernel_open(HonkerWatcher *w) {
  /* w->path is a realpath(): absolute, so it has a '/' and a directory. */
  size_t dir_len = (size_t)(strrchr(w->path, '/') - w->path);
  char *dir = malloc(dir_len + 2);
  if (!dir) return -1;
  memcpy(dir, w->path, dir_len ? dir_len : 1);
  dir[dir_len ? dir_len : 1] = 0;
  struct statfs sf;
  int ifd = -1, efd = -1;
  if (statfs(dir, &sf) == 0 && kernel_remote_fs((uint32_t)sf.f_type)) goto fail;
  ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC); /* EMFILE: max_user_instances or fds */
  if (ifd < 0) goto fail;
  if (inotify_add_watch(ifd, dir, KERNEL_MASK | IN_ONLYDIR) < 0) goto fail; /* ENOSPC: watches */
  efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) goto fail;
  free(dir);
  w->inotify_fd = ifd;
  w->wake_fd = efd;
  return 0;
fail:
  if (ifd >= 0) close(ifd);
  free(dir);
  return -1;
}

void watcher_kernel_wake(HonkerWatcher *w) {
  if (w->wake_fd < 0) return;
  uint64_t one = 1;
  ssize_t n = write(w->wake_fd, &one, sizeof one); /* EAGAIN: it is readable already */
  (void)n;
}

/* Which of the database's files an event names: 2 its -wal or -journal, 1 itself, 0 neither. */
static int kernel_name_kind(const char *base, size_t base_len, const char *name) {
  if (strncmp(name, base, base_len) != 0) return 0;
  const char *rest = name + base_len;
  if (!*rest) return 1;
  return !strcmp(rest, "-wal") || !strcmp(rest, "-journal") ? 2 : 0;
}

/* Read every queued event (and the close eventfd); KERNEL_* flags. */
static int kernel_read_events(HonkerWatcher *w) {
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  const char *base = strrchr(w->path, '/') + 1;
  size_t base_len = strlen(base);
  int flags = 0;
  for (;;) {
    ssize_t len = read(w->inotify_fd, buf, sizeof buf);
    if (len < 0 && errno == EINTR) continue;
    if (len < 0 && errno == EAGAIN) break;
    if (len <= 0) {
      flags |= KERNEL_FAILED;
      break;
    }
    const struct inotify_event *ev;
    for (char *p = buf; p < buf + len; p += sizeof *ev + ev->len) {
      ev = (const struct inotify_event *)p;
      if (ev->mask & IN_Q_OVERFLOW) flags |= KERNEL_LOOK | KERNEL_LOG | KERNEL_NAME; /* lost some */
      if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
        flags |= KERNEL_GONE;
      }
      if (ev->len == 0) continue;
      int kind = kernel_name_kind(base, base_len, ev->name);
      if (kind == 2) flags |= KERNEL_LOOK | KERNEL_LOG;
      if (kind == 1 && (ev->mask & IN_MODIFY)) flags |= KERNEL_LOOK;
      if (kind == 1 && (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))) {
        flags |= KERNEL_NAME;
      }
    }
  }
  uint64_t count;
  ssize_t n = read(w->wake_fd, &count, sizeof count); /* EAGAIN when close() did not write */
  (void)n;
  return flags;
}

/* When the next check is due for an event or a re-check (INT64_MAX: none). */
static int64_t kernel_due(const KernelState *s) {
  int64_t due = INT64_MAX;
  if (s->event_pending) due = s->last_check_ns + s->gap_ns;
  if (s->delay_ns) {
    int64_t delay = s->delay_ns > s->gap_ns ? s->delay_ns : s->gap_ns; /* never outpace the gap */
    if (s->last_check_ns + delay < due) due = s->last_check_ns + delay;
  }
  return due;
}

/* How long after a change a folded commit may still become visible: about
** two commit times (an fsync with synchronous=FULL, microseconds with NORMAL). */
static int64_t kernel_commit_window(const KernelState *s) {
  int64_t window = 2 * s->commit_ns;
  if (window < (int64_t)KERNEL_TAIL_MIN_US * 1000) return (int64_t)KERNEL_TAIL_MIN_US * 1000;
  if (window > (int64_t)KERNEL_TAIL_MAX_US * 1000) return (int64_t)KERNEL_TAIL_MAX_US * 1000;
  return window;
}

/* Start re-checks first_us after now, doubling up to cap_ns, for window_ns. */
static void kernel_recheck(KernelState *s, int64_t now, int first_us, int64_t cap_ns,
                           int64_t window_ns) {
  s->delay_ns = (int64_t)first_us * 1000;
  s->cap_ns = cap_ns;
  s->until_ns = now + window_ns;
}

/* Update the schedule after a check at now that found changed (0/1). */
static void kernel_after_check(KernelState *s, int64_t now, int changed) {
  const int64_t max_ns = (int64_t)KERNEL_GAP_MAX_US * 1000;
  int had_event = s->event_pending, had_log = s->event_log;
  s->event_pending = s->event_log = 0;
  s->last_check_ns = now;
  if (changed) {
    /* Another commit's writes may have been folded into the event just
    ** read (inotify merges an unread event with an identical new one).
    ** Learn how long commits stay in flight: a decaying maximum. */
    int64_t took = s->inflight_ns ? now - s->inflight_ns : 0;
    int64_t decayed = s->commit_ns - s->commit_ns / 8;
    s->commit_ns = took > decayed ? took : decayed;
    s->inflight_ns = 0;
    s->event_unseen = 0;
    s->gap_ns = 0;
    kernel_recheck(s, now, KERNEL_TAIL_FIRST_US, max_ns, kernel_commit_window(s));
  } else if (had_event) {
    /* A commit may be in flight (its frames are written, the wal-index is
    ** not, an fsync may sit in between) — or it was a rollback, or (the
    ** database file alone) a checkpoint: re-check at the poller's pace at
    ** least, for KERNEL_INFLIGHT_MS after a -wal or -journal write, for a
    ** commit window after a write to the database alone. Events of a long
    ** write are acted on less and less often (the gap doubles). */
    int64_t gap = s->gap_ns ? 2 * s->gap_ns : (int64_t)KERNEL_FIRST_US * 1000;
    s->gap_ns = gap < max_ns ? gap : max_ns;
    if (!s->inflight_ns) s->inflight_ns = now;
    kernel_recheck(s, now, KERNEL_FIRST_US, s->interval_ns < max_ns ? s->interval_ns : max_ns,
                   had_log ? (int64_t)KERNEL_INFLIGHT_MS * 1000000 : kernel_commit_window(s));
  } else if (s->delay_ns) {
    s->delay_ns = 2 * s->delay_ns < s->cap_ns ? 2 * s->delay_ns : s->cap_ns;
  }
  if (s->delay_ns && now + s->delay_ns > s->until_ns) {
    s->delay_ns = 0; /* quiet: the next event is checked at once */
    s->gap_ns = 0;
    s->inflight_ns = 0; /* nothing came of it (a rollback, a checkpoint) */
  }
}

/* Sleep until ns from now, an event (unless one is pending already: its
** check is scheduled, and waking at every write of a long transaction would
** spin) or close(). */
static void kernel_sleep(HonkerWatcher *w, int64_t ns, int watch_events) {
  struct pollfd fds[2] = {{w->wake_fd, POLLIN, 0}, {w->inotify_fd, POLLIN, 0}};
  struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
  ppoll(fds, watch_events ? 2 : 1, &ts, 0); /* EINTR: every signal is blocked here */
}

int watcher_kernel_run(HonkerWatcher *w) {
  KernelState s;
  memset(&s, 0, sizeof s);
  s.interval_ns = w->interval_ns;
  s.last_check_ns = watcher_now_ns();
  s.next_safety_ns = s.last_check_ns + (int64_t)KERNEL_SAFETY_MS * 1000000;
  int finished = 1;
  pthread_mutex_lock(&w->mu);
  while (!w->stopping) {
    if (!w->kick && watcher_park_if_idle(w) && w->stopping) break;
    int kicked = w->kick;
    w->kick = 0;
    int64_t linger_end =
        w->n_waiters > 0 ? INT64_MAX : w->idle_since_ns + (int64_t)WATCHER_LINGER_MS * 1000000;
    pthread_mutex_unlock(&w->mu);

    int64_t now = watcher_now_ns();
    if (!kicked) {
      int64_t until = kernel_due(&s);
      if (s.next_safety_ns < until) until = s.next_safety_ns;
      if (linger_end < until) until = linger_end; /* then park */
      if (until > now) kernel_sleep(w, until - now, !s.event_pending);
      now = watcher_now_ns();
    }
    int ev = kernel_read_events(w);
    if (ev & KERNEL_LOOK) {
      s.event_pending = 1;
      s.event_log |= (ev & KERNEL_LOG) != 0;
      s.event_unseen = 1;
      s.unannounced = 0;
    }
    int safety = now >= s.next_safety_ns;
    int check = kicked || safety || now >= kernel_due(&s);
    int announced = s.event_unseen;
    int changed = 0, dead = 0;
    int distrust = (ev & (KERNEL_GONE | KERNEL_FAILED)) != 0;
    if (check) {
      changed = watcher_check(w);
      kernel_after_check(&s, now, changed);
    }
    if (kicked || safety || (ev & (KERNEL_NAME | KERNEL_GONE))) dead = watcher_replaced(w);
    if (safety) {
      s.next_safety_ns = now + (int64_t)KERNEL_SAFETY_MS * 1000000;
      if (changed && !announced && ++s.unannounced >= KERNEL_DISTRUST) distrust = 1;
    }

    pthread_mutex_lock(&w->mu);
    watcher_publish(w, check, changed, dead, kicked);
    if (dead) break;
    if (distrust) {
      finished = 0;
      break;
    }
  }
  pthread_mutex_unlock(&w->mu);
  /* Give the inotify instance back now (a dead watcher may stay open for a
  ** while; the poller takes over otherwise). The eventfd stays for close(). */
  close(w->inotify_fd);
  w->inotify_fd = -1;
  return finished;
}

#else /* not Linux: 'kernel' and the default poll (see the header) */

int watcher_kernel_open(HonkerWatcher *w) {
  (void)w;
  return -1;
}

int watcher_kernel_run(HonkerWatcher *w) {
  (void)w;
  return 0;
}

void watcher_kernel_wake(HonkerWatcher *w) { (void)w; }

#endif
