/*
** lifeline_lock.c — the process-wide side of worker liveness (lifeline.h):
** the registry of lock files this process has open and of the slots it
** holds, and the fcntl calls. No SQL here; lifeline.c is the SQL side.
**
** Why a registry, and why one descriptor per lock file: POSIX record locks
** belong to the (process, file) pair, not to a descriptor, and closing ANY
** descriptor of a file drops every lock the process holds on it. So each
** lock file is opened once per process and that descriptor is closed only
** when no slot on it is held and no call is using it; every open, lock and
** close happens under one mutex, so no thread can close a descriptor while
** another takes a slot. For the same reason the database file, its -wal and
** its -shm are never opened here: that would drop SQLite's own locks.
**
** Invariants:
**   - a LifelineFile lives while refs > 0 (open calls not yet closed, plus
**     one per slot held on it); its descriptors are closed when it goes;
**   - a LifelineSlot exists exactly while this process holds its byte;
**   - after fork() the child inherits no POSIX lock: the first call in the
**     child forgets the parent's registry (closing its copies of the
**     descriptors, which drops nothing of the parent's) and draws a new token;
**   - two copies of this library loaded into one process have two
**     registries; one copy closing its descriptor drops the other's locks.
**     Not guarded: load one copy (lifeline.c's header).
*/
/* fcntl, gethostname, fchmod under -std=c11: must precede every include. */
#define _XOPEN_SOURCE 700
#include "lifeline.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#ifndef _WIN32

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define LIFELINE_MAX_SLOTS 65536 /* slots tried by one registration */
#define LIFELINE_SPARE_FDS 4     /* extra descriptors of one file, closed with it */

struct LifelineFile {
  dev_t dev;
  ino_t ino;
  int fd;       /* the descriptor every fcntl uses */
  int writable; /* fd is O_RDWR: needed to take a slot (F_WRLCK) */
  int spare[LIFELINE_SPARE_FDS];
  int n_spare;
  int refs;
  LifelineFile *next;
};

typedef struct LifelineSlot {
  LifelineFile *file;
  sqlite3_int64 slot;
  void *owner; /* the sqlite3* that registered it */
  char *worker_id;
  int n_worker_id;
  int count; /* registrations of worker_id by owner (they nest) */
  struct LifelineSlot *next;
} LifelineSlot;

static pthread_mutex_t lifeline_mu = PTHREAD_MUTEX_INITIALIZER;
/* Guarded by lifeline_mu. */
static pid_t lifeline_pid; /* getpid() when the state below was set up; 0 before */
static sqlite3_int64 lifeline_token;
static char lifeline_host[256];
static LifelineFile *lifeline_files;
static LifelineSlot *lifeline_slots;

/* Close every descriptor of f and free it (its slots are already gone). */
static void lifeline_file_free(LifelineFile *f) {
  close(f->fd);
  for (int i = 0; i < f->n_spare; i++)
    close(f->spare[i]);
  sqlite3_free(f);
}

/* In a forked child: the parent's locks were not inherited; forget them. */
static void lifeline_forget_all(void) {
  while (lifeline_slots) {
    LifelineSlot *s = lifeline_slots;
    lifeline_slots = s->next;
    sqlite3_free(s->worker_id);
    sqlite3_free(s);
  }
  while (lifeline_files) {
    LifelineFile *f = lifeline_files;
    lifeline_files = f->next;
    lifeline_file_free(f);
  }
}

/* Lock the registry, setting it up in a new process (or a forked child). */
static void lifeline_enter(void) {
  pthread_mutex_lock(&lifeline_mu);
  pid_t pid = getpid();
  if (lifeline_pid == pid) return;
  if (lifeline_pid != 0) lifeline_forget_all();
  lifeline_pid = pid;
  do {
    sqlite3_randomness((int)sizeof lifeline_token, &lifeline_token);
    lifeline_token &= INT64_MAX;
  } while (lifeline_token == 0);
  if (gethostname(lifeline_host, sizeof lifeline_host) != 0) strcpy(lifeline_host, "unknown");
  lifeline_host[sizeof lifeline_host - 1] = 0;
}

static void lifeline_leave(void) { pthread_mutex_unlock(&lifeline_mu); }

sqlite3_int64 lifeline_self_pid(void) {
  lifeline_enter();
  sqlite3_int64 pid = (sqlite3_int64)lifeline_pid;
  lifeline_leave();
  return pid;
}

sqlite3_int64 lifeline_self_token(void) {
  lifeline_enter();
  sqlite3_int64 token = lifeline_token;
  lifeline_leave();
  return token;
}

const char *lifeline_self_host(void) {
  lifeline_enter();
  lifeline_leave();
  return lifeline_host; /* written once per process, before any reader sees it */
}

static LifelineFile *lifeline_find_file(dev_t dev, ino_t ino) {
  for (LifelineFile *f = lifeline_files; f; f = f->next) {
    if (f->dev == dev && f->ino == ino) return f;
  }
  return NULL;
}

