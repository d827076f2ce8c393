/*
** watcher_wait.c — drives the watcher C ABI of libhonker_ext the way honker's
** bindings do, for test/watcher.crossprocess.test.ts and the figures in the
** report (wake latency, idle CPU).
**
**   cc -std=c11 -Wall -Wextra -Werror -Iext -o watcher_wait test/c/watcher_wait.c \
**      -ldl -lsqlite3 -lpthread
**   ./watcher_wait <path/to/libhonker_ext.so> <db_path> [--no-load]
**
** It opens db_path with the system libsqlite3, loads the extension into that
** connection (which sets the library's sqlite3_api), then dlsym()s the C ABI
** from the same library. At start it forks a writer child (before any thread
** exists) that commits on request: "another process" for latency figures.
** --no-load only dlopen()s the library: the C ABI must then refuse to open.
**
** Commands, one per line on stdin; each prints one line on stdout:
**   open <backend> [poll_ms]   ok | error <message>    (backend '-' = NULL, "''" = "")
**   openpath <path>            ok | error <message>    (NULL backend, another file)
**   starve <backend> [free]    ok | error <message>    (open with only `free` descriptors
**                                                       left, default 3: the connection's, so
**                                                       no inotify, as when instances run out)
**   fds                        fds inotify=<n> eventfd=<m>  (this process's descriptors of each)
**   errbuf <len>               errbuf <strlen> <intact> (unknown backend, err_len = len)
**   wait <ms>                  <result> <elapsed_ms>
**   bg <n> <ms>                started                  (n threads start waiting)
**   join                       <result> x n             (of those background waits)
**   close                      closed  (once the background waits have blocked)
**   commit | rollback          committed | rolledback   (by the writer child)
**   replace                    replaced    (rename a new database file over db_path)
**   bulkcpu <rows>             bulkcpu ms=<writer's ms> pct=<this process's % of a core>
**                              (one wait blocks while the writer child writes <rows> rows of
**                              1 KB in one transaction that spills to the WAL, then rolls it
**                              back: the wait must not spin on the write events)
**   latency <n>                latency n=<n> p50_us=.. p99_us=.. max_us=..
**   cpu <seconds> <parked|waiting>   cpu pct=<percent of one core>
**   cycles <n>                 cycles ok | cycles error <why>
**   null                       null <wait(NULL, 0)> <open(NULL path) error>  (close(NULL) too)
**   quit
*/
#define _XOPEN_SOURCE 700
#include <dlfcn.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "honker_ext.h"

typedef HonkerWatcher *(*OpenV2Fn)(const char *, const char *, int, char *, int);
typedef int (*WaitFn)(HonkerWatcher *, int);
typedef void (*CloseFn)(HonkerWatcher *);

static OpenV2Fn open_v2;
static WaitFn wait_fn;
static CloseFn close_fn;
static const char *db_path;
static HonkerWatcher *watcher;
static int to_writer = -1, from_writer = -1;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* system-wide: comparable across processes */
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, 0);
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "watcher_wait: %s: %s\n", what, detail ? detail : "");
  exit(2);
}

/* --- the writer child --------------------------------------------------------- */

/* Run sql on db or die. */
static void exec_or_die(sqlite3 *db, const char *sql) {
  char *err = 0;
  if (sqlite3_exec(db, sql, 0, 0, &err) != SQLITE_OK) die(sql, err);
}

