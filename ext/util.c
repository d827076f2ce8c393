/*
** util.c — shared plumbing of honker_ext (see util.h for the contracts).
**
** Invariants kept here:
**   - every cached statement belongs to exactly one connection and is
**     finalized before that connection closes (see "anchor" below);
**   - a cached statement is always reset after use, so no honker function
**     leaves a read snapshot open between calls;
**   - every error message starts with the SQL function's name.
*/
#include "util.h"

#include <stdint.h>
#include <string.h>

/* --- connection state ------------------------------------------------------ */

#define HONKER_STMT_SLOTS 256 /* power of two, well above the statements we have */

typedef struct HonkerStmtSlot {
  const char *sql; /* the static SQL text: its address is the cache key */
  sqlite3_stmt *stmt;
} HonkerStmtSlot;

struct HonkerConn {
  sqlite3 *db;
  int refs;     /* one per registered function and module, plus the creator's */
  int anchored; /* the eponymous anchor table is connected */
  HonkerStmtSlot slots[HONKER_STMT_SLOTS];
};

/* Per-registration user data: lets errors name the SQL function. */
typedef struct HonkerFnData {
  HonkerConn *conn;
  const char *name;
} HonkerFnData;

static void conn_finalize_all(HonkerConn *conn) {
  for (int i = 0; i < HONKER_STMT_SLOTS; i++) {
    if (conn->slots[i].stmt) sqlite3_finalize(conn->slots[i].stmt);
    conn->slots[i].stmt = 0;
    conn->slots[i].sql = 0;
  }
}

void honker_conn_unref(HonkerConn *conn) {
  if (!conn) return;
  if (--conn->refs > 0) return;
  conn_finalize_all(conn);
  sqlite3_free(conn);
}

static void conn_unref_void(void *p) { honker_conn_unref((HonkerConn *)p); }

/*
** The anchor: an eponymous virtual table "_honker_connection" with no rows.
** Why: sqlite3_close() refuses to close a connection that still has prepared
** statements (better-sqlite3 calls sqlite3_close, not _v2), and SQLite has no
** close hook for functions. It does disconnect every virtual table before it
** checks for open statements, so the anchor's xDisconnect finalizes our cache.
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
  conn_finalize_all(v->conn);
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

HonkerConn *honker_conn_new(sqlite3 *db, char **pzErrMsg) {
  HonkerConn *conn = sqlite3_malloc(sizeof(*conn));
  if (!conn) {
    *pzErrMsg = sqlite3_mprintf("honker_ext: out of memory");
    return 0;
  }
  memset(conn, 0, sizeof(*conn));
  conn->db = db;
  conn->refs = 2; /* the creator's, and the anchor module's (released by SQLite) */
  int rc =
      sqlite3_create_module_v2(db, "_honker_connection", &anchor_module, conn, conn_unref_void);
  if (rc != SQLITE_OK) {
    /* SQLite already ran the destructor, dropping the module's reference. */
    *pzErrMsg =
        sqlite3_mprintf("honker_ext: cannot register _honker_connection: %s", sqlite3_errmsg(db));
    honker_conn_unref(conn);
    return 0;
  }
  return conn;
}

static void fn_data_free(void *p) {
  HonkerFnData *d = (HonkerFnData *)p;
  honker_conn_unref(d->conn);
  sqlite3_free(d);
}

int honker_register_functions(sqlite3 *db, HonkerConn *conn, const HonkerFunc *fns, int count,
                              char **pzErrMsg) {
  for (int i = 0; i < count; i++) {
    HonkerFnData *d = sqlite3_malloc(sizeof(*d));
    if (!d) {
      *pzErrMsg = sqlite3_mprintf("honker_ext: cannot register %s: out of memory", fns[i].name);
      return SQLITE_NOMEM;
    }
    d->conn = conn;
    d->name = fns[i].name;
    conn->refs++;
    int rc = sqlite3_create_function_v2(db, fns[i].name, fns[i].n_arg, SQLITE_UTF8, d, fns[i].fn, 0,
                                        0, fn_data_free);
    if (rc != SQLITE_OK) {
      /* sqlite3_create_function_v2 calls the destructor when it fails. */
      *pzErrMsg =
          sqlite3_mprintf("honker_ext: cannot register %s: %s", fns[i].name, sqlite3_errmsg(db));
      return rc;
    }
  }
  return SQLITE_OK;
}

const char *honker_fn_name(sqlite3_context *ctx) {
  HonkerFnData *d = (HonkerFnData *)sqlite3_user_data(ctx);
  return d ? d->name : "honker_ext";
}

sqlite3 *honker_db(sqlite3_context *ctx) { return sqlite3_context_db_handle(ctx); }

