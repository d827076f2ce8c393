/*
** stmt_cache.c — the per-connection prepared-statement cache, the anchor
** table that empties it before the connection closes, and the step helpers
** every concern runs its statements with (contracts in util.h "statements").
**
** Invariants kept here:
**   - every cached statement belongs to exactly one connection and is
**     finalized before that connection closes (see "anchor" below);
**   - a cached statement is always reset after use, so no honker function
**     leaves a read snapshot open between calls;
**   - a statement that fails reports "<fn>: <sqlite3_errmsg>" with its code.
*/
#include "conn.h"
#include "lifeline.h"

#include <stdint.h>
#include <string.h>

void honker_stmt_cache_clear(HonkerConn *conn) {
  for (int i = 0; i < HONKER_STMT_SLOTS; i++) {
    if (conn->slots[i].stmt) sqlite3_finalize(conn->slots[i].stmt);
    conn->slots[i].stmt = 0;
    conn->slots[i].sql = 0;
  }
}

/* --- the anchor ------------------------------------------------------------- */

/*
** The anchor: an eponymous virtual table "_honker_connection" with no rows.
** Why: sqlite3_close() refuses to close a connection that still has prepared
** statements (better-sqlite3 calls sqlite3_close, not _v2), and SQLite has no
** close hook for functions. It does disconnect every virtual table before it
** checks for open statements, so the anchor's xDisconnect finalizes our cache
** (and releases the worker slots the connection registered: lifeline.c).
** honker_stmt() connects the anchor before it caches the first statement.
*/
typedef struct AnchorVtab {
  sqlite3_vtab base;
  HonkerConn *conn;
} AnchorVtab;

typedef struct AnchorCursor {
  sqlite3_vtab_cursor base;
} AnchorCursor;

static int anchor_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                          sqlite3_vtab **pp, char **err) {
  (void)argc;
  (void)argv;
  (void)err;
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(connection_state INTEGER)");
  if (rc != SQLITE_OK) return rc;
  AnchorVtab *v = sqlite3_malloc(sizeof(*v));
  if (!v) return SQLITE_NOMEM;
  memset(v, 0, sizeof(*v));
  v->conn = (HonkerConn *)aux;
  v->conn->anchored = 1;
  *pp = &v->base;
  return SQLITE_OK;
}

static int anchor_disconnect(sqlite3_vtab *vt) {
  AnchorVtab *v = (AnchorVtab *)vt;
  honker_stmt_cache_clear(v->conn);
  lifeline_slot_drop(v->conn->db, NULL, 0); /* a closing connection frees its worker slots */
  v->conn->anchored = 0;
  sqlite3_free(v);
  return SQLITE_OK;
}

static int anchor_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
  (void)vt;
  info->estimatedCost = 1;
  info->estimatedRows = 0;
  return SQLITE_OK;
}

static int anchor_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **pp) {
  (void)vt;
  AnchorCursor *c = sqlite3_malloc(sizeof(*c));
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof(*c));
  *pp = &c->base;
  return SQLITE_OK;
}

static int anchor_close(sqlite3_vtab_cursor *c) {
  sqlite3_free(c);
  return SQLITE_OK;
}

static int anchor_filter(sqlite3_vtab_cursor *c, int idx, const char *idx_str, int argc,
                         sqlite3_value **argv) {
  (void)c;
  (void)idx;
  (void)idx_str;
  (void)argc;
  (void)argv;
  return SQLITE_OK;
}

static int anchor_next(sqlite3_vtab_cursor *c) {
  (void)c;
  return SQLITE_OK;
}

static int anchor_eof(sqlite3_vtab_cursor *c) {
  (void)c;
  return 1; /* no rows, ever */
}

static int anchor_column(sqlite3_vtab_cursor *c, sqlite3_context *ctx, int i) {
  (void)c;
  (void)i;
  sqlite3_result_null(ctx);
  return SQLITE_OK;
}

static int anchor_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *rowid) {
  (void)c;
  *rowid = 0;
  return SQLITE_OK;
}

/* Designated initializers: every member not named is 0 (no xCreate makes the
** table eponymous-only; no xUpdate makes it read-only). */
static const sqlite3_module anchor_module = {
    .xConnect = anchor_connect,
    .xBestIndex = anchor_best_index,
    .xDisconnect = anchor_disconnect,
    .xOpen = anchor_open,
    .xClose = anchor_close,
    .xFilter = anchor_filter,
    .xNext = anchor_next,
    .xEof = anchor_eof,
    .xColumn = anchor_column,
    .xRowid = anchor_rowid,
};