/* Child: 'c' commits (after a random 0-2 ms pause so commits land at random
** points of the poll interval) and answers the monotonic time right after
** COMMIT returned; 'r' rolls a write back; 'b' reads a row count, writes that
** many 1 KB rows in one transaction with a 16-page cache (so the pages spill
** to the WAL as they are written) and rolls it back; EOF ends it. */
static void writer_main(int in, int out) {
  sqlite3 *db;
  if (sqlite3_open(db_path, &db) != SQLITE_OK) die("writer open", sqlite3_errmsg(db));
  sqlite3_busy_timeout(db, 10000);
  exec_or_die(db, "CREATE TABLE IF NOT EXISTS watcher_probe(x)");
  char cmd;
  srand((unsigned)getpid());
  while (read(in, &cmd, 1) == 1) {
    int64_t t = 0;
    if (cmd == 'b') {
      int32_t rows;
      if (read(in, &rows, sizeof rows) != (ssize_t)sizeof rows) break;
      char sql[256];
      snprintf(
          sql, sizeof sql,
          "PRAGMA cache_size = 16; BEGIN IMMEDIATE; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
          "SELECT i + 1 FROM n WHERE i < %d) INSERT INTO watcher_probe SELECT randomblob(1000) "
          "FROM n; ROLLBACK; PRAGMA cache_size = -2000",
          rows);
      int64_t t0 = now_ns();
      exec_or_die(db, sql);
      t = now_ns() - t0;
    } else if (cmd == 'c') {
      sleep_us(rand() % 2000);
      exec_or_die(db, "BEGIN IMMEDIATE; INSERT INTO watcher_probe VALUES (1); COMMIT");
      t = now_ns();
    } else {
      exec_or_die(db, "BEGIN IMMEDIATE; INSERT INTO watcher_probe VALUES (2); ROLLBACK");
    }
    if (write(out, &t, sizeof t) != (ssize_t)sizeof t) break;
  }
  sqlite3_close(db);
  _exit(0);
}

static void start_writer(void) {
  int a[2], b[2];
  if (pipe(a) || pipe(b)) die("pipe", 0);
  pid_t pid = fork();
  if (pid < 0) die("fork", 0);
  if (pid == 0) {
    close(a[1]);
    close(b[0]);
    writer_main(a[0], b[1]);
  }
  close(a[0]);
  close(b[1]);
  to_writer = a[1];
  from_writer = b[0];
}

/* Ask the child for 'c' or 'r'; returns the time it reported. */
static int64_t writer_do(char cmd) {
  int64_t t;
  if (write(to_writer, &cmd, 1) != 1) die("writer", "write");
  if (read(from_writer, &t, sizeof t) != (ssize_t)sizeof t) die("writer", "read");
  return t;
}

/* --- waits on threads ------------------------------------------------------------ */

typedef struct WaitJob {
  pthread_t thread;
  HonkerWatcher *w;
  int timeout_ms;
  int result;
  atomic_int calling; /* set just before the thread calls wait */
} WaitJob;

static void *wait_job_main(void *arg) {
  WaitJob *j = (WaitJob *)arg;
  atomic_store(&j->calling, 1);
  j->result = wait_fn(j->w, j->timeout_ms);
  return 0;
}

static void wait_job_start(WaitJob *j, HonkerWatcher *w, int timeout_ms) {
  j->w = w;
  j->timeout_ms = timeout_ms;
  j->result = -99;
  atomic_init(&j->calling, 0);
  if (pthread_create(&j->thread, 0, wait_job_main, j)) die("pthread_create", 0);
}

/* Return once each job is about to call wait, plus 20 ms for it to block:
** close() may only be called after the waits it should end have started. */
static void wait_jobs_blocked(WaitJob *jobs, int n) {
  for (int i = 0; i < n; i++) {
    while (!atomic_load(&jobs[i].calling))
      sleep_us(200);
  }
  sleep_us(20000);
}

/* --- commands --------------------------------------------------------------------- */

static void cmd_open(const char *path, const char *backend, int poll_ms) {
  char err[512];
  if (watcher) close_fn(watcher);
  watcher = open_v2(path, backend, poll_ms, err, (int)sizeof err);
  if (watcher) {
    printf("ok\n");
  } else {
    printf("error %s\n", err);
  }
}

