/*
** cron.h — schedule expressions: parse once, then ask for the next boundary.
**
** Pure C11 + POSIX time functions: no sqlite3_* calls, so cron.c (parse) and
** cron_next.c (next boundary) are unit tested on their own
** (test/c/cron.test.c) and fuzzed (fuzz/cron.c).
**
** Grammar (spec/sql.md "Scheduler"; case-insensitive; blanks separate fields):
**   5 fields   min hour dom month dow          (fires at second 0)
**   6 fields   sec min hour dom month dow
**   field      item[,item...]   item = * | n | a-b, optionally followed by /step;
**              n/step means n-max/step (so 5/15 is 5,20,35,50)
**   month      1-12 or JAN..DEC      dow  0-7 or SUN..SAT (0 and 7 are Sunday)
**   days       Vixie rule: when day-of-month and day-of-week are both
**              restricted, a day matching EITHER fires; a field counts as
**              unrestricted only when it is exactly "*" (a stepped "*" restricts).
**              Not supported: ?, L, W, #, @reboot, ranges that wrap (FRI-MON).
**   macros     @yearly @annually (0 0 1 1 *)  @monthly (0 0 1 * *)
**              @weekly (0 0 * * 0)  @daily @midnight (0 0 * * *)  @hourly (0 * * * *)
**   @every <n><s|m|h|d>   n >= 1, period at most 36600 days. Boundaries are
**              the multiples of the period since the Unix epoch (UTC), so
**              every process computes the same boundaries whatever its start
**              time or time zone: @every 1d fires at 00:00 UTC.
**
** Times are evaluated in the process's local time zone (TZ). See cron_next.c
** for the day-of-month/day-of-week rule and for daylight-saving transitions.
*/
#ifndef HONKER_CRON_H
#define HONKER_CRON_H

#include <stddef.h>
#include <stdint.h>

/* Accepted range for from_unix: 1970-01-01 .. 9999-12-31T23:59:59Z. */
#define CRON_MIN_UNIX INT64_C(0)
#define CRON_MAX_UNIX INT64_C(253402300799)

/* Longest @every period, in seconds (36600 days, about 100 years). */
#define CRON_MAX_EVERY_S (INT64_C(36600) * 86400)

enum { CRON_OK = 0, CRON_ERROR = 1 };

typedef struct CronSpec {
  int64_t every_s;  /* > 0 for @every: fields below unused */
  uint64_t seconds; /* bit v set: second v matches (0-59) */
  uint64_t minutes; /* 0-59 */
  uint32_t hours;   /* 0-23 */
  uint32_t doms;    /* 1-31 */
  uint32_t months;  /* 1-12 */
  uint32_t dows;    /* 0-6, Sunday = 0 */
  int dom_star;     /* the day-of-month field was exactly "*" */
  int dow_star;     /* the day-of-week field was exactly "*" */
} CronSpec;

/* Parse expr (len bytes; may contain NULs, which are rejected). On error
** write a message such as "minute field: 61 is out of range 0-59" into err
** (always NUL-terminated when err_len > 0) and return CRON_ERROR. */
int cron_parse_n(const char *expr, size_t len, CronSpec *out, char *err, size_t err_len);

/* cron_parse_n for a NUL-terminated expr. */
int cron_parse(const char *expr, CronSpec *out, char *err, size_t err_len);

/* The canonical text of expr (len bytes), NUL-terminated in text: the same
** schedule, written so that honker 0.4's parser accepts it and, wherever its
** meaning allows, reads it the same way (mixed fleets: 0.4 tickers tick what
** we store). Fields are rendered item by item from what was parsed, so a
** text 0.4 already reads alike comes back as written (blanks aside):
**   - month and day names become numbers (JAN -> 1, MON -> 1), Sunday's 7
**     becomes 0 (5-7 -> 5-6,0): 0.4 knows neither;
**   - n/step becomes n-max/step (5/15 -> 5-59/15): 0.4 reads n/step as n;
**   - a macro becomes its five fields (@daily -> 0 0 * * *);
**   - @every is lowercased (@EVERY 5M -> @every 5m), one blank between fields;
**   - a step above 4294967295 (0.4's limit) becomes 60: it selects the
**     first value alone in every field either way.
** 0.4 still reads three things differently (docs/sql.md): a day-of-month and
** a day-of-week both restricted (0.4 wants both to match, we either),
** @every (0.4 counts from the previous boundary, we from the epoch) and a
** wall time repeated when clocks fall back (0.4 fires the second one, we the
** first). CRON_ERROR with cron_parse's message when expr is invalid, or when
** text_len is too small (CRON_CANONICAL_MAX(len) always suffices). */
int cron_canonical_n(const char *expr, size_t len, char *text, size_t text_len, char *err,
                     size_t err_len);
#define CRON_CANONICAL_MAX(len) (3 * (size_t)(len) + 64)

/* The first boundary strictly after from_unix, in *next. Errors (message in
** err): from_unix outside [CRON_MIN_UNIX, CRON_MAX_UNIX], no local time
** available, or no match within 100 years (cannot happen for a spec that
** cron_parse accepted). Never loops unboundedly. */
int cron_next_after(const CronSpec *spec, int64_t from_unix, int64_t *next, char *err,
                    size_t err_len);

#endif /* HONKER_CRON_H */
