/*
** cron.test.c — unit test of ext/cron.c and ext/cron_next.c (run by
** test/cron.parser.test.ts):
**   cc -std=c11 -Wall -Wextra -Werror test/c/cron.test.c ext/cron.c ext/cron_next.c \
**     -o cron_test
**   TZ=America/New_York ./cron_test && TZ=UTC ./cron_test
**
** Times in the tables are "YYYY-MM-DD HH:MM:SS" local wall time (converted
** with mktime: only used where the wall time is unambiguous), or with an
** explicit offset ("...-04:00", "...Z"), or "=<unix seconds>".
** Prints one line per failure and "ok <n> checks"; exits 1 on any failure.
*/
#define _POSIX_C_SOURCE 200809L
#include "../../ext/cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int checks, failures;

#define FAIL(...)                                \
  do {                                           \
    failures++;                                  \
    fprintf(stdout, "FAIL line %d: ", __LINE__); \
    fprintf(stdout, __VA_ARGS__);                \
    fputc('\n', stdout);                         \
  } while (0)

static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* A table time to Unix seconds (see the header); exits on a malformed one. */
static int64_t at(const char *s) {
  if (s[0] == '=') return strtoll(s + 1, 0, 10);
  int y, mo, d, h, mi, se, n = 0;
  if (sscanf(s, "%d-%d-%d %d:%d:%d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6) {
    fprintf(stdout, "bad time in table: %s\n", s);
    exit(2);
  }
  const char *z = s + n;
  if (*z == 0) {
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
  }
  int64_t naive = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
  if (*z == 'Z') return naive;
  int oh, om;
  if (sscanf(z + 1, "%d:%d", &oh, &om) != 2) {
    fprintf(stdout, "bad offset in table: %s\n", s);
    exit(2);
  }
  int64_t off = oh * 3600 + om * 60;
  return *z == '-' ? naive + off : naive - off;
}

/* "2026-03-08 03:00:00 (EDT)" for failure messages. */
static const char *show(int64_t u, char *buf, size_t n) {
  time_t t = (time_t)u;
  struct tm tm;
  if (!localtime_r(&t, &tm)) return "?";
  strftime(buf, n, "%Y-%m-%d %H:%M:%S %Z", &tm);
  return buf;
}

typedef struct {
  const char *expr, *from, *want;
} Case;

/* Wall times here are unambiguous in both test zones. */
static const Case common_cases[] = {
    /* every field kind */
    {"* * * * *", "2026-04-19 12:30:00", "2026-04-19 12:31:00"},
    {"* * * * *", "2026-04-19 12:30:59", "2026-04-19 12:31:00"},
    {"*/5 * * * *", "2026-04-19 12:30:00", "2026-04-19 12:35:00"},
    {"*/10 * * * * *", "2026-04-19 12:30:05", "2026-04-19 12:30:10"},
    {"* * * * * *", "2026-04-19 12:30:05", "2026-04-19 12:30:06"},
    {"0 3 * * *", "2026-04-19 10:00:00", "2026-04-20 03:00:00"},
    {"0 3 * * *", "2026-04-19 03:00:00", "2026-04-20 03:00:00"}, /* strictly after */
    {"0 3 * * *", "2026-04-19 02:59:59", "2026-04-19 03:00:00"},
    {"0-30/10 * * * *", "2026-04-19 12:05:00", "2026-04-19 12:10:00"},
    {"0-30/10 * * * *", "2026-04-19 12:30:00", "2026-04-19 13:00:00"},
    {"0,30 * * * *", "2026-04-19 12:10:00", "2026-04-19 12:30:00"},
    {"5/15 * * * *", "2026-04-19 12:21:00", "2026-04-19 12:35:00"},
    {"5/15 * * * *", "2026-04-19 12:50:00", "2026-04-19 13:05:00"},
    {"1-10/2 * * * *", "2026-04-19 12:04:00", "2026-04-19 12:05:00"},
    {"1-10/2 * * * *", "2026-04-19 12:09:00", "2026-04-19 13:01:00"},
    {"*/90 * * * *", "2026-04-19 12:09:00", "2026-04-19 13:00:00"},
    {"15 10,14 * * *", "2026-04-19 10:15:00", "2026-04-19 14:15:00"},
    {"30 15 10 * * *", "2026-04-19 10:15:30", "2026-04-20 10:15:30"},
    {"0 12 * * 1", "2026-04-19 00:00:00", "2026-04-20 12:00:00"},
    {"0 0 1 6 *", "2026-04-19 00:00:00", "2026-06-01 00:00:00"},
    {"  */5\t* * *  *  ", "2026-04-19 12:30:00", "2026-04-19 12:35:00"},
    /* names, case-insensitive; 7 is Sunday */
    {"0 0 * JAN,jul *", "2026-04-19 00:00:00", "2026-07-01 00:00:00"},
    {"0 0 1 Feb-Mar *", "2026-02-01 00:00:00", "2026-03-01 00:00:00"},
    {"0 0 * * MON-FRI", "2026-04-24 10:00:00", "2026-04-27 00:00:00"},
    {"0 0 * * 7", "2026-04-20 00:00:00", "2026-04-26 00:00:00"},
    {"0 0 * * sun", "2026-04-20 00:00:00", "2026-04-26 00:00:00"},
    {"0 0 * * 0", "2026-04-20 00:00:00", "2026-04-26 00:00:00"},
    {"0 0 * * 5-7", "2026-04-19 12:00:00", "2026-04-24 00:00:00"},
    {"0 0 * * 6-7", "2026-04-25 12:00:00", "2026-04-26 00:00:00"},
    {"0 0 * * tue/2", "2026-04-19 12:00:00", "2026-04-21 00:00:00"},
    {"0 0 * * Tue/2", "2026-04-21 12:00:00", "2026-04-23 00:00:00"},
    /* macros */
    {"@yearly", "2026-04-19 12:00:00", "2027-01-01 00:00:00"},
    {"@annually", "2026-04-19 12:00:00", "2027-01-01 00:00:00"},
    {"@monthly", "2026-04-19 12:00:00", "2026-05-01 00:00:00"},
    {"@weekly", "2026-04-19 12:00:00", "2026-04-26 00:00:00"},
    {"@daily", "2026-04-19 12:00:00", "2026-04-20 00:00:00"},
    {"@midnight", "2026-04-19 12:00:00", "2026-04-20 00:00:00"},
    {"@hourly", "2026-04-19 12:30:00", "2026-04-19 13:00:00"},
    {"  @HOURLY  ", "2026-04-19 12:30:00", "2026-04-19 13:00:00"},
    /* Vixie: both restricted -> either matches (Apr 13 2026 is a Monday) */
    {"0 0 13 * 5", "2026-04-10 12:00:00", "2026-04-13 00:00:00"},
    {"0 0 13 * 5", "2026-04-13 12:00:00", "2026-04-17 00:00:00"},
    {"0 0 13 * fri", "2026-04-13 12:00:00", "2026-04-17 00:00:00"},
    {"0 0 13 * *", "2026-04-10 12:00:00", "2026-04-13 00:00:00"},
    {"0 0 13 * *", "2026-04-13 12:00:00", "2026-05-13 00:00:00"},
    {"0 0 * * 5", "2026-04-10 12:00:00", "2026-04-17 00:00:00"},
    {"0 0 */10 * 1", "2026-04-19 12:00:00", "2026-04-20 00:00:00"},
    {"0 0 */10 * 1", "2026-04-20 12:00:00", "2026-04-21 00:00:00"},
    {"0 0 30 2 MON", "2026-02-01 12:00:00", "2026-02-02 00:00:00"},
    /* month ends: the 31st skips short months */
    {"0 0 31 * *", "2026-04-01 00:00:00", "2026-05-31 00:00:00"},
    {"0 0 31 * *", "2026-01-31 00:00:00", "2026-03-31 00:00:00"},
    {"0 0 30 * *", "2026-01-30 00:00:00", "2026-03-30 00:00:00"},
    {"0 0 28-31 2 *", "2026-02-27 00:00:00", "2026-02-28 00:00:00"},
    /* Feb 29: 2024 and 2028 are leap years, 2100 is not, 2000 was */
    {"0 0 29 2 *", "2023-06-01 00:00:00", "2024-02-29 00:00:00"},
    {"0 0 29 2 *", "2024-03-01 00:00:00", "2028-02-29 00:00:00"},
    {"0 0 29 2 *", "2096-03-01 00:00:00", "2104-02-29 00:00:00"},
    {"0 0 29 2 *", "1999-03-01 00:00:00", "2000-02-29 00:00:00"},
    /* year rollover */
    {"59 23 31 12 *", "2026-12-31 23:59:00", "2027-12-31 23:59:00"},
    {"0 0 1 1 *", "2026-12-31 23:59:59", "2027-01-01 00:00:00"},
    {"* * * * * *", "2026-12-31 23:59:59", "2027-01-01 00:00:00"},
    {"*/7 * * * *", "2026-12-31 23:58:00", "2027-01-01 00:00:00"},
    /* @every: multiples of the period since the epoch (UTC) */
    {"@every 1s", "=1776601805", "=1776601806"},
    {"@every 60s", "2026-04-19 12:30:05Z", "2026-04-19 12:31:00Z"},
    {"@every 5m", "2026-04-19 12:35:00Z", "2026-04-19 12:40:00Z"},
    {"@every 1h", "2026-04-19 12:35:00Z", "2026-04-19 13:00:00Z"},
    {"@every 1d", "2026-04-19 12:30:00Z", "2026-04-20 00:00:00Z"},
    {"@every 7s", "=0", "=7"},
    {"@every 7s", "=6", "=7"},
    {"@every 7s", "=7", "=14"},
    {"@every1s", "=100", "=101"},
    {"@EVERY 2S", "=100", "=102"},
    {"  @every   90m  ", "=0", "=5400"},
    {"@every 36600d", "=0", "=3162240000"},
    /* the far end of the accepted range */
    {"@every 1s", "=253402300799", "=253402300800"},
};

/* America/New_York around 2026's transitions (2026-03-08 and 2026-11-01). */
static const Case new_york_cases[] = {
    /* spring forward: 02:00-02:59 do not exist; they fire at 03:00 EDT */
    {"30 2 * * *", "2026-03-07 03:00:00-05:00", "2026-03-08 03:00:00-04:00"},
    {"30 2 * * *", "2026-03-08 03:00:00-04:00", "2026-03-09 02:30:00-04:00"},
    {"0 2 * * *", "2026-03-07 12:00:00-05:00", "2026-03-08 03:00:00-04:00"},
    {"0 * * * * *", "2026-03-08 01:59:59-05:00", "2026-03-08 03:00:00-04:00"},
    {"*/15 * * * *", "2026-03-08 01:45:00-05:00", "2026-03-08 03:00:00-04:00"},
    {"*/15 * * * *", "2026-03-08 03:00:00-04:00", "2026-03-08 03:15:00-04:00"},
    {"0 3 * * *", "2026-03-08 01:00:00-05:00", "2026-03-08 03:00:00-04:00"},
    /* fall back: 01:00-01:59 happen twice; they fire the first time only */
    {"30 1 * * *", "2026-10-31 12:00:00-04:00", "2026-11-01 01:30:00-04:00"},
    {"30 1 * * *", "2026-11-01 01:30:00-04:00", "2026-11-02 01:30:00-05:00"},
    {"30 1 * * *", "2026-11-01 01:10:00-05:00", "2026-11-02 01:30:00-05:00"},
    {"0 * * * *", "2026-11-01 00:30:00-04:00", "2026-11-01 01:00:00-04:00"},
    {"0 * * * *", "2026-11-01 01:00:00-04:00", "2026-11-01 02:00:00-05:00"},
    {"*/15 * * * *", "2026-11-01 01:50:00-04:00", "2026-11-01 02:00:00-05:00"},
    {"*/15 * * * *", "2026-11-01 01:50:00-05:00", "2026-11-01 02:00:00-05:00"},
    {"* * * * * *", "2026-11-01 01:59:59-04:00", "2026-11-01 02:00:00-05:00"},
    {"0 0 * * *", "2026-11-01 01:30:00-05:00", "2026-11-02 00:00:00-05:00"},
    /* @every ignores the zone */
    {"@every 1d", "2026-03-08 12:00:00-04:00", "2026-03-09 00:00:00Z"},
};

/* UTC: no transitions, 02:30 exists every day. */
static const Case utc_cases[] = {
    {"30 2 * * *", "2026-03-08 01:59:59Z", "2026-03-08 02:30:00Z"},
    {"30 1 * * *", "2026-11-01 01:30:00Z", "2026-11-02 01:30:00Z"},
    {"@every 1d", "2026-03-08 12:00:00Z", "2026-03-09 00:00:00Z"},
};

typedef struct {
  const char *expr, *err;
} ErrCase;

static const ErrCase error_cases[] = {
    {"", "expected 5 or 6 fields (got 0)"},
    {"   ", "expected 5 or 6 fields (got 0)"},
    {"* * *", "expected 5 or 6 fields (got 3)"},
    {"* * * *", "expected 5 or 6 fields (got 4)"},
    {"* * * * * * *", "expected 5 or 6 fields (got 7)"},
    {"61 * * * *", "minute field: 61 is out of range 0-59"},
    {"60 * * * * *", "second field: 60 is out of range 0-59"},
    {"* 24 * * *", "hour field: 24 is out of range 0-23"},
    {"* * 0 * *", "day-of-month field: 0 is out of range 1-31"},
    {"* * 32 * *", "day-of-month field: 32 is out of range 1-31"},
    {"* * * 0 *", "month field: 0 is out of range 1-12"},
    {"* * * 13 *", "month field: 13 is out of range 1-12"},
    {"* * * * 8", "day-of-week field: 8 is out of range 0-7"},
    {"1-99 * * * *", "minute field: 99 is out of range 0-59"},
    {"99999999999999999999 * * * *", "minute field: 99999999999999999999 is out of range 0-59"},
    {"123456789012345678901234567890 * * * *",
     "minute field: 123456789012345678901234... is out of range 0-59"},
    {"*/0 * * * *", "minute field: step must be >= 1 (got 0)"},
    {"0 0 * * */0", "day-of-week field: step must be >= 1 (got 0)"},
    {"*/ * * * *", "minute field: step must be a number (got '')"},
    {"*/x * * * *", "minute field: step must be a number (got 'x')"},
    {"*/5/5 * * * *", "minute field: cannot parse '*/5/5'"},
    {"5-2 * * * *", "minute field: range 5-2 is reversed"},
    {"* * * * FRI-MON", "day-of-week field: range 5-1 is reversed"},
    {"1,,2 * * * *", "minute field: empty list item"},
    {"1, * * * *", "minute field: empty list item"},
    {",1 * * * *", "minute field: empty list item"},
    {"* * * FOO *", "month field: unknown name 'FOO'"},
    {"* * * * FUNDAY", "day-of-week field: unknown name 'FUNDAY'"},
    {"* * * * JAN", "day-of-week field: unknown name 'JAN'"},
    {"abc * * * *", "minute field: 'abc' is not a number"},
    {"* * MON * *", "day-of-month field: 'MON' is not a number"},
    {"1-2-3 * * * *", "minute field: cannot parse '1-2-3'"},
    {"*-5 * * * *", "minute field: cannot parse '*-5'"},
    {"? * * * *", "minute field: unexpected '?'"},
    {"-5 * * * *", "minute field: unexpected '-'"},
    {"5- * * * *", "minute field: missing a value"},
    {"0 0 L * *", "day-of-month field: 'L' is not a number"},
    {"0 0 * * 5#3", "day-of-week field: cannot parse '5#3'"},
    {"0 0 30 2 *", "never matches: no selected day-of-month exists in the selected months"},
    {"0 0 31 4,6,9,11 *", "never matches: no selected day-of-month exists in the selected months"},
    {"@fortnightly", "unknown macro @fortnightly"},
    {"@reboot", "unknown macro @reboot"},
    {"@", "unknown macro @"},
    {"@daily 5", "macro @daily takes no arguments (got '5')"},
    {"@every", "@every: expected <n><s|m|h|d> (got '')"},
    {"@every   ", "@every: expected <n><s|m|h|d> (got '')"},
    {"@every 5", "@every: expected <n><s|m|h|d> (got '5')"},
    {"@every s", "@every: expected <n><s|m|h|d> (got 's')"},
    {"@every -5s", "@every: expected <n><s|m|h|d> (got '-5s')"},
    {"@every 0s", "@every: n must be >= 1 (got 0)"},
    {"@every 5w", "@every: unknown unit 'w' (expected s, m, h or d)"},
    {"@every 1h30m", "@every: unknown unit 'h30m' (expected s, m, h or d)"},
    {"@every 5 m", "@every: unknown unit ' m' (expected s, m, h or d)"},
    {"@every 36601d", "@every: period must be at most 36600d (got '36601d')"},
    {"@every 99999999999999999999999s",
     "@every: period must be at most 36600d (got '99999999999999999999999s')"},
};

static void run_cases(const char *zone, const Case *cases, size_t n) {
  char err[256], a[64], b[64];
  for (size_t i = 0; i < n; i++) {
    CronSpec spec;
    int64_t from = at(cases[i].from), want = at(cases[i].want), got = -1;
    checks++;
    if (cron_parse(cases[i].expr, &spec, err, sizeof err) != CRON_OK) {
      FAIL("[%s] '%s': parse error: %s", zone, cases[i].expr, err);
      continue;
    }
    if (cron_next_after(&spec, from, &got, err, sizeof err) != CRON_OK) {
      FAIL("[%s] '%s' after %s: error: %s", zone, cases[i].expr, cases[i].from, err);
      continue;
    }
    if (got != want) {
      FAIL("[%s] '%s' after %s: got %lld (%s), want %lld (%s)", zone, cases[i].expr, cases[i].from,
           (long long)got, show(got, a, sizeof a), (long long)want, show(want, b, sizeof b));
    }
  }
}

static void run_errors(void) {
  char err[256];
  for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
    CronSpec spec;
    checks++;
    if (cron_parse(error_cases[i].expr, &spec, err, sizeof err) == CRON_OK) {
      FAIL("'%s': parsed, want error '%s'", error_cases[i].expr, error_cases[i].err);
    } else if (strcmp(err, error_cases[i].err) != 0) {
      FAIL("'%s': error '%s', want '%s'", error_cases[i].expr, err, error_cases[i].err);
    }
  }
  /* embedded NUL, range of from_unix, an uninitialised spec, a tiny buffer */
  CronSpec spec;
  int64_t next;
  checks++;
  if (cron_parse_n("* * * * *\0x", 11, &spec, err, sizeof err) == CRON_OK ||
      strcmp(err, "day-of-week field: cannot parse '*?x'") != 0) {
    FAIL("embedded NUL: got '%s'", err);
  }
  checks++;
  cron_parse("* * * * *", &spec, err, sizeof err);
  if (cron_next_after(&spec, -1, &next, err, sizeof err) == CRON_OK ||
      strcmp(err, "from_unix must be between 0 and 253402300799 (got -1)") != 0) {
    FAIL("from_unix -1: got '%s'", err);
  }
  checks++;
  if (cron_next_after(&spec, CRON_MAX_UNIX + 1, &next, err, sizeof err) == CRON_OK) {
    FAIL("from_unix past the range: accepted");
  }
  checks++;
  memset(&spec, 0, sizeof spec);
  if (cron_next_after(&spec, 0, &next, err, sizeof err) == CRON_OK ||
      strcmp(err, "the schedule matches nothing") != 0) {
    FAIL("zero spec: got '%s'", err);
  }
  checks++;
  char tiny[8];
  if (cron_parse("61 * * * *", &spec, tiny, sizeof tiny) == CRON_OK || strlen(tiny) != 7) {
    FAIL("tiny error buffer: '%s'", tiny);
  }
  checks++;
  if (cron_parse(NULL, &spec, NULL, 0) == CRON_OK) FAIL("NULL expr parsed");
}

