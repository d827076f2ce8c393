/*
** lifeline.c — worker liveness: the jobs of a worker whose process died are
** claimable again within about a second, instead of after the visibility
** timeout (docs/sql.md "Worker liveness"). Ours, not in honker 0.4.
**
** Rule: registered workers are rescued by liveness; everyone else by the
** visibility timeout. A registered worker's process holds an exclusive POSIX
** record lock (fcntl F_SETLK) on one byte, its slot, of the lock file
** "<database file>-honker" (next to -wal and -shm) and has a row in
** _honker_workers. The kernel drops the lock when the process dies, however
** it dies (SIGKILL, OOM kill, crash), so any process can tell a dead worker
** from a live one that is merely slow: a worker blocking its own event loop
** keeps its lock. Any SQLite host that loads the extension takes part with
** SQL alone (Python, Go, the sqlite3 CLI ...).
**
**   honker_worker_register(worker_id) -> the slot (>= 0) the calling process
**     now holds for worker_id. Takes the lowest slot no live process holds,
**     records (worker_id, slot, pid, host, registered_at) in _honker_workers
**     and, first, rescues every dead slot it finds (honker_workers_rescue).
**     Registrations nest per connection: registering an id this connection
**     already holds returns the same slot (and rewrites its row) and needs
**     one more unregister. Several processes may register the same
**     worker_id: the id counts as dead only when none of its slots is held.
**     Errors: worker_id must be non-empty TEXT; the main database must be a
**     file (not :memory: or a temporary database); the database must have
**     honker's tables ("no table _honker_workers: run honker_bootstrap()
**     first"; a file of honker 0.4 is migrated by the registration's
**     write); "cannot open the lock file '<path>': <reason>"; "cannot take a
**     slot in '<path>': <reason>". Direct-only (refused in triggers and
**     views): it takes a lock of the process.
**     Example: SELECT honker_worker_register('py-1');
**
**   honker_worker_unregister(worker_id) -> 1 when this connection held a
**     registration of worker_id (the last one deletes the row and releases
**     the slot), else 0. Its claims are left as they are (hand jobs back with
**     honker_release first). Direct-only.
**     Example: SELECT honker_worker_unregister('py-1');
**
**   honker_workers_rescue() -> the number of claims expired. For each row of
**     _honker_workers whose slot no process holds: when no live slot has the
**     same worker_id, that worker's valid claims get claim_expires_at =
**     now - 1 (a lapsed claim: the next claim takes the job, its attempt
**     counted as for a lapsed visibility timeout, so a job killed on its final
**     attempt is dead-lettered as before); the dead row is deleted. One
**     write, all or nothing, taken only when a dead slot is found. No lock
**     file, no table or no file database: 0.
**     Example: SELECT honker_workers_rescue();
**
**   honker_workers() -> JSON array of {"worker_id","slot","pid","host",
**     "registered_at","alive","claims"} ordered by slot: alive (true/false)
**     is the lock test, claims the worker_id's processing rows.
**     Example: SELECT value FROM json_each(honker_workers());
**
** The claim path takes part by itself: honker_claim_batch runs the rescue
** at most once per second per connection before it claims (a read of
** _honker_workers and one F_GETLK per foreign slot; it writes only when it
** finds a dead slot), and honker_queue_next_claim_at returns at most now + 1
** while the queue has processing rows and _honker_workers has a row, so
** sleeping claimers look once a second while jobs are in flight. An idle
** queue (no processing row) costs nothing more.
**
** How a row is judged (lifeline_judge in lifeline_lock.c):
**   - a row of this process (pid and random token of this copy of the
**     library): alive while the registry holds its slot — POSIX locks never
**     conflict with their own process, so F_GETLK cannot see them;
**   - a row with this process's pid and host but another token: another copy
**     of the library in this process, or a dead process whose pid was
**     reused: cannot be told, counted alive (the visibility timeout rules);
**   - any other row: alive while some process holds its byte (F_GETLK). The
**     host is not compared: processes in containers sharing the file see
**     each other's locks, and where locks do not work SQLite does not either.
**
** Caveats (docs/sql.md): fork() does not inherit POSIX locks (a forked
** child must register again); closing any descriptor of the lock file drops
** the process's locks on it (never open "<db>-honker" yourself; two copies
** of the library loaded into one process would do that to each other);
** deleting "<db>-honker" while workers run makes them look dead; a
** connection that closes releases its slots, and its row is deleted by the
** next rescue (in any process).
**
** Invariants: a row exists for every slot a live registered process holds
** (written in the same write transaction that took the byte); a claim is
** only ever shortened here, never extended; claims of unregistered workers
** are never touched.
*/
/* strerror_r (XSI), stat: must precede every include. */
#define _XOPEN_SOURCE 700
#include "lifeline.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char WORKERS_TABLE_SQL[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_honker_workers'";
static const char WORKERS_ANY_SQL[] = "SELECT EXISTS (SELECT 1 FROM _honker_workers)";
static const char WORKERS_ROWS_SQL[] =
    "SELECT slot, worker_id, pid, host, token, registered_at, 0 FROM _honker_workers"
    " ORDER BY slot";