/* Open with the descriptor table full but for `free` descriptors. With the
** three the watcher's own connection takes (the database, -wal, -shm),
** inotify_init1 fails with EMFILE, as when fs.inotify.max_user_instances is
** exhausted; with four, eventfd fails after it. Either way the kernel
** backend must fall back to polling. */
static void cmd_starve(const char *backend, int free_fds) {
  if (watcher) close_fn(watcher); /* before the table is filled: it frees descriptors */
  watcher = 0;
  struct rlimit old, low;
  if (getrlimit(RLIMIT_NOFILE, &old)) die("getrlimit", 0);
  low = old;
  low.rlim_cur = 256;
  if (setrlimit(RLIMIT_NOFILE, &low)) die("setrlimit", 0);
  int fill[256], n = 0;
  while (n < 256 && (fill[n] = dup(0)) >= 0)
    n++;
  for (int i = 0; i < free_fds && n > 0; i++)
    close(fill[--n]);
  cmd_open(db_path, backend, 0);
  while (n > 0)
    close(fill[--n]);
  if (setrlimit(RLIMIT_NOFILE, &old)) die("setrlimit", 0);
}

/* Count this process's inotify instances and eventfds (the kernel backend's two). */
static void cmd_fds(void) {
  int inotify = 0, eventfd = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) die("opendir", "/proc/self/fd");
  struct dirent *e;
  while ((e = readdir(d))) {
    char link[300], target[128];
    snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
    ssize_t len = readlink(link, target, sizeof target - 1);
    if (len <= 0) continue;
    target[len] = 0;
    inotify += !strcmp(target, "anon_inode:inotify");
    eventfd += !strcmp(target, "anon_inode:[eventfd]");
  }
  closedir(d);
  printf("fds inotify=%d eventfd=%d\n", inotify, eventfd);
}

/* Write-past-the-end check of err_buf: canary bytes after err_len must survive. */
static void cmd_errbuf(int len) {
  char buf[600];
  memset(buf, 'Z', sizeof buf);
  if (len < 0 || len > 512) die("errbuf", "len out of range");
  HonkerWatcher *w = open_v2(db_path, "no-such-backend", 0, len ? buf : 0, len);
  int intact = 1;
  for (size_t i = (size_t)len; i < sizeof buf; i++)
    intact &= buf[i] == 'Z';
  size_t n = len ? strnlen(buf, (size_t)len) : 0;
  if (w || (len > 0 && n == (size_t)len)) intact = 0; /* must fail and be NUL-terminated */
  printf("errbuf %zu %d\n", n, intact);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Commit in the child while this thread waits; latency = wake - commit. */
static void cmd_latency(int n) {
  int64_t *lat = calloc((size_t)n, sizeof *lat);
  if (!lat) die("latency", "oom");
  wait_fn(watcher, 0); /* forget older changes */
  for (int i = 0; i < n; i++) {
    char c = 'c';
    if (write(to_writer, &c, 1) != 1) die("writer", "write");
    int r = wait_fn(watcher, 5000);
    int64_t woke = now_ns();
    int64_t committed;
    if (read(from_writer, &committed, sizeof committed) != (ssize_t)sizeof committed) {
      die("writer", "read");
    }
    if (r != 1) {
      printf("latency error wait returned %d at sample %d\n", r, i);
      free(lat);
      return;
    }
    /* The wake may beat COMMIT's return to the writer by a few microseconds. */
    lat[i] = woke - committed;
    sleep_us(3000 + rand() % 3000); /* commits land at random phases of the poll */
  }
  qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
  printf("latency n=%d p50_us=%lld p99_us=%lld max_us=%lld min_us=%lld\n", n,
         (long long)(lat[n / 2] / 1000), (long long)(lat[(n * 99) / 100] / 1000),
         (long long)(lat[n - 1] / 1000), (long long)(lat[0] / 1000));
  free(lat);
}

/* CPU of the whole process over `seconds`, with no wait or one blocked wait. */
static void cmd_cpu(int seconds, const char *mode) {
  WaitJob job;
  int waiting = !strcmp(mode, "waiting");
  if (waiting) wait_job_start(&job, watcher, seconds * 1000 + 300);
  sleep_us(200000); /* let the thread block and the poller settle */
  struct timespec c0, c1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  int64_t t0 = now_ns();
  sleep_us((long)seconds * 1000000);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  int64_t wall = now_ns() - t0;
  if (waiting) pthread_join(job.thread, 0);
  double cpu = (double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec);
  printf("cpu pct=%.3f\n", 100.0 * cpu / (double)wall);
}

/* Replace the database file by another one (a new inode) with rename(2). */
static void cmd_replace(void) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.new", db_path);
  sqlite3 *other;
  if (sqlite3_open(tmp, &other) != SQLITE_OK) die("open", tmp);
  exec_or_die(other, "CREATE TABLE other(x)");
  sqlite3_close(other);
  if (rename(tmp, db_path)) die("rename", tmp);
  printf("replaced\n");
}

