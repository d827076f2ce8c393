/*
** ./honker_example producer [db] [queue] [count]    each order and its job commit together
** ./honker_example worker   [db] [queue] [worker]   claim, handle, ack; sleep until the next commit
**
** cc -O2 -o honker_example honker_example.c -lsqlite3 -ldl
** The worker waits through the watcher's C ABI (ext/honker_ext.h), found with dlsym in the
** library SQLite loaded: no header or link flag for honker is needed.
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sqlite3 *db;

static void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
  exit(1);
}

/* Prepare sql and bind args: 'i' a sqlite3_int64, 's' a string. */
static sqlite3_stmt *prepare(const char *sql, const char *types, ...) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) die(sql);
  va_list ap;
  va_start(ap, types);
  for (int i = 0; types[i]; i++) {
    if (types[i] == 'i') sqlite3_bind_int64(st, i + 1, va_arg(ap, sqlite3_int64));
    else sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
  }
  va_end(ap);
  return st;
}

/* Run a statement to its end; the first column of its first row (0 when none). */
#define VALUE(...) value(prepare(__VA_ARGS__))
static sqlite3_int64 value(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) die(sqlite3_sql(st));
  sqlite3_int64 v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  while (rc == SQLITE_ROW) rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return v;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* $HONKER_EXT_PATH, else what the npm package says. */
static const char *extension_path(void) {
  static char path[PATH_MAX];
  const char *env = getenv("HONKER_EXT_PATH");
  if (env && *env) return env;
  FILE *p = popen("npx honker extension-path", "r");
  if (!p || !fgets(path, sizeof path, p) || pclose(p) != 0) {
    fprintf(stderr, "npx honker extension-path failed: is honker installed here?\n");
    exit(1);
  }
  path[strcspn(path, "\n")] = 0;
  return path;
}

static void open_db(const char *path, const char *ext) {
  if (sqlite3_open(path, &db) != SQLITE_OK) die(path);
  sqlite3_busy_timeout(db, 5000); /* wait for the write lock instead of failing at once */
  VALUE("PRAGMA journal_mode = WAL", ""); /* readers never block the writer */
  char *err = NULL;
  /* The C API's own switch: load_extension() in SQL stays off. */
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, NULL);
  if (sqlite3_load_extension(db, ext, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "load %s: %s\n", ext, err);
    exit(1);
  }
  VALUE("SELECT honker_bootstrap()", ""); /* honker's tables, once; cheap after that */
  VALUE("CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)", "");
}

static void produce(const char *queue, int count) {
  for (int n = 0; n < count; n++) {
    char item[32];
    snprintf(item, sizeof item, "book %d", n);
    /* IMMEDIATE takes the write lock now, so the transaction cannot fail half-way with SQLITE_BUSY. */
    VALUE("BEGIN IMMEDIATE", "");
    sqlite3_int64 order = VALUE("INSERT INTO orders(item) VALUES (?) RETURNING id", "s", item);
    /* (queue, payload, run_at, delay_s, priority, max_attempts, expires_s) */
    sqlite3_int64 job = VALUE("SELECT honker_enqueue(?, json_object('order', ?), NULL, NULL, 0, 3, NULL)",
                              "si", queue, order);
    VALUE("COMMIT", ""); /* the order and its job exist together, or neither does */
    printf("{\"order\":%lld,\"job\":%lld}\n", (long long)order, (long long)job);
  }
}

typedef struct HonkerWatcher HonkerWatcher; /* the C ABI of ext/honker_ext.h */
typedef struct { sqlite3_int64 id, attempts, fail; } Job;