static HonkerConn *ctx_conn(sqlite3_context *ctx) {
  HonkerFnData *d = (HonkerFnData *)sqlite3_user_data(ctx);
  return d ? d->conn : 0;
}

/* --- errors ---------------------------------------------------------------- */

void honker_result_errorf(sqlite3_context *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *body = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  char *msg = body ? sqlite3_mprintf("%s: %s", honker_fn_name(ctx), body) : 0;
  sqlite3_free(body);
  if (!msg) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_error(ctx, msg, -1);
  sqlite3_free(msg);
}

int honker_result_sqlite_error(sqlite3_context *ctx, int rc) {
  if (rc == SQLITE_NOMEM) {
    sqlite3_result_error_nomem(ctx);
    return rc;
  }
  honker_result_errorf(ctx, "%s", sqlite3_errmsg(honker_db(ctx)));
  sqlite3_result_error_code(ctx, rc);
  return rc;
}

/* --- arguments ------------------------------------------------------------- */

/* Describe a value for "(got ...)": NULL, TEXT 'abc…', REAL 3.5, BLOB. */
static char *describe_value(sqlite3_value *v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_NULL:
      return sqlite3_mprintf("NULL");
    case SQLITE_INTEGER:
      return sqlite3_mprintf("INTEGER %lld", sqlite3_value_int64(v));
    case SQLITE_FLOAT:
      return sqlite3_mprintf("REAL %!.15g", sqlite3_value_double(v));
    case SQLITE_TEXT: {
      const char *z = (const char *)sqlite3_value_text(v);
      return sqlite3_mprintf("TEXT '%!.40s%s'", z ? z : "",
                             sqlite3_value_bytes(v) > 40 ? "..." : "");
    }
    default:
      return sqlite3_mprintf("BLOB of %d bytes", sqlite3_value_bytes(v));
  }
}

static int arg_type_error(sqlite3_context *ctx, sqlite3_value *v, const char *name,
                          const char *rule) {
  char *got = describe_value(v);
  if (!got) {
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  honker_result_errorf(ctx, "%s must be %s (got %s)", name, rule, got);
  sqlite3_free(got);
  return SQLITE_ERROR;
}

/* 2^63 as a double: the first value that no longer fits in sqlite3_int64. */
#define HONKER_TWO_POW_63 9223372036854775808.0

static int read_int(sqlite3_context *ctx, sqlite3_value *v, const char *name, const char *rule,
                    sqlite3_int64 *out) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      *out = sqlite3_value_int64(v);
      return SQLITE_OK;
    case SQLITE_FLOAT: {
      /* better-sqlite3 binds every JS number as REAL: 3.0 is an integer. */
      double d = sqlite3_value_double(v);
      if (d >= -HONKER_TWO_POW_63 && d < HONKER_TWO_POW_63 && (double)(sqlite3_int64)d == d) {
        *out = (sqlite3_int64)d;
        return SQLITE_OK;
      }
      return arg_type_error(ctx, v, name, rule);
    }
    default:
      return arg_type_error(ctx, v, name, rule);
  }
}

int honker_arg_int(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                   sqlite3_int64 *out) {
  return read_int(ctx, argv[i], name, "an integer", out);
}

int honker_arg_int_or_null(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                           sqlite3_int64 *out, int *is_null) {
  *is_null = sqlite3_value_type(argv[i]) == SQLITE_NULL;
  *out = 0;
  if (*is_null) return SQLITE_OK;
  return read_int(ctx, argv[i], name, "an integer or NULL", out);
}