/* The same, with each worker_id's claims: processing rows only (a partial index). */
static const char WORKERS_LIST_SQL[] =
    "SELECT w.slot, w.worker_id, w.pid, w.host, w.token, w.registered_at,"
    " (SELECT count(*) FROM _honker_live INDEXED BY _honker_live_processing_deadline"
    "   WHERE state = 'processing' AND worker_id = w.worker_id)"
    " FROM _honker_workers AS w ORDER BY w.slot";
static const char WORKER_PUT_SQL[] =
    "INSERT OR REPLACE INTO _honker_workers (worker_id, slot, pid, host, token, registered_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char WORKER_OWN_SQL[] =
    "SELECT count(*) FROM _honker_workers WHERE slot = ?1 AND pid = ?2 AND token = ?3";
static const char WORKER_DELETE_SQL[] = "DELETE FROM _honker_workers WHERE slot = ?1";
static const char WORKER_DELETE_OWN_SQL[] =
    "DELETE FROM _honker_workers WHERE slot = ?1 AND pid = ?2 AND token = ?3";
/* In-flight rows only: the partial index holds processing rows, never the backlog. */
static const char WORKER_EXPIRE_SQL[] =
    "UPDATE _honker_live INDEXED BY _honker_live_processing_deadline"
    " SET claim_expires_at = ?2 - 1"
    " WHERE state = 'processing' AND worker_id = ?1 AND claim_expires_at >= ?2";

/* The rows of _honker_workers, read by lifeline_rows_read. */
typedef struct LifelineRows {
  LifelineRow *row;
  int n, cap;
} LifelineRows;

static void lifeline_rows_free(LifelineRows *rows) {
  for (int i = 0; i < rows->n; i++) {
    sqlite3_free(rows->row[i].worker_id);
    sqlite3_free(rows->row[i].host);
  }
  sqlite3_free(rows->row);
  memset(rows, 0, sizeof *rows);
}

/* A NUL-terminated copy of column i of s (its length in *n), or NULL on OOM. */
static char *lifeline_column_dup(sqlite3_stmt *s, int i, int *n) {
  const unsigned char *z = sqlite3_column_text(s, i);
  *n = sqlite3_column_bytes(s, i);
  if (!z && sqlite3_column_type(s, i) != SQLITE_NULL) return NULL; /* OOM converting it */
  char *copy = sqlite3_malloc(*n + 1);
  if (!copy) return NULL;
  if (*n > 0) memcpy(copy, z, (size_t)*n);
  copy[*n] = 0;
  return copy;
}

/* Read every row of sql (WORKERS_ROWS_SQL or WORKERS_LIST_SQL) into rows. */
static int lifeline_rows_read(sqlite3_context *ctx, const char *sql, LifelineRows *rows) {
  memset(rows, 0, sizeof *rows);
  sqlite3_stmt *s = honker_stmt(ctx, sql);
  if (!s) return SQLITE_ERROR;
  int rc;
  while ((rc = honker_step(ctx, s)) == SQLITE_ROW) {
    if (rows->n == rows->cap) {
      int cap = rows->cap ? rows->cap * 2 : 8;
      LifelineRow *grown = sqlite3_realloc64(rows->row, (sqlite3_uint64)cap * sizeof *grown);
      if (!grown) {
        rc = SQLITE_NOMEM;
        break;
      }
      rows->row = grown;
      rows->cap = cap;
    }
    LifelineRow *r = &rows->row[rows->n];
    memset(r, 0, sizeof *r);
    rows->n++;
    r->slot = sqlite3_column_int64(s, 0);
    r->pid = sqlite3_column_int64(s, 2);
    r->token = sqlite3_column_int64(s, 4);
    r->registered_at = sqlite3_column_int64(s, 5);
    r->claims = sqlite3_column_int64(s, 6);
    r->worker_id = lifeline_column_dup(s, 1, &r->n_worker_id);
    r->host = lifeline_column_dup(s, 3, &r->n_host);
    if (!r->worker_id || !r->host) {
      rc = SQLITE_NOMEM;
      break;
    }
  }
  if (rc == SQLITE_DONE) {
    honker_stmt_done(s);
    return SQLITE_OK;
  }
  if (rc == SQLITE_NOMEM) {
    honker_stmt_done(s);
    sqlite3_result_error_nomem(ctx);
  }
  lifeline_rows_free(rows);
  return rc;
}

