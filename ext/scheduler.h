/*
** scheduler.h — what scheduler.c and cron_sql.c (the SQL face of cron.c)
** share. Internal: nothing here is exported from the library.
*/
#ifndef HONKER_SCHEDULER_H
#define HONKER_SCHEDULER_H

#include "util.h"

#include "cron.h"

/* Parse expr (n bytes) or report "<fn>: expr is invalid: <why>". */
int cron_sql_parse(sqlite3_context *ctx, const char *expr, int n, CronSpec *spec);

/* *next = the boundary of spec after from, or report "<fn>: <why>". */
int cron_sql_next(sqlite3_context *ctx, const CronSpec *spec, sqlite3_int64 from,
                  sqlite3_int64 *next);

/* Parse expr (n bytes) into *spec and render its canonical text (cron.h
** cron_canonical_n) into *text (*n_text bytes; sqlite3_free it), or report
** "<fn>: expr is invalid: <why>". What register and update store. */
int cron_sql_canonical(sqlite3_context *ctx, const char *expr, int n, CronSpec *spec, char **text,
                       int *n_text);

/* SQL functions defined in cron_sql.c, registered from scheduler.c's table. */
void honker_cron_next_after_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void honker_cron_error_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#endif /* HONKER_SCHEDULER_H */
