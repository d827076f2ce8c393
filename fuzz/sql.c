/*
** fuzz/sql.c — libFuzzer harness for the SQL functions of honker_ext.
**   clang -g -O1 -fsanitize=fuzzer,address,undefined -DSQLITE_CORE -Dsqlite3_api=1 \
**     fuzz/sql.c ext/[a-z]*.c -lsqlite3 -lpthread -lm -o sql_fuzz
**   ./sql_fuzz -max_total_time=60 fuzz/corpus/sql
** (scripts/fuzz.ts does this.) The extension is compiled in with
** -DSQLITE_CORE against the system libsqlite3 and registered on the
** in-memory database by calling its entry point directly (-Dsqlite3_api=1:
** watcher.c checks that it was loaded as an extension; compiled in, it was).
**
** Each input is decoded into a sequence of at most 64 operations on one
** bootstrapped in-memory database: a honker SQL function (any of
** test/extension.surface.txt) called with typed arguments (NULL, integers
** small, huge and at the limits, reals incl. NaN and infinities, text with
** NULs and invalid UTF-8, blobs, names and SQL-looking strings from a small
** dictionary so calls meet each other's rows, 10,000..100,000-byte text, ids
** returned by earlier calls), run either as a plain SELECT or inside a
** writing statement (INSERT ... SELECT fn(...)); plus BEGIN, COMMIT,
** ROLLBACK, SAVEPOINT and RELEASE.
**
** Checks (abort() on failure, so libFuzzer keeps the reproducer):
**   - no crash, leak, hang or sanitizer report;
**   - every failed call's message starts with "<function name>: " (or is
**     "out of memory": util.h reports SQLITE_NOMEM with result_error_nomem);
**   - afterwards PRAGMA integrity_check is "ok" and the honker tables are
**     consistent (no id both live and dead; pending rows unclaimed,
**     processing rows claimed; job errors belong to a live or dead job;
**     states are pending or processing; rate-limit counts >= 1);
**   - at exit, sqlite3_close succeeds (no statement left unfinalized).
** One connection serves the whole run; each input starts from empty tables.
** Watchers: honker_update_watcher_open only ever sees a missing path, so no
** thread is started and no handle exists: every wait, whatever its
** arguments, returns at once (-1 for an unknown handle, or an argument error).
*/
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int sqlite3_honkerext_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi);

/* Every SQL function of test/extension.surface.txt, name and arity. */
static const struct {
  const char *name;
  int n_arg;
} fuzz_fns[] = {
    {"honker_ack", 2},
    {"honker_ack_batch", 2},
    {"honker_bootstrap", 0},
    {"honker_cancel", 1},
    {"honker_claim_batch", 4},
    {"honker_cron_error", 1},
    {"honker_cron_next_after", 2},
    {"honker_dead_get", 1},
    {"honker_dead_list", 2},
    {"honker_dead_purge", 2},
    {"honker_dead_requeue", 1},
    {"honker_enqueue", 7},
    {"honker_enqueue_unique", 8},
    {"honker_fail", 3},
    {"honker_get_job", 1},
    {"honker_heartbeat", 3},
    {"honker_history", 2},
    {"honker_job_errors", 1},
    {"honker_job_list", 3},
    {"honker_job_list", 4},
    {"honker_lock_acquire", 3},
    {"honker_lock_release", 2},
    {"honker_lock_renew", 3},
    {"honker_notify_channels", 0},
    {"honker_notify_last_id", 0},
    {"honker_notify_prune", 2},
    {"honker_notify_read_since", 3},
    {"honker_notify_recent", 2},
    {"honker_queue_next_claim_at", 1},
    {"honker_queue_stats", 1},
    {"honker_queues_stats", 0},
    {"honker_rate_limit_sweep", 1},
    {"honker_rate_limit_try", 3},
    {"honker_release", 2},
    {"honker_result_get", 1},
    {"honker_result_save", 3},
    {"honker_result_sweep", 0},
    {"honker_retry", 4},
    {"honker_run_now", 1},
    {"honker_scheduler_list", 0},
    {"honker_scheduler_pause", 1},
    {"honker_scheduler_register", 6},
    {"honker_scheduler_register", 7},
    {"honker_scheduler_resume", 1},
    {"honker_scheduler_soonest", 0},
    {"honker_scheduler_tick", 1},
    {"honker_scheduler_unregister", 1},
    {"honker_scheduler_update", 6},
    {"honker_scheduler_update", 8},
    {"honker_stream_consumers", 0},
    {"honker_stream_get_offset", 2},
    {"honker_stream_publish", 3},
    {"honker_stream_read_since", 3},
    {"honker_stream_save_offset", 3},
    {"honker_streams", 0},
    {"honker_sweep_expired", 1},
    {"honker_update_watcher_close", 1},
    {"honker_update_watcher_open", 2},
    {"honker_update_watcher_open", 3},
    {"honker_update_watcher_wait", 2},
    {"honker_wal_autocheckpoint", 1},
    {"honker_worker_register", 1},
    {"honker_worker_unregister", 1},
    {"honker_workers", 0},
    {"honker_workers_rescue", 0},
    {"notify", 2},
};
#define FUZZ_N_FNS ((int)(sizeof fuzz_fns / sizeof fuzz_fns[0]))
#define FUZZ_MAX_ARGS 8
#define FUZZ_MAX_OPS 64

