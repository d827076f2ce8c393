/*
** cron_internal.h — private to cron.c and cron_next.c, the two halves of the
** pure-C cron code; callers use cron.h only.
*/
#ifndef HONKER_CRON_INTERNAL_H
#define HONKER_CRON_INTERNAL_H

#include "cron.h"

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define CRON_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CRON_PRINTF(f, a)
#endif

/* cron.c: write a formatted message into err (when there is room); returns CRON_ERROR. */
int cron_error(char *err, size_t err_len, const char *fmt, ...) CRON_PRINTF(3, 4);

/* cron_next.c: true when some day can match: some selected month has some
** selected day-of-month, or (Vixie rule) the day-of-week field alone selects
** days. cron_parse rejects a spec without one: it would never fire. */
int cron_days_possible(const CronSpec *spec);

#endif /* HONKER_CRON_INTERNAL_H */