/* The module's destructor: SQLite drops the module's reference with it. */
static void anchor_conn_unref(void *p) { honker_conn_unref((HonkerConn *)p); }

int honker_stmt_cache_anchor(sqlite3 *db, HonkerConn *conn) {
  return sqlite3_create_module_v2(db, "_honker_connection", &anchor_module, conn,
                                  anchor_conn_unref);
}

static const char ANCHOR_SQL[] = "SELECT connection_state FROM _honker_connection";

/* Connect the anchor table so the cache is emptied before the connection closes. */
static int stmt_cache_connect_anchor(sqlite3_context *ctx, HonkerConn *conn) {
  sqlite3_stmt *s = 0;
  int rc = sqlite3_prepare_v2(conn->db, ANCHOR_SQL, -1, &s, 0);
  sqlite3_finalize(s);
  if (rc != SQLITE_OK) return honker_result_sqlite_error(ctx, rc);
  if (!conn->anchored) {
    honker_result_errorf(ctx, "cannot anchor the statement cache");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* --- statements ------------------------------------------------------------ */

/* honker_stmt; when quiet, a statement that fails to prepare is NULL with no error set. */
static sqlite3_stmt *stmt_cache_get(sqlite3_context *ctx, const char *sql, int quiet) {
  HonkerConn *conn = honker_ctx_conn(ctx);
  if (!conn) {
    honker_result_errorf(ctx, "called without honker_ext connection state");
    return 0;
  }
  unsigned h = (unsigned)(((uintptr_t)sql >> 3) & (HONKER_STMT_SLOTS - 1));
  for (int probe = 0; probe < HONKER_STMT_SLOTS; probe++) {
    HonkerStmtSlot *slot = &conn->slots[(h + probe) & (HONKER_STMT_SLOTS - 1)];
    if (slot->sql == sql && slot->stmt) {
      sqlite3_reset(slot->stmt);
      sqlite3_clear_bindings(slot->stmt);
      return slot->stmt;
    }
    if (slot->stmt == 0) {
      if (!conn->anchored && stmt_cache_connect_anchor(ctx, conn) != SQLITE_OK) return 0;
      sqlite3_stmt *s = 0;
      int rc = sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, 0);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(s);
        if (!quiet || rc == SQLITE_NOMEM) honker_result_sqlite_error(ctx, rc);
        return 0;
      }
      slot->sql = sql;
      slot->stmt = s;
      return s;
    }
  }
  honker_result_errorf(ctx, "statement cache is full");
  return 0;
}

sqlite3_stmt *honker_stmt(sqlite3_context *ctx, const char *sql) {
  return stmt_cache_get(ctx, sql, 0);
}

sqlite3_stmt *honker_stmt_quiet(sqlite3_context *ctx, const char *sql) {
  return stmt_cache_get(ctx, sql, 1);
}

void honker_stmt_done(sqlite3_stmt *stmt) {
  if (!stmt) return;
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
}

int honker_step(sqlite3_context *ctx, sqlite3_stmt *stmt) {
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return rc;
  /* The error message belongs to the statement until it is reset. */
  honker_result_sqlite_error(ctx, rc);
  honker_stmt_done(stmt);
  return rc;
}

int honker_exec_stmt(sqlite3_context *ctx, sqlite3_stmt *stmt) {
  int rc;
  while ((rc = honker_step(ctx, stmt)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return rc;
  honker_stmt_done(stmt);
  return SQLITE_OK;
}

int honker_query_int(sqlite3_context *ctx, sqlite3_stmt *stmt, sqlite3_int64 dflt,
                     sqlite3_int64 *out) {
  int rc = honker_step(ctx, stmt);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_type(stmt, 0) == SQLITE_NULL ? dflt : sqlite3_column_int64(stmt, 0);
    /* A write (INSERT ... RETURNING) in autocommit mode commits when it halts: run it to its
    ** end here, where sqlite3_step reports a failed commit (SQLITE_FULL, SQLITE_IOERR);
    ** sqlite3_reset would swallow it and the caller would get an id that was never stored. */
    if (!sqlite3_stmt_readonly(stmt)) {
      while ((rc = honker_step(ctx, stmt)) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE) return rc;
    }
  } else if (rc == SQLITE_DONE) {
    *out = dflt;
  } else {
    return rc;
  }
  honker_stmt_done(stmt);
  return SQLITE_OK;
}

static const char NOW_SQL[] = "SELECT unixepoch()";

int honker_now(sqlite3_context *ctx, sqlite3_int64 *now) {
  sqlite3_stmt *s = honker_stmt(ctx, NOW_SQL);
  if (!s) return SQLITE_ERROR;
  return honker_query_int(ctx, s, 0, now);
}