/* cron_canonical_n: the text honker 0.4 parses alike (cron.h). */
static const ErrCase canonical_cases[] = {
    /* already 0.4's: kept as written (blanks aside) */
    {"0 3 * * *", "0 3 * * *"},
    {"  */15\t* *  * *  ", "*/15 * * * *"},
    {"1-10/3,30 * * * *", "1-10/3,30 * * * *"},
    {"30 15 10 * * *", "30 15 10 * * *"},
    {"0 0 13 * 5", "0 0 13 * 5"},
    {"00 03 * * *", "0 3 * * *"},
    {"@every 90s", "@every 90s"},
    /* names, Sunday's 7 */
    {"0 9 * * MON-FRI", "0 9 * * 1-5"},
    {"0 0 1 jan-Mar,JUL *", "0 0 1 1-3,7 *"},
    {"0 0 13 * fri", "0 0 13 * 5"},
    {"0 0 * * 7", "0 0 * * 0"},
    {"0 0 * * SUN", "0 0 * * 0"},
    {"0 0 * * 5-7", "0 0 * * 5-6,0"},
    {"0 0 * * 6-7", "0 0 * * 6,0"},
    {"0 0 * * 0-7", "0 0 * * 0-6"},
    {"0 0 * * 1-7/2", "0 0 * * 1-6/2,0"},
    {"0 0 * * 1-7/4", "0 0 * * 1-6/4"},
    {"0 0 * * 7/3", "0 0 * * 0"},
    /* n/step: 0.4 reads n alone */
    {"5/15 * * * *", "5-59/15 * * * *"},
    {"0 5/6 * * *", "0 5-23/6 * * *"},
    {"0 0 3/10 * *", "0 0 3-31/10 * *"},
    {"0 0 * 2/5 *", "0 0 * 2-12/5 *"},
    {"0 0 * * tue/2", "0 0 * * 2-6/2"},
    {"59/5 * * * *", "59 * * * *"},
    /* steps 0.4 cannot hold select the first value alone */
    {"*/99999999999 * * * *", "*/60 * * * *"},
    {"5/4294967296 * * * *", "5-59/60 * * * *"},
    {"*/4294967295 * * * *", "*/4294967295 * * * *"},
    /* macros and @every */
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {" @DAILY ", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
    {"@EVERY 5M", "@every 5m"},
    {"@every1s", "@every 1s"},
    {"  @every   007h ", "@every 7h"},
};

/* Two specs select the same times (and the same Vixie reading). */
static int same_spec(const CronSpec *a, const CronSpec *b) {
  return a->every_s == b->every_s && a->seconds == b->seconds && a->minutes == b->minutes &&
         a->hours == b->hours && a->doms == b->doms && a->months == b->months &&
         a->dows == b->dows && a->dom_star == b->dom_star && a->dow_star == b->dow_star;
}

/* The canonical text of [expr, expr+len), which parsed into *spec, parses into
** the same spec, is its own canonical text, and holds only what 0.4 reads. */
static void check_canonical_roundtrip(const char *expr, size_t len, const CronSpec *spec) {
  static char text[3 * 10001 + 64], again[3 * 10001 + 64];
  char err[256];
  CronSpec back;
  checks++;
  if (cron_canonical_n(expr, len, text, CRON_CANONICAL_MAX(len), err, sizeof err) != CRON_OK) {
    FAIL("canonical '%.*s': %s", (int)len, expr, err);
    return;
  }
  if (cron_parse(text, &back, err, sizeof err) != CRON_OK || !same_spec(spec, &back)) {
    FAIL("canonical '%.*s' -> '%s' does not parse back alike (%s)", (int)len, expr, text, err);
    return;
  }
  size_t n = strlen(text);
  if (cron_canonical_n(text, n, again, sizeof again, err, sizeof err) != CRON_OK ||
      strcmp(text, again) != 0) {
    FAIL("canonical '%s' is not its own canonical text ('%s')", text, again);
  }
  if (strncmp(text, "@every ", 7) != 0 && strspn(text, "0123456789*/,- ") != n) {
    FAIL("canonical '%s' holds characters honker 0.4 does not parse", text);
  }
}

static void run_canonical(void) {
  char text[256], err[256];
  for (size_t i = 0; i < sizeof canonical_cases / sizeof canonical_cases[0]; i++) {
    const ErrCase *c = &canonical_cases[i];
    checks++;
    if (cron_canonical_n(c->expr, strlen(c->expr), text, sizeof text, err, sizeof err) != CRON_OK) {
      FAIL("canonical '%s': error '%s', want '%s'", c->expr, err, c->err);
    } else if (strcmp(text, c->err) != 0) {
      FAIL("canonical '%s': '%s', want '%s'", c->expr, text, c->err);
    }
  }
  for (size_t i = 0; i < sizeof common_cases / sizeof common_cases[0]; i++) {
    CronSpec spec;
    const char *e = common_cases[i].expr;
    if (cron_parse(e, &spec, err, sizeof err) == CRON_OK)
      check_canonical_roundtrip(e, strlen(e), &spec);
  }
  /* an invalid expression, a buffer too small: errors, text left empty */
  checks++;
  if (cron_canonical_n("61 * * * *", 10, text, sizeof text, err, sizeof err) == CRON_OK ||
      strcmp(err, "minute field: 61 is out of range 0-59") != 0 || text[0] != 0) {
    FAIL("canonical of an invalid expression: '%s' '%s'", text, err);
  }
  checks++;
  if (cron_canonical_n("@daily", 6, text, 9, err, sizeof err) == CRON_OK ||
      strcmp(err, "the canonical text needs 10 bytes (got 9)") != 0 || text[0] != 0) {
    FAIL("canonical into a small buffer: '%s' '%s'", text, err);
  }
  checks++;
  if (cron_canonical_n("@daily", 6, text, 10, err, sizeof err) != CRON_OK ||
      strcmp(text, "0 0 * * *") != 0) {
    FAIL("canonical into an exact buffer: '%s' '%s'", text, err);
  }
}

/* Fires of expr in [from, to): count them, check they strictly increase. */
static long count_fires(const char *expr, int64_t from, int64_t to) {
  CronSpec spec;
  char err[256];
  long n = 0;
  if (cron_parse(expr, &spec, err, sizeof err) != CRON_OK) return -1;
  for (int64_t t = from;;) {
    int64_t next;
    if (cron_next_after(&spec, t, &next, err, sizeof err) != CRON_OK || next <= t) return -2;
    if (next >= to) return n;
    n++;
    t = next;
  }
}

static void expect_count(const char *zone, const char *expr, const char *from, const char *to,
                         long want) {
  checks++;
  long got = count_fires(expr, at(from), at(to));
  if (got != want)
    FAIL("[%s] '%s' from %s to %s: %ld fires, want %ld", zone, expr, from, to, got, want);
}

/* Random and hostile input: parse never crashes; an accepted spec has a next time. */
static void run_robustness(void) {
  static const char alphabet[] = "0123456789*/,-@ \tJANmonSUNeveryhds?L#x\0";
  static const char *const tokens[] = {"*", "*/5",     "1-10", "0",     "5/15", "MON-FRI", "jan",
                                       "7", "1,2,3",   "29",   "31",    "2",    "*/0",     "61",
                                       "x", "sun,sat", "30",   "0-7/3", "feb",  "23"};
  static char buf[10001];
  char err[256];
  unsigned long long r = 88172645463325252ull;
  long accepted = 0;
  for (int i = 0; i < 200000; i++) {
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    size_t len = 0;
    if (i % 2) { /* random bytes */
      len = (size_t)(r % 24);
      for (size_t k = 0; k < len; k++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        buf[k] = alphabet[r % (sizeof alphabet - 1)];
      }
    } else { /* 5 or 6 plausible fields */
      int fields = 5 + (int)(r & 1);
      for (int k = 0; k < fields; k++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        const char *tok = tokens[r % (sizeof tokens / sizeof tokens[0])];
        size_t tl = strlen(tok);
        memcpy(buf + len, tok, tl);
        len += tl;
        buf[len++] = ' ';
      }
    }
    CronSpec spec;
    int64_t next, from = (int64_t)(r % (uint64_t)CRON_MAX_UNIX);
    if (cron_parse_n(buf, len, &spec, err, sizeof err) != CRON_OK) continue;
    accepted++;
    if (i % 16 == 0) check_canonical_roundtrip(buf, len, &spec);
    if (cron_next_after(&spec, from, &next, err, sizeof err) != CRON_OK || next <= from) {
      FAIL("random '%.*s' from %lld: %s", (int)len, buf, (long long)from, err);
      break;
    }
  }
  checks++;
  if (accepted == 0) FAIL("no random expression was accepted");
  /* 10k characters of each kind */
  const char fills[] = "9*,-/ @a";
  for (size_t f = 0; f < sizeof fills - 1; f++) {
    memset(buf, fills[f], 10000);
    buf[10000] = 0;
    CronSpec spec;
    checks++;
    if (cron_parse(buf, &spec, err, sizeof err) == CRON_OK) {
      FAIL("10k '%c' accepted", fills[f]);
    }
  }
  /* a 10k-item list is accepted and evaluated */
  size_t n = 0;
  while (n + 3 < 9980) {
    memcpy(buf + n, "59,", 3);
    n += 3;
  }
  memcpy(buf + n - 1, " * * * *", 9);
  CronSpec spec;
  int64_t next;
  checks++;
  if (cron_parse(buf, &spec, err, sizeof err) != CRON_OK ||
      cron_next_after(&spec, at("2026-04-19 12:00:00"), &next, err, sizeof err) != CRON_OK ||
      next != at("2026-04-19 12:59:00")) {
    FAIL("10k-item list: %s", err);
  }
  check_canonical_roundtrip(buf, strlen(buf), &spec);
}

/* The scheduler calls cron_next_after per tick per task: it must be cheap. */
static void run_speed(void) {
  const char *exprs[] = {"* * * * *", "0 3 * * *", "0 0 29 2 *", "*/7 * * * * *", "0 0 13 * 5"};
  CronSpec spec;
  char err[256];
  clock_t start = clock();
  long calls = 0;
  for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
    cron_parse(exprs[e], &spec, err, sizeof err);
    int64_t t = at("2026-01-01 00:00:00");
    for (int i = 0; i < 20000; i++, calls++) {
      if (cron_next_after(&spec, t, &t, err, sizeof err) != CRON_OK) break;
    }
  }
  double us = 1e6 * (double)(clock() - start) / CLOCKS_PER_SEC / (double)calls;
  printf("speed: %.2f us per cron_next_after\n", us);
  checks++;
  if (us > 500) FAIL("cron_next_after takes %.1f us per call", us);
}