static void work(const char *path, const char *ext, const char *queue, const char *worker) {
  /* The library is loaded (by SQLite) already; RTLD_NOLOAD finds it without loading it twice. */
  void *lib = dlopen(ext, RTLD_NOW | RTLD_NOLOAD);
  HonkerWatcher *(*watcher_open)(const char *, const char *, int, char *, int) =
      lib ? dlsym(lib, "honker_watcher_open_v2") : NULL;
  int (*watcher_wait)(HonkerWatcher *, int) = lib ? dlsym(lib, "honker_watcher_wait") : NULL;
  char err[256];
  /* Its thread wakes our wait on any commit to the file, from any process (NULL: the best
  ** backend, inotify where it works, else a 1 ms poll). */
  HonkerWatcher *watcher = watcher_open ? watcher_open(path, NULL, 1, err, sizeof err) : NULL;
  if (!watcher || !watcher_wait) {
    fprintf(stderr, "watcher: %s\n", watcher_open ? err : dlerror());
    exit(1);
  }
  /* Registered: if this process dies, its jobs come back within about a second. */
  VALUE("SELECT honker_worker_register(?)", "s", worker);
  setvbuf(stdout, NULL, _IOLBF, 0);
  double woke_ms = now_ms();
  for (;;) {
    /* Claim up to 10 jobs for 30 s each, then read them with json_each (each payload is a JSON
    ** string holding the payload's JSON text). All are read before any ack: a write on this
    ** connection while a statement still reads cannot wait for the lock (SQLITE_BUSY). */
    sqlite3_stmt *claim = prepare("SELECT honker_claim_batch(?, ?, 10, 30)", "ss", queue, worker);
    if (sqlite3_step(claim) != SQLITE_ROW) die("honker_claim_batch");
    sqlite3_stmt *each = prepare("SELECT value->>'id', value->>'attempts',"
                                 " coalesce((value->>'payload')->>'fail', 0) FROM json_each(?)",
                                 "s", (const char *)sqlite3_column_text(claim, 0));
    sqlite3_finalize(claim);
    Job jobs[10];
    int n = 0;
    while (n < 10 && sqlite3_step(each) == SQLITE_ROW)
      jobs[n++] = (Job){sqlite3_column_int64(each, 0), sqlite3_column_int64(each, 1), sqlite3_column_int64(each, 2)};
    sqlite3_finalize(each);
    for (int i = 0; i < n; i++) {
      const char *outcome = "acked";
      if (jobs[i].fail) { /* the handler failed: try again in 1 s (dead after max_attempts) */
        VALUE("SELECT honker_retry(?, ?, 1, ?)", "iss", jobs[i].id, worker, "payload asked to fail");
        outcome = "retried";
      } else { /* "ship" the order, then ack: the job is deleted */
        VALUE("SELECT honker_ack(?, ?)", "is", jobs[i].id, worker);
      }
      printf("{\"id\":%lld,\"attempts\":%lld,\"outcome\":\"%s\",\"woke_ms\":%.3f}\n",
             (long long)jobs[i].id, (long long)jobs[i].attempts, outcome, woke_ms);
    }
    if (n > 0) continue; /* there may be more */
    /* Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll. */
    sqlite3_int64 next_at = VALUE("SELECT honker_queue_next_claim_at(?)", "s", queue); /* 0: none */
    double left = next_at * 1e3 - now_ms();
    if (watcher_wait(watcher, next_at == 0 ? -1 : left > 0 ? (int)left : 0) < 0) {
      fprintf(stderr, "watcher died (database file replaced?)\n");
      exit(1);
    }
    woke_ms = now_ms();
  }
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "", *path = argc > 2 ? argv[2] : "app.db";
  const char *queue = argc > 3 ? argv[3] : "orders", *ext = extension_path();
  char worker[32];
  snprintf(worker, sizeof worker, "c-%d", (int)getpid());
  open_db(path, ext);
  if (!strcmp(mode, "producer")) produce(queue, argc > 4 ? atoi(argv[4]) : 1);
  else if (!strcmp(mode, "worker")) work(path, ext, queue, argc > 4 ? argv[4] : worker); /* never returns */
  else {
    fprintf(stderr, "usage: %s producer|worker [db] [queue] [count|worker_id]\n", argv[0]);
    return 2;
  }
  return sqlite3_close(db) == SQLITE_OK ? 0 : 1;
}
