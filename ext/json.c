/*
** json.c — JSON text built from SQLite values, for the functions that return
** JSON (claim batches, jobs, lists, stats; contracts in util.h "JSON output").
**
** Invariants kept here:
**   - every string is escaped as RFC 8259 requires: '"', '\\' and every byte
**     below 0x20 (as \n, \r, \t or \u00XX); other bytes pass through, so
**     stored text comes back byte for byte;
**   - INTEGER is a JSON number, REAL a number with 17 significant digits
**     (null for NaN and the infinities, which JSON has no spelling for),
**     TEXT a string, NULL and BLOB null;
**   - a result that ran out of memory or grew too big is an SQL error, never
**     a truncated document.
*/
#include "util.h"

#include <string.h>

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
