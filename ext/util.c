/*
** util.c — what every concern shares (contracts in util.h): the
** per-connection state and its reference count, registration of a
** concern's table of functions, the one error format and the argument
** readers. The statement cache lives in stmt_cache.c, the write lock in
** write_lock.c, JSON output in json.c.
**
** Invariants kept here:
**   - HonkerConn lives while any function registered with it, or the
**     anchor module, can still run: each holds one reference;
**   - every error message starts with the SQL function's name;
**   - an argument reader never coerces: a value of the wrong type or an
**     inexact REAL is an error that names the argument and shows the value.
*/
#include "conn.h"
#include "lifeline.h"
#include "queue.h"

#include <stdint.h>
#include <string.h>

/* --- connection state ------------------------------------------------------ */

/* Per-registration user data: lets errors name the SQL function. */
typedef struct HonkerFnData {
  HonkerConn *conn;
  const char *name;
} HonkerFnData;

void honker_conn_unref(HonkerConn *conn) {
  if (!conn) return;
  if (--conn->refs > 0) return;
  honker_stmt_cache_clear(conn);
  sqlite3_free(conn);
}

HonkerConn *honker_conn_new(sqlite3 *db, char **pzErrMsg) {
  HonkerConn *conn = sqlite3_malloc(sizeof(*conn));
  if (!conn) {
    *pzErrMsg = sqlite3_mprintf("honker_ext: out of memory");
    return 0;
  }
  memset(conn, 0, sizeof(*conn));
  conn->db = db;
  conn->refs = 2; /* the creator's, and the anchor module's (released by SQLite) */
  int rc = honker_stmt_cache_anchor(db, conn);
  if (rc != SQLITE_OK) {
    /* SQLite already ran the destructor, dropping the module's reference. */
    *pzErrMsg =
        sqlite3_mprintf("honker_ext: cannot register _honker_connection: %s", sqlite3_errmsg(db));
    honker_conn_unref(conn);
    return 0;
  }
  return conn;
}

/* The destructor of a function's user data: drops its reference on conn. */
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
    int rc = sqlite3_create_function_v2(db, fns[i].name, fns[i].n_arg, SQLITE_UTF8 | fns[i].flags,
                                        d, fns[i].fn, 0, 0, fn_data_free);
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

HonkerConn *honker_ctx_conn(sqlite3_context *ctx) {
  HonkerFnData *d = (HonkerFnData *)sqlite3_user_data(ctx);
  return d ? d->conn : 0;
}

sqlite3_int64 *honker_conn_lifeline_checked(sqlite3_context *ctx) {
  HonkerConn *conn = honker_ctx_conn(ctx);
  return conn ? &conn->lifeline_checked : 0;
}

HonkerSchemaSeen *honker_conn_schema(sqlite3_context *ctx) {
  HonkerConn *conn = honker_ctx_conn(ctx);
  return conn ? &conn->schema : 0;
}

sqlite3_int64 *honker_conn_errors_swept_to(sqlite3_context *ctx) {
  HonkerConn *conn = honker_ctx_conn(ctx);
  return conn ? &conn->errors_swept_to : 0;
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

/* "<name> must <must><rule> (got <v described>)". */
static int arg_error(sqlite3_context *ctx, sqlite3_value *v, const char *name, const char *must,
                     const char *rule) {
  char *got = describe_value(v);
  if (!got) {
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  honker_result_errorf(ctx, "%s must %s%s (got %s)", name, must, rule, got);
  sqlite3_free(got);
  return SQLITE_ERROR;
}

static int arg_type_error(sqlite3_context *ctx, sqlite3_value *v, const char *name,
                          const char *rule) {
  return arg_error(ctx, v, name, "be ", rule);
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

int honker_arg_name_or_null(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                            const char **out, int *n_bytes) {
  static const char rule[] = "non-empty TEXT or NULL";
  int n = 0;
  *out = 0;
  if (n_bytes) *n_bytes = 0;
  if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return SQLITE_OK;
  int rc = read_text(ctx, argv[i], name, rule, out, &n);
  if (rc != SQLITE_OK) return rc;
  if (n == 0) return arg_type_error(ctx, argv[i], name, rule);
  if (n_bytes) *n_bytes = n;
  return SQLITE_OK;
}

/* The length of the whitespace character that starts the n > 0 bytes of UTF-8
** at z, or 0 when it is not one. Whitespace is what JavaScript's \s and
** String.prototype.trim see (ECMA-262 WhiteSpace and LineTerminator), so the
** TypeScript client and SQL agree on a blank name: \t \n \v \f \r, space,
** U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF. */
static int blank_char_len(const unsigned char *z, int n) {
  if (z[0] == ' ' || (z[0] >= 0x09 && z[0] <= 0x0d)) return 1;
  if (n >= 2 && z[0] == 0xc2 && z[1] == 0xa0) return 2; /* U+00A0 */
  /* every other one is a three-byte sequence 1110xxxx 10xxxxxx 10xxxxxx */
  if (n < 3 || (z[0] & 0xf0) != 0xe0 || (z[1] & 0xc0) != 0x80 || (z[2] & 0xc0) != 0x80) return 0;
  unsigned cp = ((z[0] & 0x0fu) << 12) | ((z[1] & 0x3fu) << 6) | (z[2] & 0x3fu);
  int blank = cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
              cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
  return blank ? 3 : 0;
}

/* 1 when the n bytes at z are only whitespace (blank_char_len), or empty. */
static int text_is_blank(const unsigned char *z, int n) {
  for (int i = 0, len; i < n; i += len) {
    if (!(len = blank_char_len(z + i, n - i))) return 0;
  }
  return 1;
}

int honker_arg_new_name(sqlite3_context *ctx, sqlite3_value **argv, int i, const char *name,
                        const char **out, int *n_bytes) {
  int n = 0;
  int rc = honker_arg_name(ctx, argv, i, name, out, &n);
  if (rc != SQLITE_OK) return rc;
  if (text_is_blank((const unsigned char *)*out, n)) {
    return arg_error(ctx, argv[i], name, "not be blank", "");
  }
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
  /* a <= HONKER_MAX_UNIX (a time), so HONKER_MAX_UNIX - a cannot overflow for a >= 0. */
  if (b > 0 && (a > HONKER_MAX_UNIX || b > HONKER_MAX_UNIX - a)) {
    honker_result_errorf(ctx, "%s must end by " HONKER_MAX_UNIX_TEXT " (got %lld)", name, b);
    return SQLITE_ERROR;
  }
  if (b < 0 && a < INT64_MIN - b) {
    honker_result_errorf(ctx, "%s is too large (got %lld)", name, b);
    return SQLITE_ERROR;
  }
  *out = a + b;
  return SQLITE_OK;
}

int honker_check_time(sqlite3_context *ctx, const char *name, sqlite3_int64 v) {
  if (v <= HONKER_MAX_UNIX) return SQLITE_OK;
  honker_result_errorf(
      ctx, "%s must be unix seconds up to %lld, i.e. " HONKER_MAX_UNIX_TEXT " (got %lld%s)", name,
      (sqlite3_int64)HONKER_MAX_UNIX, v,
      v / 1000 <= HONKER_MAX_UNIX ? ", which looks like milliseconds: divide by 1000" : "");
  return SQLITE_ERROR;
}