int main(void) {
  const char *tz = getenv("TZ");
  const char *zone = tz ? tz : "(unset)";
  tzset();
  run_cases(zone, common_cases, sizeof common_cases / sizeof common_cases[0]);
  if (tz && strcmp(tz, "America/New_York") == 0) {
    run_cases(zone, new_york_cases, sizeof new_york_cases / sizeof new_york_cases[0]);
    /* 02:30 and 01:30 fire once a day, every day of 2026 */
    expect_count(zone, "30 2 * * *", "2026-01-01 00:00:00", "2027-01-01 00:00:00", 365);
    expect_count(zone, "30 1 * * *", "2026-01-01 00:00:00", "2027-01-01 00:00:00", 365);
    expect_count(zone, "0 * * * *", "2025-12-31 23:59:59", "2027-01-01 00:00:00", 8759);
    /* spring-forward day: 02:00-02:45 collapse into 03:00; fall-back: 96 wall times once */
    expect_count(zone, "*/15 * * * *", "2026-03-07 23:59:59", "2026-03-09 00:00:00", 92);
    expect_count(zone, "*/15 * * * *", "2026-10-31 23:59:59", "2026-11-02 00:00:00", 96);
    expect_count(zone, "*/7 * * * * *", "2026-11-01 00:00:00", "2026-11-01 03:00:00", 1619);
  }
  if (tz && strcmp(tz, "UTC") == 0) {
    run_cases(zone, utc_cases, sizeof utc_cases / sizeof utc_cases[0]);
    expect_count(zone, "*/15 * * * *", "2026-03-07 23:59:59", "2026-03-09 00:00:00", 96);
    expect_count(zone, "0 * * * *", "2025-12-31 23:59:59", "2027-01-01 00:00:00", 8760);
  }
  run_errors();
  run_canonical();
  run_robustness();
  run_speed();
  printf("%s %d checks, %d failures\n", failures ? "FAILED" : "ok", checks, failures);
  return failures ? 1 : 0;
}
