/*
** cron_next.c — the next boundary of a parsed CronSpec (cron_next_after in
** cron.h): the calendar, local time and the bounded search.
**
** Pure C like cron.c: no sqlite3_* call, no util.h.
**
** Invariants:
**   - cron_next_after returns a time strictly after from_unix and runs a
**     bounded number of steps on any spec, even an uninitialised one;
**   - only the in-range bits of a spec are read, so a hand-made CronSpec
**     cannot index out of range.
**
** Local time and daylight saving. The search runs over local wall-clock
** times ("naive" seconds: the wall clock read as if it were UTC) and maps the
** first matching wall time back to a Unix time:
**   - a wall time that does not exist (spring forward: 02:30 on 2026-03-08 in
**     America/New_York) maps to the first instant after the gap (03:00 local),
**     so a daily 02:30 task still fires that day, once;
**   - an ambiguous wall time (fall back: 01:30 on 2026-11-01) maps to its
**     first occurrence only; during the repeated hour the wall times already
**     seen do not fire again.
*/
#define _POSIX_C_SOURCE 200809L
#include "cron.h"
#include "cron_internal.h"

#include <stdatomic.h>
#include <time.h>

/* --- days -------------------------------------------------------------------- */

static int cron_is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int cron_days_in_month(int64_t y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && cron_is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t cron_days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* The date of a day count since 1970-01-01 (inverse of the above). */
static void cron_civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* Day of week, Sunday = 0 (1970-01-01 was a Thursday). */
static int cron_weekday(int64_t y, int m, int d) {
  int64_t w = (cron_days_from_civil(y, m, d) + 4) % 7;
  return (int)(w < 0 ? w + 7 : w);
}

/* True when day y-m-d matches the day-of-month and day-of-week fields. */
static int cron_day_matches(const CronSpec *spec, int64_t y, int m, int d) {
  int dom = (spec->doms >> d) & 1;
  int dow = (spec->dows >> cron_weekday(y, m, d)) & 1;
  /* Vixie cron: when both fields are restricted (neither is exactly "*"), a
  ** day matches if EITHER matches ("0 0 13 * FRI" = every 13th and every
  ** Friday); when one is "*", only the other one applies. */
  if (!spec->dom_star && !spec->dow_star) return dom || dow;
  return dom && dow;
}

/* Contract in cron_internal.h. Feb counts 29 days: a spec for Feb 29 fires in leap years. */
int cron_days_possible(const CronSpec *spec) {
  if (!spec->dom_star && !spec->dow_star) return spec->dows != 0;
  for (int m = 1; m <= 12; m++) {
    if (!((spec->months >> m) & 1)) continue;
    int last = m == 2 ? 29 : cron_days_in_month(2001, m);
    for (int d = 1; d <= last; d++) {
      if (((spec->doms >> d) & 1) && (spec->dow_star || spec->dows)) return 1;
    }
  }
  return 0;
}

/* --- local time -------------------------------------------------------------- */

/* tzset() once per process, before the first conversion, so TZ is read. */
static void cron_tzset_once(void) {
  static atomic_int done;
  if (!atomic_load(&done)) {
    tzset();
    atomic_store(&done, 1);
  }
}

/* A local wall-clock time, read as if it were UTC ("naive" seconds). */
static int64_t cron_naive(int64_t y, int m, int d, int h, int mi, int s) {
  return cron_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + s;
}

/* *off = local wall clock minus UTC at instant u, in seconds. */
static int cron_offset(int64_t u, int64_t *off) {
  time_t t = (time_t)u;
  struct tm tm;
  if ((int64_t)t != u || !localtime_r(&t, &tm)) return CRON_ERROR;
  *off = cron_naive((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                    tm.tm_sec) -
         u;
  return CRON_OK;
}

/* The Unix time of wall time n: its first occurrence when it is ambiguous,
** the first instant after the gap when it does not exist. Assumes at most
** one offset change within a day of n (true of every real zone). */
static int cron_unix_of_naive(int64_t n, int64_t *u) {
  int64_t o1, o2, oa, ob;
  if (cron_offset(n - 86400, &o1) || cron_offset(n + 86400, &o2)) return CRON_ERROR;
  int64_t ua = n - o1, ub = n - o2, best = 0;
  int found = 0;
  if (cron_offset(ua, &oa)) return CRON_ERROR;
  if (oa == o1) {
    best = ua;
    found = 1;
  }
  if (o2 != o1) {
    if (cron_offset(ub, &ob)) return CRON_ERROR;
    if (ob == o2 && (!found || ub < best)) {
      best = ub;
      found = 1;
    }
  }
  if (found) {
    *u = best;
    return CRON_OK;
  }
  /* In a gap: the smallest instant whose wall clock is past n. */
  int64_t lo = (ua < ub ? ua : ub) - 1, hi = (ua > ub ? ua : ub) + 1, off;
  if (cron_offset(lo, &off)) return CRON_ERROR;
  if (lo + off > n) { /* not the shape we expect: stay bounded, stay after n */
    *u = hi;
    return CRON_OK;
  }
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (cron_offset(mid, &off)) return CRON_ERROR;
    if (mid + off > n) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  *u = hi;
  return CRON_OK;
}

/* --- search ------------------------------------------------------------------ */

typedef struct CronTime {
  int64_t y;
  int mon, day, hour, min, sec;
} CronTime;

/* The smallest v in [from, hi] whose bit is set in mask, or -1. */
static int cron_next_bit(uint64_t mask, int from, int hi) {
  for (int v = from; v <= hi; v++) {
    if ((mask >> v) & 1) return v;
  }
  return -1;
}

/* Carry overflowing fields upward (sec 60 -> next minute, ...). */
static void cron_carry(CronTime *t) {
  if (t->sec > 59) {
    t->sec = 0;
    t->min++;
  }
  if (t->min > 59) {
    t->min = 0;
    t->hour++;
  }
  if (t->hour > 23) {
    t->hour = 0;
    t->day++;
  }
  if (t->day > cron_days_in_month(t->y, t->mon)) {
    t->day = 1;
    t->mon++;
  }
  if (t->mon > 12) {
    t->mon = 1;
    t->y++;
  }
}

/* Steps of the search loop: far above what any accepted spec needs (about
** 40 per month, plus at most 3600 per repeated daylight-saving hour). */
#define CRON_MAX_STEPS 2000000

int cron_next_after(const CronSpec *spec, int64_t from_unix, int64_t *next, char *err,
                    size_t err_len) {
  if (from_unix < CRON_MIN_UNIX || from_unix > CRON_MAX_UNIX) {
    return cron_error(err, err_len, "from_unix must be between %lld and %lld (got %lld)",
                      (long long)CRON_MIN_UNIX, (long long)CRON_MAX_UNIX, (long long)from_unix);
  }
  if (spec->every_s > 0) {
    /* Multiples of the period since the epoch: the same in every process. */
    *next = (from_unix / spec->every_s + 1) * spec->every_s;
    return CRON_OK;
  }
  /* Only in-range bits count, so a hand-made spec cannot index out of range. */
  CronSpec sp = *spec;
  sp.seconds &= (UINT64_C(1) << 60) - 1;
  sp.minutes &= (UINT64_C(1) << 60) - 1;
  sp.hours &= 0xFFFFFFu;
  sp.doms &= 0xFFFFFFFEu;
  sp.months &= 0x1FFEu;
  sp.dows &= 0x7Fu;
  if (!sp.seconds || !sp.minutes || !sp.hours || !sp.doms || !sp.months || !sp.dows) {
    return cron_error(err, err_len, "the schedule matches nothing");
  }
  spec = &sp;
  cron_tzset_once();
  int64_t off;
  if (cron_offset(from_unix, &off)) {
    return cron_error(err, err_len, "cannot convert %lld to local time", (long long)from_unix);
  }
  CronTime t;
  int64_t naive = from_unix + off + 1, days = naive / 86400, rem = naive % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  cron_civil_from_days(days, &t.y, &t.mon, &t.day);
  t.hour = (int)(rem / 3600);
  t.min = (int)(rem / 60 % 60);
  t.sec = (int)(rem % 60);
  int64_t cap = t.y + 100;

  for (long steps = 0; steps < CRON_MAX_STEPS && t.y <= cap; steps++) {
    int v;
    if (!((spec->months >> t.mon) & 1)) {
      v = cron_next_bit(spec->months, t.mon + 1, 12);
      if (v < 0) {
        t.y++;
        v = cron_next_bit(spec->months, 1, 12);
      }
      t.mon = v;
      t.day = 1;
      t.hour = t.min = t.sec = 0;
      continue;
    }
    if (!cron_day_matches(spec, t.y, t.mon, t.day)) {
      t.hour = 23;
      t.min = t.sec = 59;
      t.sec++;
      cron_carry(&t);
      continue;
    }
    if (!((spec->hours >> t.hour) & 1)) {
      v = cron_next_bit(spec->hours, t.hour + 1, 23);
      t.min = t.sec = 0;
      if (v < 0) {
        t.hour = 24;
        cron_carry(&t);
      } else {
        t.hour = v;
      }
      continue;
    }
    if (!((spec->minutes >> t.min) & 1)) {
      v = cron_next_bit(spec->minutes, t.min + 1, 59);
      t.sec = 0;
      if (v < 0) {
        t.min = 60;
        cron_carry(&t);
      } else {
        t.min = v;
      }
      continue;
    }
    if (!((spec->seconds >> t.sec) & 1)) {
      v = cron_next_bit(spec->seconds, t.sec + 1, 59);
      if (v < 0) {
        t.sec = 60;
        cron_carry(&t);
      } else {
        t.sec = v;
      }
      continue;
    }
    int64_t u = 0;
    if (cron_unix_of_naive(cron_naive(t.y, t.mon, t.day, t.hour, t.min, t.sec), &u)) {
      return cron_error(err, err_len, "cannot convert a local time to a Unix time");
    }
    if (u > from_unix) {
      *next = u;
      return CRON_OK;
    }
    /* A repeated wall time already seen (fall back): keep looking. */
    t.sec++;
    cron_carry(&t);
  }
  return cron_error(err, err_len, "no matching time within 100 years after %lld",
                    (long long)from_unix);
}
