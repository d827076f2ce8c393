/*
** cron_sql.c — the SQL face of cron.c and cron_next.c: the two functions
** that evaluate a schedule expression, and the helpers scheduler.c parses,
** renders and steps its tasks' expressions with (scheduler.h). Registered
** from scheduler.c's table.
**
**   honker_cron_next_after(expr TEXT, from_unix INTEGER) -> INTEGER
**     The first boundary of expr strictly after from_unix (Unix seconds,
**     0 .. 253402300799), in the process's local time zone (grammar in
**     cron.h). Errors: expr is invalid: <parser message>; from_unix range.
**     Registered SQLITE_INNOCUOUS (no side effect) but not deterministic:
**     the answer depends on the process's time zone (util.h "flags").
**     Example: SELECT honker_cron_next_after('0 3 * * *', unixepoch());
**
**   honker_cron_error(expr TEXT) -> TEXT or NULL
**     NULL when expr is a schedule that fires, else why not, in the parser's
**     words (the text after "expr is invalid: " above), so a host can check
**     a schedule and word its own error. Registered like cron_next_after.
**     Example: SELECT honker_cron_error('61 * * * *');
**       -> 'minute field: 61 is out of range 0-59'
**
** What a task stores is the canonical text of its expression (cron.h
** cron_canonical_n): the same schedule in a form honker 0.4's ticker parses,
** so a mixed fleet never meets a task that 0.4 cannot tick.
*/
#include "scheduler.h"

#include <string.h>

int cron_sql_parse(sqlite3_context *ctx, const char *expr, int n, CronSpec *spec) {
  char err[160];
  if (cron_parse_n(expr, (size_t)n, spec, err, sizeof err) == CRON_OK) return SQLITE_OK;
  honker_result_errorf(ctx, "expr is invalid: %s", err);
  return SQLITE_ERROR;
}

int cron_sql_next(sqlite3_context *ctx, const CronSpec *spec, sqlite3_int64 from,
                  sqlite3_int64 *next) {
  char err[160];
  int64_t n;
  if (cron_next_after(spec, from, &n, err, sizeof err) != CRON_OK) {
    honker_result_errorf(ctx, "%s", err);
    return SQLITE_ERROR;
  }
  *next = n;
  return SQLITE_OK;
}

int cron_sql_canonical(sqlite3_context *ctx, const char *expr, int n, CronSpec *spec, char **text,
                       int *n_text) {
  char err[160];
  if (cron_sql_parse(ctx, expr, n, spec)) return SQLITE_ERROR;
  size_t cap = CRON_CANONICAL_MAX(n);
  if (!(*text = sqlite3_malloc64(cap))) {
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  if (cron_canonical_n(expr, (size_t)n, *text, cap, err, sizeof err) != CRON_OK) {
    sqlite3_free(*text);
    *text = 0;
    honker_result_errorf(ctx, "expr is invalid: %s", err); /* cannot happen: it parsed */
    return SQLITE_ERROR;
  }
  *n_text = (int)strlen(*text);
  return SQLITE_OK;
}

void honker_cron_next_after_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *expr;
  int n;
  sqlite3_int64 from, next;
  CronSpec spec;
  if (honker_arg_text(ctx, argv, 0, "expr", &expr, &n)) return;
  if (honker_arg_int(ctx, argv, 1, "from_unix", &from)) return;
  if (honker_check_min(ctx, "from_unix", from, CRON_MIN_UNIX)) return;
  if (honker_check_max(ctx, "from_unix", from, CRON_MAX_UNIX)) return;
  if (cron_sql_parse(ctx, expr, n, &spec)) return;
  if (cron_sql_next(ctx, &spec, from, &next)) return;
  sqlite3_result_int64(ctx, next);
}

void honker_cron_error_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *expr;
  int n;
  CronSpec spec;
  char err[160];
  if (honker_arg_text(ctx, argv, 0, "expr", &expr, &n)) return;
  if (cron_parse_n(expr, (size_t)n, &spec, err, sizeof err) == CRON_OK) {
    sqlite3_result_null(ctx);
  } else {
    sqlite3_result_text(ctx, err, -1, SQLITE_TRANSIENT);
  }
}