/* Does _honker_workers exist? (a database bootstrapped before schema 2 lacks it) */
static int lifeline_table_exists(sqlite3_context *ctx, int *exists) {
  sqlite3_stmt *s = honker_stmt(ctx, WORKERS_TABLE_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_int64 n = 0;
  int rc = honker_query_int(ctx, s, 0, &n);
  *exists = n > 0;
  return rc;
}

/* The lock file's path "<main database file>-honker" (sqlite3_free it) and the
** database file's permissions; *path = NULL for :memory: or a temporary database. */
static int lifeline_lock_path(sqlite3_context *ctx, char **path, unsigned *mode) {
  *path = NULL;
  *mode = 0644;
  const char *db_file = sqlite3_db_filename(honker_db(ctx), "main");
  if (!db_file || !db_file[0]) return SQLITE_OK;
  struct stat st;
  if (stat(db_file, &st) == 0) *mode = (unsigned)(st.st_mode & 0666);
  *path = sqlite3_mprintf("%s-honker", db_file);
  if (!*path) {
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

/* An errno-style failure of the lock file, as a SQL error. */
static int lifeline_os_error(sqlite3_context *ctx, const char *what, const char *path, int err) {
  if (err == ENOMEM) {
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  char why[128] = "no free slot";
  if (err != ENOSPC && strerror_r(err, why, sizeof why)) snprintf(why, sizeof why, "errno %d", err);
  honker_result_errorf(ctx, "%s '%s': %s", what, path, why);
  return SQLITE_ERROR;
}

/* Under the write lock: expire the claims of every dead worker_id among rows
** (judged) that no live row shares, delete the dead rows; *expired += claims. */
static int lifeline_rescue_rows(sqlite3_context *ctx, const LifelineRows *rows, sqlite3_int64 now,
                                sqlite3_int64 *expired) {
  sqlite3 *db = honker_db(ctx);
  for (int i = 0; i < rows->n; i++) {
    const LifelineRow *r = &rows->row[i];
    if (r->alive) continue;
    int shared = 0; /* a live slot of the same id, or a dead one already handled */
    for (int j = 0; j < rows->n && !shared; j++) {
      const LifelineRow *o = &rows->row[j];
      shared = j != i && (o->alive || j < i) && o->n_worker_id == r->n_worker_id &&
               memcmp(o->worker_id, r->worker_id, (size_t)r->n_worker_id) == 0;
    }
    sqlite3_stmt *s;
    int rc;
    if (!shared) {
      if (!(s = honker_stmt(ctx, WORKER_EXPIRE_SQL))) return SQLITE_ERROR;
      sqlite3_bind_text(s, 1, r->worker_id, r->n_worker_id, SQLITE_STATIC);
      sqlite3_bind_int64(s, 2, now);
      if ((rc = honker_exec_stmt(ctx, s)) != SQLITE_OK) return rc;
      *expired += sqlite3_changes(db);
    }
    if (!(s = honker_stmt(ctx, WORKER_DELETE_SQL))) return SQLITE_ERROR;
    sqlite3_bind_int64(s, 1, r->slot);
    if ((rc = honker_exec_stmt(ctx, s)) != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

/* The whole rescue in one write: re-read and re-judge under the write lock
** (a registration may have replaced a dead row since a read saw it). */
static int lifeline_rescue(sqlite3_context *ctx, LifelineFile *f, sqlite3_int64 now,
                           sqlite3_int64 *expired) {
  HonkerTxn txn;
  int rc = honker_write_begin(ctx, &txn);
  if (rc != SQLITE_OK) return rc;
  LifelineRows rows;
  rc = lifeline_rows_read(ctx, WORKERS_ROWS_SQL, &rows);
  if (rc == SQLITE_OK) {
    lifeline_judge(f, rows.row, rows.n);
    rc = lifeline_rescue_rows(ctx, &rows, now, expired);
    lifeline_rows_free(&rows);
  }
  return honker_write_end(ctx, &txn, rc);
}

int lifeline_rescue_due(sqlite3_context *ctx, sqlite3_int64 now) {
  sqlite3_int64 *checked = honker_conn_lifeline_checked(ctx);
  if (!checked || *checked == now) return SQLITE_OK;
  *checked = now;
  char *path;
  unsigned mode;
  int exists = 0, rc = lifeline_lock_path(ctx, &path, &mode);
  if (rc == SQLITE_OK && path) rc = lifeline_table_exists(ctx, &exists);
  if (rc != SQLITE_OK || !path || !exists) {
    sqlite3_free(path);
    return rc;
  }
  /* A read first: the write lock is taken only when a slot is found dead. */
  LifelineRows rows;
  rc = lifeline_rows_read(ctx, WORKERS_ROWS_SQL, &rows);
  LifelineFile *f = NULL;
  if (rc == SQLITE_OK && rows.n > 0 && lifeline_file_open(path, 0, mode, &f) == 0) {
    int dead = 0;
    lifeline_judge(f, rows.row, rows.n);
    for (int i = 0; i < rows.n; i++)
      dead |= !rows.row[i].alive;
    sqlite3_int64 expired = 0;
    if (dead) rc = lifeline_rescue(ctx, f, now, &expired);
    lifeline_file_close(f);
  } /* a lock file this process cannot open: the visibility timeout decides */
  lifeline_rows_free(&rows);         /* read failures leave it empty */
  if (rc != SQLITE_OK) *checked = 0; /* look again at the next call */
  sqlite3_free(path);
  return rc;
}

int lifeline_workers_present(sqlite3_context *ctx, int *present) {
  int exists = 0;
  *present = 0;
  int rc = lifeline_table_exists(ctx, &exists);
  if (rc != SQLITE_OK || !exists) return rc;
  sqlite3_stmt *s = honker_stmt(ctx, WORKERS_ANY_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_int64 any = 0;
  rc = honker_query_int(ctx, s, 0, &any);
  *present = any != 0;
  return rc;
}

/* The lock file path for a function that needs a file database and our table. */
static int lifeline_require(sqlite3_context *ctx, char **path, unsigned *mode) {
  int exists = 0;
  int rc = lifeline_lock_path(ctx, path, mode);
  if (rc != SQLITE_OK) return rc;
  if (!*path) {
    honker_result_errorf(ctx,
                         "the main database must be a file (got an in-memory or temporary "
                         "database)");
    return SQLITE_ERROR;
  }
  rc = lifeline_table_exists(ctx, &exists);
  if (rc == SQLITE_OK && !exists) {
    /* A file of honker 0.4 (or of our schema 1) is fine: the registration's
    ** write migrates it (honker_write_begin). */
    sqlite3_int64 version;
    rc = honker_schema_version(ctx, &version);
    if (rc == SQLITE_OK && !honker_conn_schema(ctx)->outdated) {
      honker_result_errorf(ctx, "no table _honker_workers: run honker_bootstrap() first");
      rc = SQLITE_ERROR;
    }
  }
  if (rc != SQLITE_OK) {
    sqlite3_free(*path);
    *path = NULL;
  }
  return rc;
}

/* Write this process's row for slot. */
static int lifeline_put_row(sqlite3_context *ctx, const char *worker_id, int n_worker_id,
                            sqlite3_int64 slot, sqlite3_int64 now) {
  sqlite3_stmt *s = honker_stmt(ctx, WORKER_PUT_SQL);
  if (!s) return SQLITE_ERROR;
  sqlite3_bind_text(s, 1, worker_id, n_worker_id, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, slot);
  sqlite3_bind_int64(s, 3, lifeline_self_pid());
  sqlite3_bind_text(s, 4, lifeline_self_host(), -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 5, lifeline_self_token());
  sqlite3_bind_int64(s, 6, now);
  return honker_exec_stmt(ctx, s);
}

/* Under the write lock: rescue the dead slots, then take the lowest free one. */
static int lifeline_register_new(sqlite3_context *ctx, LifelineFile *f, const char *path,
                                 const char *worker_id, int n_worker_id, sqlite3_int64 now,
                                 sqlite3_int64 *slot) {
  LifelineRows rows;
  int rc = lifeline_rows_read(ctx, WORKERS_ROWS_SQL, &rows);
  if (rc != SQLITE_OK) return rc;
  lifeline_judge(f, rows.row, rows.n);
  sqlite3_int64 expired = 0;
  rc = lifeline_rescue_rows(ctx, &rows, now, &expired);
  /* Live rows keep their slots, even those whose byte this process could lock
  ** (another copy of the library here): never take a slot from a live row. */
  sqlite3_int64 *taken = rows.n ? sqlite3_malloc64(sizeof(sqlite3_int64) * (size_t)rows.n) : NULL;
  int n_taken = 0;
  if (rc == SQLITE_OK && rows.n && !taken) {
    sqlite3_result_error_nomem(ctx);
    rc = SQLITE_NOMEM;
  }
  for (int i = 0; rc == SQLITE_OK && i < rows.n; i++) {
    if (rows.row[i].alive) taken[n_taken++] = rows.row[i].slot;
  }
  if (rc == SQLITE_OK) {
    int err = lifeline_slot_take(f, taken, n_taken, honker_db(ctx), worker_id, n_worker_id, slot);
    if (err) rc = lifeline_os_error(ctx, "cannot take a slot in", path, err);
  }
  sqlite3_free(taken);
  lifeline_rows_free(&rows);
  if (rc == SQLITE_OK) {
    rc = lifeline_put_row(ctx, worker_id, n_worker_id, *slot, now);
    if (rc != SQLITE_OK) lifeline_slot_drop(honker_db(ctx), worker_id, n_worker_id);
  }
  return rc;
}

static void honker_worker_register_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *worker_id;
  int n_worker_id, count;
  char *path;
  unsigned mode;
  sqlite3_int64 now, slot, has_row = 0;
  HonkerTxn txn;
  if (honker_arg_name(ctx, argv, 0, "worker_id", &worker_id, &n_worker_id)) return;
  if (lifeline_require(ctx, &path, &mode)) return;
  sqlite3 *db = honker_db(ctx);
  int rc = honker_now(ctx, &now);
  slot = lifeline_slot_find(db, worker_id, n_worker_id, 0, &count);
  if (rc == SQLITE_OK && slot >= 0) {
    /* Nested: the same slot. Its row is read back (a rolled-back transaction may
    ** have taken it away) and written only when missing. */
    sqlite3_stmt *s = honker_stmt(ctx, WORKER_OWN_SQL);
    if (!s) rc = SQLITE_ERROR;
    if (s) {
      sqlite3_bind_int64(s, 1, slot);
      sqlite3_bind_int64(s, 2, lifeline_self_pid());
      sqlite3_bind_int64(s, 3, lifeline_self_token());
      rc = honker_query_int(ctx, s, 0, &has_row);
    }
    if (rc == SQLITE_OK && !has_row) rc = lifeline_put_row(ctx, worker_id, n_worker_id, slot, now);
    if (rc == SQLITE_OK) lifeline_slot_find(db, worker_id, n_worker_id, +1, &count);
  } else if (rc == SQLITE_OK && (rc = honker_write_begin(ctx, &txn)) == SQLITE_OK) {
    LifelineFile *f = NULL;
    int err = lifeline_file_open(path, 1, mode, &f);
    if (err) rc = lifeline_os_error(ctx, "cannot open the lock file", path, err);
    if (rc == SQLITE_OK)
      rc = lifeline_register_new(ctx, f, path, worker_id, n_worker_id, now, &slot);
    int taken = rc == SQLITE_OK;
    rc = honker_write_end(ctx, &txn, rc);
    if (rc != SQLITE_OK && taken) lifeline_slot_drop(db, worker_id, n_worker_id);
    lifeline_file_close(f); /* the slot holds its own reference */
  }
  sqlite3_free(path);
  if (rc == SQLITE_OK) sqlite3_result_int64(ctx, slot);
}

static void honker_worker_unregister_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *worker_id;
  int n_worker_id, count, exists = 0;
  if (honker_arg_name(ctx, argv, 0, "worker_id", &worker_id, &n_worker_id)) return;
  sqlite3 *db = honker_db(ctx);
  sqlite3_int64 slot = lifeline_slot_find(db, worker_id, n_worker_id, 0, &count);
  if (slot < 0) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  if (count > 1) {
    lifeline_slot_find(db, worker_id, n_worker_id, -1, &count);
    sqlite3_result_int(ctx, 1);
    return;
  }
  /* Delete the row first, release the byte once that committed: a rescuer
  ** never sees our row with a free byte. */
  if (lifeline_table_exists(ctx, &exists)) return;
  if (exists) {
    HonkerTxn txn;
    int rc = honker_write_begin(ctx, &txn);
    if (rc != SQLITE_OK) return;
    sqlite3_stmt *s = honker_stmt(ctx, WORKER_DELETE_OWN_SQL);
    if (!s) {
      rc = SQLITE_ERROR;
    } else {
      sqlite3_bind_int64(s, 1, slot);
      sqlite3_bind_int64(s, 2, lifeline_self_pid());
      sqlite3_bind_int64(s, 3, lifeline_self_token());
      rc = honker_exec_stmt(ctx, s);
    }
    if (honker_write_end(ctx, &txn, rc) != SQLITE_OK) return;
  }
  lifeline_slot_drop(db, worker_id, n_worker_id);
  sqlite3_result_int(ctx, 1);
}

static void honker_workers_rescue_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  char *path;
  unsigned mode;
  int exists = 0;
  sqlite3_int64 now, expired = 0;
  if (honker_now(ctx, &now)) return;
  int rc = lifeline_lock_path(ctx, &path, &mode);
  if (rc == SQLITE_OK && path) rc = lifeline_table_exists(ctx, &exists);
  if (rc == SQLITE_OK && path && exists) {
    LifelineFile *f = NULL;
    int err = lifeline_file_open(path, 0, mode, &f);
    if (err) {
      rc = lifeline_os_error(ctx, "cannot open the lock file", path, err);
    } else {
      rc = lifeline_rescue(ctx, f, now, &expired);
      lifeline_file_close(f);
    }
  }
  sqlite3_free(path);
  if (rc == SQLITE_OK) sqlite3_result_int64(ctx, expired);
}

static void honker_workers_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  char *path;
  unsigned mode;
  int exists = 0;
  int rc = lifeline_lock_path(ctx, &path, &mode);
  if (rc == SQLITE_OK) rc = lifeline_table_exists(ctx, &exists);
  LifelineRows rows = {0, 0, 0};
  if (rc == SQLITE_OK && exists) rc = lifeline_rows_read(ctx, WORKERS_LIST_SQL, &rows);
  LifelineFile *f = NULL;
  if (rc == SQLITE_OK && rows.n > 0 && path) {
    int err = lifeline_file_open(path, 0, mode, &f);
    if (err) rc = lifeline_os_error(ctx, "cannot open the lock file", path, err);
  }
  sqlite3_free(path);
  if (rc != SQLITE_OK) {
    lifeline_rows_free(&rows);
    return;
  }
  lifeline_judge(f, rows.row, rows.n);
  lifeline_file_close(f);
  sqlite3_str *out = sqlite3_str_new(honker_db(ctx));
  sqlite3_str_appendchar(out, 1, '[');
  for (int i = 0; i < rows.n; i++) {
    const LifelineRow *r = &rows.row[i];
    sqlite3_str_appendf(out, "%s{\"worker_id\":", i ? "," : "");
    honker_json_string(out, r->worker_id, r->n_worker_id);
    sqlite3_str_appendf(out, ",\"slot\":%lld,\"pid\":%lld,\"host\":", r->slot, r->pid);
    honker_json_string(out, r->host, r->n_host);
    sqlite3_str_appendf(out, ",\"registered_at\":%lld,\"alive\":%s,\"claims\":%lld}",
                        r->registered_at, r->alive ? "true" : "false", r->claims);
  }
  sqlite3_str_appendchar(out, 1, ']');
  lifeline_rows_free(&rows);
  honker_result_str(ctx, out);
}

static const HonkerFunc lifeline_functions[] = {
    {"honker_worker_register", 1, honker_worker_register_fn, SQLITE_DIRECTONLY},
    {"honker_worker_unregister", 1, honker_worker_unregister_fn, SQLITE_DIRECTONLY},
    {"honker_workers_rescue", 0, honker_workers_rescue_fn, HONKER_FN_DB},
    {"honker_workers", 0, honker_workers_fn, HONKER_FN_DB},
};

int honker_lifeline_register(sqlite3 *db, HonkerConn *conn, char **pzErrMsg) {
  return honker_register_functions(db, conn, lifeline_functions, HONKER_COUNT(lifeline_functions),
                                   pzErrMsg);
}