/* Texts that make calls meet each other's rows, and hostile strings. */
static const char *const fuzz_words[] = {
    "q",
    "w",
    "emails",
    "",
    "'); DROP TABLE _honker_live;--",
    "%s%n%s%n",
    "\"; DELETE FROM _honker_locks; --",
    "* * * * *",
    "*/5 * * * * *",
    "@hourly",
    "0 3 * * *",
    "0 0 30 2 *",
    "[1,2,3]",
    "[]",
    "{}",
    "[1,\"x\"]",
    "[9223372036854775807,-1]",
    "pending",
    "scheduled",
    "processing",
    "dead",
    "polling",
    "\xc3\xa9\xe2\x9c\x93\xf0\x9f\x90\xa6",
    "\xff\xfe",
    "{\"a\":1}",
};
#define FUZZ_N_WORDS ((int)(sizeof fuzz_words / sizeof fuzz_words[0]))

static const int64_t fuzz_ints[] = {
    0,
    1,
    -1,
    2,
    3,
    60,
    86400,
    INT64_MAX,
    INT64_MIN,
    INT64_MAX - 1,
    253402300799,
    253402300800,
    2147483647,
    2147483648LL,
    -2147483649LL,
    1767225600,
};
#define FUZZ_N_INTS ((int)(sizeof fuzz_ints / sizeof fuzz_ints[0]))

static const char *const fuzz_checks[] = {
    "SELECT count(*) FROM _honker_live l JOIN _honker_dead d ON d.id = l.id",
    "SELECT count(*) FROM _honker_live WHERE state NOT IN ('pending', 'processing')",
    "SELECT count(*) FROM _honker_live WHERE state = 'pending'"
    " AND (worker_id IS NOT NULL OR claim_expires_at IS NOT NULL)",
    "SELECT count(*) FROM _honker_live WHERE state = 'processing'"
    " AND (worker_id IS NULL OR claim_expires_at IS NULL)",
    "SELECT count(*) FROM _honker_job_errors e WHERE NOT EXISTS"
    " (SELECT 1 FROM _honker_live WHERE id = e.job_id)"
    " AND NOT EXISTS (SELECT 1 FROM _honker_dead WHERE id = e.job_id)",
    "SELECT count(*) FROM _honker_rate_limits WHERE count < 1",
};

/* A reader over the input bytes: past the end everything reads as 0. */
typedef struct {
  const uint8_t *p;
  size_t n;
} FuzzIn;

static unsigned fuzz_byte(FuzzIn *in) {
  if (in->n == 0) return 0;
  in->n--;
  return *in->p++;
}

static uint64_t fuzz_u64(FuzzIn *in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | fuzz_byte(in);
  return v;
}

/* Up to max bytes of the input as one argument (length from the next byte). */
static const uint8_t *fuzz_bytes(FuzzIn *in, size_t *len) {
  size_t want = fuzz_byte(in);
  if (want > in->n) want = in->n;
  const uint8_t *p = in->p;
  in->p += want;
  in->n -= want;
  *len = want;
  return p;
}

static int64_t fuzz_ids[16];
static int fuzz_n_ids;
static char fuzz_big[100001];

static void fuzz_remember(int64_t v) {
  fuzz_ids[fuzz_n_ids % 16] = v;
  fuzz_n_ids++;
}

static int64_t fuzz_some_id(FuzzIn *in) {
  if (fuzz_n_ids == 0) return (int64_t)(fuzz_byte(in) % 8);
  int k = fuzz_n_ids < 16 ? fuzz_n_ids : 16;
  return fuzz_ids[fuzz_byte(in) % (unsigned)k];
}