/* CPU of this process while one wait blocks through the writer's bulk rollback. */
static void cmd_bulkcpu(int rows) {
  WaitJob job;
  wait_fn(watcher, 0); /* forget older changes */
  wait_job_start(&job, watcher, 60000);
  wait_jobs_blocked(&job, 1);
  struct timespec c0, c1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  int64_t t0 = now_ns();
  char cmd = 'b';
  int32_t n = rows;
  int64_t took;
  if (write(to_writer, &cmd, 1) != 1 || write(to_writer, &n, sizeof n) != (ssize_t)sizeof n) {
    die("writer", "write");
  }
  if (read(from_writer, &took, sizeof took) != (ssize_t)sizeof took) die("writer", "read");
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  int64_t wall = now_ns() - t0;
  writer_do('c'); /* a real commit ends the wait */
  pthread_join(job.thread, 0);
  if (job.result != 1) {
    printf("bulkcpu error wait returned %d\n", job.result);
    return;
  }
  double cpu = (double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec);
  printf("bulkcpu ms=%lld pct=%.3f\n", (long long)(took / 1000000), 100.0 * cpu / (double)wall);
}

/* Open/wait/close many times, with three waits blocked when close is called. */
static void cmd_cycles(int n) {
  char err[256];
  for (int i = 0; i < n; i++) {
    HonkerWatcher *w = open_v2(db_path, (i % 2) ? "polling" : 0, 1 + i % 3, err, (int)sizeof err);
    if (!w) {
      printf("cycles error open: %s\n", err);
      return;
    }
    int r0 = wait_fn(w, 0);
    int r1 = wait_fn(w, 2);
    WaitJob jobs[3];
    for (int k = 0; k < 3; k++)
      wait_job_start(&jobs[k], w, -1);
    wait_jobs_blocked(jobs, 3);
    close_fn(w);
    for (int k = 0; k < 3; k++) {
      pthread_join(jobs[k].thread, 0);
      if (jobs[k].result != -1) {
        printf("cycles error blocked wait returned %d\n", jobs[k].result);
        return;
      }
    }
    if (r0 < 0 || r1 < 0) {
      printf("cycles error wait returned %d %d\n", r0, r1);
      return;
    }
  }
  printf("cycles ok\n");
}

/* Load the extension into a connection (unless no_load), then find the C ABI. */
static void load(const char *ext_path, sqlite3 **db, int no_load) {
  char *err = 0;
  if (sqlite3_open(db_path, db) != SQLITE_OK) die("open", sqlite3_errmsg(*db));
  sqlite3_enable_load_extension(*db, 1);
  if (!no_load && sqlite3_load_extension(*db, ext_path, 0, &err) != SQLITE_OK) {
    die("load_extension", err);
  }
  void *lib = dlopen(ext_path, RTLD_NOW | (no_load ? 0 : RTLD_NOLOAD));
  if (!lib) die("dlopen", dlerror());
  /* dlsym returns void*; POSIX guarantees it converts to a function pointer. */
  *(void **)&open_v2 = dlsym(lib, "honker_watcher_open_v2");
  *(void **)&wait_fn = dlsym(lib, "honker_watcher_wait");
  *(void **)&close_fn = dlsym(lib, "honker_watcher_close");
  if (!open_v2 || !wait_fn || !close_fn) die("dlsym", dlerror());
  if (!no_load) dlclose(lib); /* it stays loaded (SQLITE_OK_LOAD_PERMANENTLY) */
}