static int read_text(sqlite3_context *ctx, sqlite3_value *v, const char *name, const char *rule,
                     const char **out, int *n_bytes) {
  if (sqlite3_value_type(v) != SQLITE_TEXT) return arg_type_error(ctx, v, name, rule);
  const char *z = (const char *)sqlite3_value_text(v);
  if (!z) {
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  *out = z;
  if (n_bytes) *n_bytes = sqlite3_value_bytes(v);
  return SQLITE_OK;
}

int honker_arg_text(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                    const char **out, int *n_bytes) {
  return read_text(ctx, argv[i], name, "TEXT", out, n_bytes);
}

int honker_arg_text_or_null(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                            const char **out, int *n_bytes) {
  *out = 0;
  if (n_bytes) *n_bytes = 0;
  if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return SQLITE_OK;
  return read_text(ctx, argv[i], name, "TEXT or NULL", out, n_bytes);
}

int honker_arg_name(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                    const char **out, int *n_bytes) {
  static const char rule[] = "non-empty TEXT";
  int n = 0;
  int rc = read_text(ctx, argv[i], name, rule, out, &n);
  if (rc != SQLITE_OK) return rc;
  if (n == 0) return arg_type_error(ctx, argv[i], name, rule);
  if (n_bytes) *n_bytes = n;
  return SQLITE_OK;
}

int honker_check_min(sqlite3_context *ctx, const char *name, sqlite3_int64 v, sqlite3_int64 min) {
  if (v >= min) return SQLITE_OK;
  honker_result_errorf(ctx, "%s must be >= %lld (got %lld)", name, min, v);
  return SQLITE_ERROR;
}

int honker_check_max(sqlite3_context *ctx, const char *name, sqlite3_int64 v, sqlite3_int64 max) {
  if (v <= max) return SQLITE_OK;
  honker_result_errorf(ctx, "%s must be <= %lld (got %lld)", name, max, v);
  return SQLITE_ERROR;
}

int honker_add_seconds(sqlite3_context *ctx, const char *name, sqlite3_int64 a, sqlite3_int64 b,
                       sqlite3_int64 *out) {
  if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) {
    honker_result_errorf(ctx, "%s is too large (got %lld)", name, b);
    return SQLITE_ERROR;
  }
  *out = a + b;
  return SQLITE_OK;
}

/* --- statements ------------------------------------------------------------ */

static const char ANCHOR_SQL[] = "SELECT connection_state FROM _honker_connection";

/* Connect the anchor table so the cache is emptied before the connection closes. */
static int conn_anchor(sqlite3_context *ctx, HonkerConn *conn) {
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

sqlite3_stmt *honker_stmt(sqlite3_context *ctx, const char *sql) {
  HonkerConn *conn = ctx_conn(ctx);
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
      if (!conn->anchored && conn_anchor(ctx, conn) != SQLITE_OK) return 0;
      sqlite3_stmt *s = 0;
      int rc = sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, 0);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(s);
        honker_result_sqlite_error(ctx, rc);
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

/* --- atomicity -------------------------------------------------------------- */

static const char TXN_BEGIN_SQL[] = "BEGIN IMMEDIATE";
static const char TXN_COMMIT_SQL[] = "COMMIT";
static const char TXN_ROLLBACK_SQL[] = "ROLLBACK";
static const char SAVEPOINT_SQL[] = "SAVEPOINT honker_fn";
static const char SAVEPOINT_RELEASE_SQL[] = "RELEASE honker_fn";
static const char SAVEPOINT_ROLLBACK_SQL[] = "ROLLBACK TO honker_fn";

enum { TXN_NONE = 0, TXN_OWN = 1, TXN_SAVEPOINT = 2 };

/* True when a statement that writes is running on db (the caller's own
** INSERT/UPDATE that invoked us): SQLite then refuses BEGIN and SAVEPOINT. */
static int outer_write_in_progress(sqlite3 *db) {
  for (sqlite3_stmt *s = sqlite3_next_stmt(db, 0); s; s = sqlite3_next_stmt(db, s)) {
    if (sqlite3_stmt_busy(s) && !sqlite3_stmt_readonly(s)) return 1;
  }
  return 0;
}

static int run_sql(sqlite3_context *ctx, const char *sql) {
  sqlite3_stmt *s = honker_stmt(ctx, sql);
  if (!s) return SQLITE_ERROR;
  return honker_exec_stmt(ctx, s);
}

int honker_write_begin(sqlite3_context *ctx, HonkerTxn *txn) {
  sqlite3 *db = honker_db(ctx);
  txn->open = TXN_NONE;
  if (outer_write_in_progress(db)) return SQLITE_OK;
  if (sqlite3_get_autocommit(db)) {
    /* Autocommit (e.g. the sqlite3 CLI): our own transaction, write lock first. */
    int rc = run_sql(ctx, TXN_BEGIN_SQL);
    if (rc == SQLITE_OK) txn->open = TXN_OWN;
    return rc;
  }
  /* Inside the caller's transaction: join it, undoable on our own. */
  int rc = run_sql(ctx, SAVEPOINT_SQL);
  if (rc == SQLITE_OK) txn->open = TXN_SAVEPOINT;
  return rc;
}

/* Undo without touching the error already reported on ctx. */
static void txn_undo(sqlite3_context *ctx, HonkerTxn *txn) {
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

int honker_write_end(sqlite3_context *ctx, HonkerTxn *txn, int rc) {
  if (txn->open == TXN_NONE) return rc;
  if (rc == SQLITE_OK) {
    rc = run_sql(ctx, txn->open == TXN_OWN ? TXN_COMMIT_SQL : SAVEPOINT_RELEASE_SQL);
    if (rc == SQLITE_OK) {
      txn->open = TXN_NONE;
      return SQLITE_OK;
    }
  }
  txn_undo(ctx, txn);
  txn->open = TXN_NONE;
  return rc;
}

/* --- JSON output ------------------------------------------------------------ */

void honker_json_string(sqlite3_str *out, const char *z, int n) {
  static const char hex[] = "0123456789abcdef";
  if (!z) z = "";
  if (n < 0) n = (int)strlen(z);
  sqlite3_str_appendchar(out, 1, '"');
  int start = 0;
  for (int i = 0; i < n; i++) {
    unsigned char c = (unsigned char)z[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    if (i > start) sqlite3_str_append(out, z + start, i - start);
    start = i + 1;
    switch (c) {
      case '"':
        sqlite3_str_append(out, "\\\"", 2);
        break;
      case '\\':
        sqlite3_str_append(out, "\\\\", 2);
        break;
      case '\n':
        sqlite3_str_append(out, "\\n", 2);
        break;
      case '\r':
        sqlite3_str_append(out, "\\r", 2);
        break;
      case '\t':
        sqlite3_str_append(out, "\\t", 2);
        break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        sqlite3_str_append(out, esc, 6);
      }
    }
  }
  if (n > start) sqlite3_str_append(out, z + start, n - start);
  sqlite3_str_appendchar(out, 1, '"');
}

/* A REAL as JSON: null for NaN and the infinities (JSON has neither). */
static void json_double(sqlite3_str *out, double d) {
  if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308) {
    sqlite3_str_append(out, "null", 4);
  } else {
    sqlite3_str_appendf(out, "%!.17g", d);
  }
}

void honker_json_column(sqlite3_str *out, sqlite3_stmt *stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      sqlite3_str_appendf(out, "%lld", sqlite3_column_int64(stmt, i));
      break;
    case SQLITE_FLOAT:
      json_double(out, sqlite3_column_double(stmt, i));
      break;
    case SQLITE_TEXT:
      honker_json_string(out, (const char *)sqlite3_column_text(stmt, i),
                         sqlite3_column_bytes(stmt, i));
      break;
    default:
      sqlite3_str_append(out, "null", 4);
  }
}