/* Open path for the registry: O_RDWR (creating it with mode when create),
** or O_RDONLY when only testing and writing is refused. -1 with errno. */
static int lifeline_open_fd(const char *path, int create, unsigned mode, int *writable) {
  *writable = 1;
  if (create) {
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd >= 0) {
      /* A new file gets the database's permissions (as SQLite gives -wal and -shm), umask aside. */
      if (fchmod(fd, (mode_t)mode) != 0) { /* best effort: the file works either way */
      }
      return fd;
    }
    if (errno != EEXIST) return -1;
  }
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0 && !create && (errno == EACCES || errno == EROFS || errno == EPERM)) {
    *writable = 0; /* F_GETLK needs no write access */
    fd = open(path, O_RDONLY | O_CLOEXEC);
  }
  return fd;
}

int lifeline_file_open(const char *path, int create, unsigned mode, LifelineFile **out) {
  *out = NULL;
  lifeline_enter();
  int rc = 0;
  struct stat st;
  int exists = stat(path, &st) == 0;
  LifelineFile *f = exists ? lifeline_find_file(st.st_dev, st.st_ino) : NULL;
  if (!exists && errno != ENOENT) {
    rc = errno;
  } else if (f && (f->writable || !create)) {
    f->refs++;
    *out = f;
  } else if (exists || create) {
    int writable;
    int fd = lifeline_open_fd(path, create, mode, &writable);
    if (fd < 0) {
      rc = (errno == ENOENT && !create) ? 0 : errno; /* vanished meanwhile: no lock file */
    } else if (fstat(fd, &st) != 0) {
      rc = errno; /* fd is left open: closing it could drop locks if it is a file we hold */
    } else if ((f = lifeline_find_file(st.st_dev, st.st_ino)) != NULL) {
      /* Already open here (a read-only descriptor now needed writable, or a rename race):
      ** keep the new descriptor with it; never close one while the file is in use. */
      if (writable && !f->writable) {
        int old = f->fd;
        f->fd = fd;
        f->writable = 1;
        fd = old;
      }
      if (f->n_spare < LIFELINE_SPARE_FDS) f->spare[f->n_spare++] = fd;
      f->refs++;
      *out = f;
    } else if ((f = sqlite3_malloc(sizeof *f)) == NULL) {
      close(fd); /* a file this process had not open: it holds no lock on it */
      rc = ENOMEM;
    } else {
      memset(f, 0, sizeof *f);
      f->dev = st.st_dev;
      f->ino = st.st_ino;
      f->fd = fd;
      f->writable = writable;
      f->refs = 1;
      f->next = lifeline_files;
      lifeline_files = f;
      *out = f;
    }
  } /* else: no lock file, so nobody holds a slot (*out stays NULL) */
  lifeline_leave();
  return rc;
}

/* Drop one reference to f (registry locked); closes it at zero. */
static void lifeline_file_unref(LifelineFile *f) {
  if (--f->refs > 0) return;
  for (LifelineFile **p = &lifeline_files; *p; p = &(*p)->next) {
    if (*p == f) {
      *p = f->next;
      break;
    }
  }
  lifeline_file_free(f);
}

void lifeline_file_close(LifelineFile *f) {
  if (!f) return;
  lifeline_enter();
  lifeline_file_unref(f);
  lifeline_leave();
}

/* Does this process hold slot of f? (registry locked) */
static int lifeline_held(const LifelineFile *f, sqlite3_int64 slot) {
  if (!f) return 0;
  for (LifelineSlot *s = lifeline_slots; s; s = s->next) {
    if (s->file == f && s->slot == slot) return 1;
  }
  return 0;
}

/* Does another process hold the byte of slot? Unknown (fcntl failed) counts as yes. */
static int lifeline_byte_locked(int fd, sqlite3_int64 slot) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)slot;
  fl.l_len = 1;
  if (fcntl(fd, F_GETLK, &fl) != 0) return 1;
  return fl.l_type != F_UNLCK;
}

/* Set (F_WRLCK) or clear (F_UNLCK) our lock on the byte of slot; 0 or -1 with errno. */
static int lifeline_byte_set(int fd, sqlite3_int64 slot, short type) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)slot;
  fl.l_len = 1;
  return fcntl(fd, F_SETLK, &fl);
}

static int lifeline_same(const char *a, int n_a, const char *b, int n_b) {
  return n_a == n_b && (n_a == 0 || memcmp(a, b, (size_t)n_a) == 0);
}

void lifeline_judge(LifelineFile *f, LifelineRow *rows, int n) {
  lifeline_enter();
  int n_host = (int)strlen(lifeline_host);
  for (int i = 0; i < n; i++) {
    LifelineRow *r = &rows[i];
    if (r->pid == (sqlite3_int64)lifeline_pid && r->token == lifeline_token) {
      r->alive = lifeline_held(f, r->slot); /* ours: F_GETLK cannot see our own locks */
    } else if (r->pid == (sqlite3_int64)lifeline_pid &&
               lifeline_same(r->host, r->n_host, lifeline_host, n_host)) {
      r->alive = 1; /* another copy of the library in this process, or a dead process
                    ** whose pid we reuse: the lock test cannot tell, so the visibility
                    ** timeout decides (never expire a claim that may be live) */
    } else if (lifeline_held(f, r->slot)) {
      r->alive = 0; /* we hold its byte, so its writer cannot */
    } else {
      r->alive = f ? lifeline_byte_locked(f->fd, r->slot) : 0; /* no lock file: none held */
    }
  }
  lifeline_leave();
}