/* Bind argument i (1-based) of s from the input: its type from one byte. */
static void fuzz_bind(FuzzIn *in, sqlite3_stmt *s, int i) {
  unsigned kind = fuzz_byte(in) % 14;
  size_t len;
  const uint8_t *p;
  double d;
  uint64_t bits;
  switch (kind) {
    case 0:
      sqlite3_bind_null(s, i);
      break;
    case 1:
      sqlite3_bind_int64(s, i, (int8_t)fuzz_byte(in));
      break;
    case 2:
      sqlite3_bind_int64(s, i, (int64_t)fuzz_u64(in));
      break;
    case 3:
      sqlite3_bind_int64(s, i, fuzz_ints[fuzz_byte(in) % FUZZ_N_INTS]);
      break;
    case 4:
      bits = fuzz_u64(in);
      memcpy(&d, &bits, sizeof d);
      sqlite3_bind_double(s, i, d);
      break;
    case 5: {
      static const double specials[] = {
          3.0, 3.5, -0.0, 1e300, -1e300, 9.2233720368547758e18, -9.2233720368547758e18, 0.5};
      unsigned k = fuzz_byte(in) % 10;
      d = k < 8 ? specials[k] : (k == 8 ? NAN : INFINITY);
      sqlite3_bind_double(s, i, d);
      break;
    }
    case 6:
      p = fuzz_bytes(in, &len);
      sqlite3_bind_text(s, i, (const char *)p, (int)len, SQLITE_TRANSIENT);
      break;
    case 7:
      p = fuzz_bytes(in, &len);
      sqlite3_bind_blob(s, i, p, (int)len, SQLITE_TRANSIENT);
      break;
    case 8:
    case 9:
    case 10:
      sqlite3_bind_text(s, i, fuzz_words[fuzz_byte(in) % FUZZ_N_WORDS], -1, SQLITE_STATIC);
      break;
    case 11: {
      static const int sizes[] = {10000, 100000, 1, 255};
      unsigned c = fuzz_byte(in);
      int n = sizes[c % 4];
      memset(fuzz_big, (c >> 2) % 2 ? 0 : 'a' + (c >> 3) % 26, (size_t)n);
      sqlite3_bind_text(s, i, fuzz_big, n, SQLITE_TRANSIENT);
      break;
    }
    case 12:
      sqlite3_bind_int64(s, i, fuzz_some_id(in));
      break;
    default: {
      char buf[64];
      int64_t a = fuzz_some_id(in), b = fuzz_some_id(in);
      snprintf(buf, sizeof buf, "[%lld,%lld]", (long long)a, (long long)b);
      sqlite3_bind_text(s, i, buf, -1, SQLITE_TRANSIENT);
      break;
    }
  }
}

static void fuzz_fail(const char *what, const char *detail) {
  fprintf(stderr, "fuzz/sql.c: %s: %s\n", what, detail ? detail : "(null)");
  abort();
}

/* Run one control statement; its errors (e.g. COMMIT without BEGIN) are expected. */
static void fuzz_exec_quiet(sqlite3 *db, const char *sql) { sqlite3_exec(db, sql, 0, 0, 0); }

/* Call function f with arguments decoded from the input. */
static void fuzz_call(sqlite3 *db, FuzzIn *in, int f, int in_insert) {
  char sql[160];
  const char *name = fuzz_fns[f].name;
  int n_arg = fuzz_fns[f].n_arg;
  int off = snprintf(sql, sizeof sql, "%s%s(",
                     in_insert ? "INSERT INTO fuzz_sink SELECT " : "SELECT ", name);
  for (int i = 0; i < n_arg; i++)
    off += snprintf(sql + off, sizeof sql - (size_t)off, i ? ",?" : "?");
  snprintf(sql + off, sizeof sql - (size_t)off, ")");
  sqlite3_stmt *s = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &s, 0) != SQLITE_OK) fuzz_fail(sql, sqlite3_errmsg(db));
  for (int i = 1; i <= n_arg; i++)
    fuzz_bind(in, s, i);
  if (strcmp(name, "honker_update_watcher_open") == 0) { /* never start a thread: no such file */
    sqlite3_bind_text(s, 1, "/nonexistent-honker-fuzz/x.db", -1, SQLITE_STATIC);
  }
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    if (sqlite3_column_type(s, 0) == SQLITE_INTEGER) fuzz_remember(sqlite3_column_int64(s, 0));
    rc = sqlite3_step(s);
  }
  if (rc != SQLITE_DONE) {
    const char *msg = sqlite3_errmsg(db);
    size_t n = strlen(name);
    int prefixed = strncmp(msg, name, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ';
    if (!prefixed && strcmp(msg, "out of memory") != 0) {
      fprintf(stderr, "fuzz/sql.c: %s\n", sql);
      fuzz_fail("error without the function name", msg);
    }
  }
  sqlite3_finalize(s);
}