int main(int argc, char **argv) {
  int no_load = argc == 4 && !strcmp(argv[3], "--no-load");
  if (argc != 3 && !no_load) die("usage", "watcher_wait <libhonker_ext.so> <db_path> [--no-load]");
  db_path = argv[2];
  setvbuf(stdout, 0, _IOLBF, 0);
  start_writer(); /* before any thread: fork() keeps only the calling thread */
  sqlite3 *db;
  load(argv[1], &db, no_load);
  writer_do('r'); /* the child has created its table: the file exists */

  char line[1024], a[512];
  WaitJob bg[16];
  int bg_running = 0;
  while (fgets(line, sizeof line, stdin)) {
    int n = 0, m = 0;
    a[0] = 0;
    if (sscanf(line, "openpath %511s", a) == 1) { /* before "open": it is a prefix */
      cmd_open(a, 0, 0);
    } else if (sscanf(line, "starve %511s %d", a, &n) >= 1) {
      cmd_starve(!strcmp(a, "-") ? 0 : a, n > 0 ? n : 3);
    } else if (!strncmp(line, "fds", 3)) {
      cmd_fds();
    } else if (sscanf(line, "open %511s %d", a, &n) >= 1) {
      cmd_open(db_path, !strcmp(a, "-") ? 0 : !strcmp(a, "''") ? "" : a, n);
    } else if (sscanf(line, "errbuf %d", &n) == 1) {
      cmd_errbuf(n);
    } else if (sscanf(line, "wait %d", &n) == 1) {
      int64_t t0 = now_ns();
      int r = wait_fn(watcher, n);
      printf("%d %lld\n", r, (long long)((now_ns() - t0) / 1000000));
    } else if (sscanf(line, "bg %d %d", &n, &m) == 2) {
      if (bg_running || n < 1 || n > 16) die("bg", "already running, or n not in 1..16");
      for (bg_running = 0; bg_running < n; bg_running++)
        wait_job_start(&bg[bg_running], watcher, m);
      printf("started\n");
    } else if (!strncmp(line, "join", 4)) {
      for (int i = 0; i < bg_running; i++) {
        pthread_join(bg[i].thread, 0);
        printf(i ? " %d" : "%d", bg[i].result);
      }
      printf("\n");
      bg_running = 0;
    } else if (!strncmp(line, "close", 5)) {
      wait_jobs_blocked(bg, bg_running);
      close_fn(watcher);
      watcher = 0;
      printf("closed\n");
    } else if (!strncmp(line, "commit", 6)) {
      writer_do('c');
      printf("committed\n");
    } else if (!strncmp(line, "replace", 7)) {
      cmd_replace();
    } else if (!strncmp(line, "rollback", 8)) {
      writer_do('r');
      printf("rolledback\n");
    } else if (sscanf(line, "latency %d", &n) == 1) {
      cmd_latency(n);
    } else if (sscanf(line, "bulkcpu %d", &n) == 1) {
      cmd_bulkcpu(n);
    } else if (sscanf(line, "cpu %d %511s", &n, a) == 2) {
      cmd_cpu(n, a);
    } else if (sscanf(line, "cycles %d", &n) == 1) {
      cmd_cycles(n);
    } else if (!strncmp(line, "null", 4)) {
      char err[128];
      close_fn(0);
      HonkerWatcher *w = open_v2(0, 0, 0, err, (int)sizeof err);
      printf("null %d %s\n", wait_fn(0, 0), w ? "opened?" : err);
    } else if (!strncmp(line, "quit", 4)) {
      break;
    } else {
      printf("unknown command %s", line);
    }
  }
  for (int i = 0; i < bg_running; i++)
    pthread_join(bg[i].thread, 0);
  if (watcher) close_fn(watcher);
  close(to_writer); /* the child sees EOF and exits */
  waitpid(-1, 0, 0);
  sqlite3_close(db);
  return 0;
}