int lifeline_slot_take(LifelineFile *f, const sqlite3_int64 *taken, int n_taken, void *owner,
                       const char *worker_id, int n_worker_id, sqlite3_int64 *slot) {
  lifeline_enter();
  int rc = f->writable ? ENOSPC : EACCES;
  for (sqlite3_int64 k = 0; f->writable && k < LIFELINE_MAX_SLOTS; k++) {
    int skip = lifeline_held(f, k);
    for (int i = 0; !skip && i < n_taken; i++)
      skip = taken[i] == k;
    if (skip) continue;
    if (lifeline_byte_set(f->fd, k, F_WRLCK) != 0) {
      if (errno == EACCES || errno == EAGAIN) continue; /* another process holds it */
      rc = errno;
      break;
    }
    LifelineSlot *s = sqlite3_malloc(sizeof *s);
    char *id = sqlite3_malloc(n_worker_id + 1);
    if (!s || !id) {
      sqlite3_free(s);
      sqlite3_free(id);
      lifeline_byte_set(f->fd, k, F_UNLCK);
      rc = ENOMEM;
      break;
    }
    memcpy(id, worker_id, (size_t)n_worker_id);
    id[n_worker_id] = 0;
    s->file = f;
    s->slot = k;
    s->owner = owner;
    s->worker_id = id;
    s->n_worker_id = n_worker_id;
    s->count = 1;
    s->next = lifeline_slots;
    lifeline_slots = s;
    f->refs++;
    *slot = k;
    rc = 0;
    break;
  }
  lifeline_leave();
  return rc;
}

sqlite3_int64 lifeline_slot_find(void *owner, const char *worker_id, int n_worker_id, int nest,
                                 int *count) {
  lifeline_enter();
  sqlite3_int64 slot = -1;
  *count = 0;
  for (LifelineSlot *s = lifeline_slots; s; s = s->next) {
    if (s->owner != owner || !lifeline_same(s->worker_id, s->n_worker_id, worker_id, n_worker_id)) {
      continue;
    }
    if (nest > 0) s->count++;
    if (nest < 0 && s->count > 1) s->count--;
    *count = s->count;
    slot = s->slot;
    break;
  }
  lifeline_leave();
  return slot;
}

void lifeline_slot_drop(void *owner, const char *worker_id, int n_worker_id) {
  lifeline_enter();
  for (LifelineSlot **p = &lifeline_slots; *p;) {
    LifelineSlot *s = *p;
    if (s->owner != owner ||
        (worker_id && !lifeline_same(s->worker_id, s->n_worker_id, worker_id, n_worker_id))) {
      p = &s->next;
      continue;
    }
    *p = s->next;
    lifeline_byte_set(s->file->fd, s->slot, F_UNLCK);
    lifeline_file_unref(s->file);
    sqlite3_free(s->worker_id);
    sqlite3_free(s);
  }
  lifeline_leave();
}

#else /* _WIN32: no POSIX record locks; registration fails, nothing is judged dead */

sqlite3_int64 lifeline_self_pid(void) { return 0; }
sqlite3_int64 lifeline_self_token(void) { return 0; }
const char *lifeline_self_host(void) { return "unknown"; }
int lifeline_file_open(const char *path, int create, unsigned mode, LifelineFile **out) {
  (void)path;
  (void)create;
  (void)mode;
  *out = NULL;
  return ENOSYS;
}
void lifeline_file_close(LifelineFile *f) { (void)f; }
void lifeline_judge(LifelineFile *f, LifelineRow *rows, int n) {
  (void)f;
  for (int i = 0; i < n; i++)
    rows[i].alive = 1;
}
int lifeline_slot_take(LifelineFile *f, const sqlite3_int64 *taken, int n_taken, void *owner,
                       const char *worker_id, int n_worker_id, sqlite3_int64 *slot) {
  (void)f;
  (void)taken;
  (void)n_taken;
  (void)owner;
  (void)worker_id;
  (void)n_worker_id;
  (void)slot;
  return ENOSYS;
}
sqlite3_int64 lifeline_slot_find(void *owner, const char *worker_id, int n_worker_id, int nest,
                                 int *count) {
  (void)owner;
  (void)worker_id;
  (void)n_worker_id;
  (void)nest;
  *count = 0;
  return -1;
}
void lifeline_slot_drop(void *owner, const char *worker_id, int n_worker_id) {
  (void)owner;
  (void)worker_id;
  (void)n_worker_id;
}

#endif