/* Abort unless every consistency query yields 0 and integrity_check is ok. */
static void fuzz_check(sqlite3 *db) {
  sqlite3_stmt *s = 0;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, 0) != SQLITE_OK)
    fuzz_fail("integrity_check", sqlite3_errmsg(db));
  if (sqlite3_step(s) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0)
    fuzz_fail("integrity_check", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  for (size_t i = 0; i < sizeof fuzz_checks / sizeof fuzz_checks[0]; i++) {
    if (sqlite3_prepare_v2(db, fuzz_checks[i], -1, &s, 0) != SQLITE_OK)
      fuzz_fail(fuzz_checks[i], sqlite3_errmsg(db));
    if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_int64(s, 0) != 0)
      fuzz_fail("inconsistent honker tables", fuzz_checks[i]);
    sqlite3_finalize(s);
  }
}

static sqlite3 *fuzz_db;

/* At exit: the connection must close cleanly (no statement left unfinalized). */
static void fuzz_close(void) {
  if (fuzz_db && sqlite3_close(fuzz_db) != SQLITE_OK) fuzz_fail("close", sqlite3_errmsg(fuzz_db));
  fuzz_db = 0;
}

/* One connection for the whole run (opening and bootstrapping per input would
** cost most of the time); each input starts from empty honker tables. */
static sqlite3 *fuzz_fresh_db(void) {
  char *err = 0;
  if (!fuzz_db) {
    if (sqlite3_open(":memory:", &fuzz_db) != SQLITE_OK) fuzz_fail("open", sqlite3_errmsg(fuzz_db));
    int rc = sqlite3_honkerext_init(fuzz_db, &err, 0);
    if (rc != SQLITE_OK && rc != SQLITE_OK_LOAD_PERMANENTLY) fuzz_fail("init", err);
    if (sqlite3_exec(fuzz_db, "SELECT honker_bootstrap(); CREATE TABLE fuzz_sink(v)", 0, 0, &err))
      fuzz_fail("bootstrap", err);
    atexit(fuzz_close);
  }
  static const char RESET_SQL[] =
      "DELETE FROM _honker_live; DELETE FROM _honker_dead; DELETE FROM _honker_notifications;"
      "DELETE FROM _honker_locks; DELETE FROM _honker_rate_limits;"
      "DELETE FROM _honker_scheduler_tasks; DELETE FROM _honker_results;"
      "DELETE FROM _honker_stream; DELETE FROM _honker_stream_consumers;"
      "DELETE FROM _honker_job_errors; DELETE FROM sqlite_sequence; DELETE FROM fuzz_sink;";
  if (sqlite3_exec(fuzz_db, RESET_SQL, 0, 0, &err) != SQLITE_OK) fuzz_fail("reset", err);
  return fuzz_db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzIn in = {data, size};
  sqlite3 *db = fuzz_fresh_db();
  fuzz_n_ids = 0;
  for (int op = 0; op < FUZZ_MAX_OPS && in.n > 0; op++) {
    unsigned c = fuzz_byte(&in);
    unsigned k = c % (FUZZ_N_FNS + 6);
    if (k < (unsigned)FUZZ_N_FNS) {
      fuzz_call(db, &in, (int)k, (c / (FUZZ_N_FNS + 6)) % 4 == 3);
      continue;
    }
    static const char *const control[] = {"BEGIN",    "BEGIN IMMEDIATE", "COMMIT",
                                          "ROLLBACK", "SAVEPOINT fz",    "RELEASE fz"};
    fuzz_exec_quiet(db, control[k - (unsigned)FUZZ_N_FNS]);
  }
  if (!sqlite3_get_autocommit(db)) fuzz_exec_quiet(db, "COMMIT");
  if (!sqlite3_get_autocommit(db)) fuzz_exec_quiet(db, "ROLLBACK");
  fuzz_check(db);
  return 0;
}
