/*
** write_lock.c — atomicity of the functions that write (spec/sql.md
** "Atomicity"; contracts in util.h): honker_write_begin takes the write lock
** at once inside a transaction or SAVEPOINT of our own, honker_write_end
** releases it on success and rolls back otherwise.
**
** Invariants kept here:
**   - called in autocommit mode, a function runs in its own BEGIN IMMEDIATE
**     transaction: all of its work commits, or none of it;
**   - called inside the caller's transaction, it joins that transaction
**     through SAVEPOINT honker_fn, so a failure undoes only its own work; a
**     deferred transaction that has not read yet takes the write lock there;
**   - called from a statement that is itself writing (a trigger, or
**     INSERT ... VALUES (honker_enqueue(...))), it opens nothing: SQLite
**     forbids savepoints there, and the outer statement is the atomic unit;
**   - undoing never overwrites the error already reported on the context;
**   - once the lock is held, a file whose schema is older than ours is
**     migrated first (honker_schema_ensure), in the same transaction.
*/
#include "util.h"

static const char TXN_BEGIN_SQL[] = "BEGIN IMMEDIATE";
static const char TXN_COMMIT_SQL[] = "COMMIT";
static const char TXN_ROLLBACK_SQL[] = "ROLLBACK";
static const char SAVEPOINT_SQL[] = "SAVEPOINT honker_fn";
static const char SAVEPOINT_RELEASE_SQL[] = "RELEASE honker_fn";
static const char SAVEPOINT_ROLLBACK_SQL[] = "ROLLBACK TO honker_fn";
/* Changes nothing, but takes the write lock like any write statement. */
static const char TXN_TAKE_LOCK_SQL[] = "DELETE FROM _honker_live WHERE 0";

enum { TXN_NONE = 0, TXN_OWN = 1, TXN_SAVEPOINT = 2 };

/* True when a statement that writes is running on db (the caller's own
** INSERT/UPDATE that invoked us): SQLite then refuses BEGIN and SAVEPOINT. */
static int write_lock_outer_write(sqlite3 *db) {
  for (sqlite3_stmt *s = sqlite3_next_stmt(db, 0); s; s = sqlite3_next_stmt(db, s)) {
    if (sqlite3_stmt_busy(s) && !sqlite3_stmt_readonly(s)) return 1;
  }
  return 0;
}

/* Run one cached transaction statement; the error is set on ctx. */
static int write_lock_run(sqlite3_context *ctx, const char *sql) {
  sqlite3_stmt *s = honker_stmt(ctx, sql);
  if (!s) return SQLITE_ERROR;
  return honker_exec_stmt(ctx, s);
}

/* Take the write lock (or join the caller's transaction): txn->open says how. */
static int write_lock_take(sqlite3_context *ctx, HonkerTxn *txn) {
  sqlite3 *db = honker_db(ctx);
  txn->open = TXN_NONE;
  if (write_lock_outer_write(db)) return SQLITE_OK;
  if (sqlite3_get_autocommit(db)) {
    /* Autocommit (e.g. the sqlite3 CLI): our own transaction, write lock first. */
    int rc = write_lock_run(ctx, TXN_BEGIN_SQL);
    if (rc == SQLITE_OK) txn->open = TXN_OWN;
    return rc;
  }
  /* Inside the caller's transaction: join it, undoable on our own. */
  int rc = write_lock_run(ctx, SAVEPOINT_SQL);
  if (rc != SQLITE_OK) return rc;
  txn->open = TXN_SAVEPOINT;
  if (sqlite3_txn_state(db, "main") == SQLITE_TXN_NONE) {
    /* A deferred transaction that has not read yet: take the write lock now,
    ** waiting on the busy handler, before any read (ours start with one, the
    ** schema check) pins a snapshot that a concurrent commit would make
    ** unwritable (SQLITE_BUSY_SNAPSHOT). A file without _honker_live has
    ** nothing to protect: skipped. */
    sqlite3_stmt *s = honker_stmt_quiet(ctx, TXN_TAKE_LOCK_SQL);
    if (s) rc = honker_exec_stmt(ctx, s);
  }
  return rc;
}

/* Undo without touching the error already reported on ctx. */
static void write_lock_undo(sqlite3_context *ctx, HonkerTxn *txn) {
  sqlite3_stmt *s;
  if (txn->open == TXN_OWN) {
    if (sqlite3_get_autocommit(honker_db(ctx))) return; /* SQLite already rolled back */
    if ((s = honker_stmt(ctx, TXN_ROLLBACK_SQL)) != 0) {
      sqlite3_step(s);
      honker_stmt_done(s);
    }
  } else if (txn->open == TXN_SAVEPOINT) {
    if ((s = honker_stmt(ctx, SAVEPOINT_ROLLBACK_SQL)) != 0) {
      sqlite3_step(s);
      honker_stmt_done(s);
    }
    if ((s = honker_stmt(ctx, SAVEPOINT_RELEASE_SQL)) != 0) {
      sqlite3_step(s);
      honker_stmt_done(s);
    }
  }
}

int honker_write_begin(sqlite3_context *ctx, HonkerTxn *txn) {
  int rc = write_lock_take(ctx, txn);
  /* An old file (honker 0.4's, or an older schema of ours) is migrated here,
  ** inside this write and before the function's own statements (schema.c). */
  if (rc == SQLITE_OK) rc = honker_schema_ensure(ctx);
  if (rc != SQLITE_OK) {
    write_lock_undo(ctx, txn);
    txn->open = TXN_NONE;
  }
  return rc;
}

int honker_write_end(sqlite3_context *ctx, HonkerTxn *txn, int rc) {
  if (txn->open == TXN_NONE) return rc;
  if (rc == SQLITE_OK) {
    rc = write_lock_run(ctx, txn->open == TXN_OWN ? TXN_COMMIT_SQL : SAVEPOINT_RELEASE_SQL);
    if (rc == SQLITE_OK) {
      txn->open = TXN_NONE;
      return SQLITE_OK;
    }
  }
  write_lock_undo(ctx, txn);
  txn->open = TXN_NONE;
  return rc;
}