void honker_json_value(sqlite3_str *out, sqlite3_value *v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      sqlite3_str_appendf(out, "%lld", sqlite3_value_int64(v));
      break;
    case SQLITE_FLOAT:
      json_double(out, sqlite3_value_double(v));
      break;
    case SQLITE_TEXT:
      honker_json_string(out, (const char *)sqlite3_value_text(v), sqlite3_value_bytes(v));
      break;
    default:
      sqlite3_str_append(out, "null", 4);
  }
}

void honker_json_row(sqlite3_str *out, sqlite3_stmt *stmt, const char *const *keys, int n_keys) {
  sqlite3_str_appendchar(out, 1, '{');
  for (int i = 0; i < n_keys; i++) {
    if (i) sqlite3_str_appendchar(out, 1, ',');
    honker_json_string(out, keys[i], -1);
    sqlite3_str_appendchar(out, 1, ':');
    honker_json_column(out, stmt, i);
  }
  sqlite3_str_appendchar(out, 1, '}');
}

int honker_result_json_rows(sqlite3_context *ctx, sqlite3_stmt *stmt, const char *const *keys,
                            int n_keys) {
  sqlite3_str *out = sqlite3_str_new(honker_db(ctx));
  sqlite3_str_appendchar(out, 1, '[');
  int rc, rows = 0;
  while ((rc = honker_step(ctx, stmt)) == SQLITE_ROW) {
    if (rows++) sqlite3_str_appendchar(out, 1, ',');
    honker_json_row(out, stmt, keys, n_keys);
  }
  if (rc != SQLITE_DONE) { /* error already set, statement reset */
    sqlite3_free(sqlite3_str_finish(out));
    return rc;
  }
  honker_stmt_done(stmt);
  sqlite3_str_appendchar(out, 1, ']');
  honker_result_str(ctx, out);
  return SQLITE_OK;
}

void honker_result_str(sqlite3_context *ctx, sqlite3_str *out) {
  int err = sqlite3_str_errcode(out);
  int n = sqlite3_str_length(out);
  char *z = sqlite3_str_finish(out);
  if (err != SQLITE_OK) {
    sqlite3_free(z);
    if (err == SQLITE_NOMEM) {
      sqlite3_result_error_nomem(ctx);
    } else {
      sqlite3_result_error_toobig(ctx);
    }
    return;
  }
  if (!z) {
    sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
    return;
  }
  sqlite3_result_text(ctx, z, n, sqlite3_free);
}
