/*
** cron.c — the schedule expression parser and next-boundary search
** (grammar in cron.h; used by scheduler.c; spec/sql.md "Scheduler").
**
** This file is pure C: it makes no sqlite3_* call and, unlike the other
** ext/ files, does not include util.h, so test/c/cron.test.c and
** fuzz/cron.c compile it without SQLite.
**
** Invariants:
**   - parsing reads only [expr, expr + len) and never allocates; every
**     number is saturated while it is read, so huge values cannot overflow;
**   - a spec that cron_parse accepted matches at least one day in every
**     8 years (the rarest is Feb 29), so the bounded search below finds it;
**   - cron_next_after returns a time strictly after from_unix and runs a
**     bounded number of steps on any spec, even an uninitialised one.
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

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* --- errors ------------------------------------------------------------------ */

/* Write a formatted message into err (when there is room); returns CRON_ERROR. */
static int cron_error(char *err, size_t err_len, const char *fmt, ...) {
  if (err && err_len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return CRON_ERROR;
}

/* Copy at most 24 bytes of [s, s+n) into buf as printable ASCII ('?' for
** any other byte, "..." when cut) so error messages quote input safely. */
static const char *cron_quote(char *buf, size_t buf_len, const char *s, size_t n) {
  size_t max = buf_len - 4, i;
  for (i = 0; i < n && i < max && i < 24; i++) {
    unsigned char c = (unsigned char)s[i];
    buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  if (i < n) {
    memcpy(buf + i, "...", 3);
    i += 3;
  }
  buf[i] = 0;
  return buf;
}

static int cron_is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int cron_is_digit(char c) { return c >= '0' && c <= '9'; }

static int cron_is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static char cron_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* True when [s, s+n) equals the lowercase word w, ignoring case. */
static int cron_word_is(const char *s, size_t n, const char *w) {
  size_t wn = strlen(w);
  if (n != wn) return 0;
  for (size_t i = 0; i < n; i++) {
    if (cron_lower(s[i]) != w[i]) return 0;
  }
  return 1;
}

/* --- fields ------------------------------------------------------------------ */

typedef struct CronField {
  const char *name;         /* for messages: "minute field: ..." */
  int lo, hi;               /* accepted values (day-of-week: 0-7) */
  int star_hi;              /* the top of "*" (day-of-week: 6, 7 is Sunday again) */
  const char *const *names; /* three-letter names for lo.. (or NULL) */
  int names_base;           /* the value of names[0] */
  int names_count;
} CronField;

static const char *const cron_month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                               "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const cron_day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static const CronField cron_fields[6] = {
    {"second", 0, 59, 59, 0, 0, 0},
    {"minute", 0, 59, 59, 0, 0, 0},
    {"hour", 0, 23, 23, 0, 0, 0},
    {"day-of-month", 1, 31, 31, 0, 0, 0},
    {"month", 1, 12, 12, cron_month_names, 1, 12},
    {"day-of-week", 0, 7, 6, cron_day_names, 0, 7},
};
enum { CRON_SEC, CRON_MIN, CRON_HOUR, CRON_DOM, CRON_MONTH, CRON_DOW };

/* Saturation point for numbers being read: far above any field or period. */
#define CRON_BIG INT64_C(1000000000000)

/* Read one value (a number, or a name where the field has names) at *p;
** advance *p. The value is range-checked. */
static int cron_parse_value(const CronField *f, const char **p, const char *end, int *out,
                            char *err, size_t err_len) {
  const char *s = *p;
  char q[32];
  if (s < end && cron_is_digit(*s)) {
    int64_t v = 0;
    while (s < end && cron_is_digit(*s)) {
      v = v * 10 + (*s - '0');
      if (v > CRON_BIG) v = CRON_BIG;
      s++;
    }
    if (v < f->lo || v > f->hi) {
      return cron_error(err, err_len, "%s field: %s is out of range %d-%d", f->name,
                        cron_quote(q, sizeof q, *p, (size_t)(s - *p)), f->lo, f->hi);
    }
    *p = s;
    *out = (int)v;
    return CRON_OK;
  }
  if (s < end && cron_is_alpha(*s)) {
    while (s < end && cron_is_alpha(*s))
      s++;
    size_t n = (size_t)(s - *p);
    for (int i = 0; f->names && i < f->names_count; i++) {
      if (cron_word_is(*p, n, f->names[i])) {
        *p = s;
        *out = f->names_base + i;
        return CRON_OK;
      }
    }
    if (f->names) {
      return cron_error(err, err_len, "%s field: unknown name '%s'", f->name,
                        cron_quote(q, sizeof q, *p, n));
    }
    return cron_error(err, err_len, "%s field: '%s' is not a number", f->name,
                      cron_quote(q, sizeof q, *p, n));
  }
  if (s < end) {
    return cron_error(err, err_len, "%s field: unexpected '%s'", f->name,
                      cron_quote(q, sizeof q, s, 1));
  }
  return cron_error(err, err_len, "%s field: missing a value", f->name);
}

/* Parse one list item ("*", "n", "a-b", each with an optional "/step") of
** [s, e) and set its values in *mask. */
static int cron_parse_item(const CronField *f, const char *s, const char *e, uint64_t *mask,
                           char *err, size_t err_len) {
  char q[32];
  const char *p = s;
  int a, b;
  int64_t step = 1;
  if (p == e) return cron_error(err, err_len, "%s field: empty list item", f->name);
  if (*p == '*') {
    p++;
    a = f->lo;
    b = f->star_hi;
  } else {
    if (cron_parse_value(f, &p, e, &a, err, err_len)) return CRON_ERROR;
    b = a;
    if (p < e && *p == '-') {
      p++;
      if (cron_parse_value(f, &p, e, &b, err, err_len)) return CRON_ERROR;
      if (b < a) {
        return cron_error(err, err_len, "%s field: range %d-%d is reversed", f->name, a, b);
      }
    } else if (p < e && *p == '/') {
      b = f->star_hi > a ? f->star_hi : a; /* n/step is n-max/step */
    }
  }
  if (p < e && *p == '/') {
    const char *d = ++p;
    step = 0;
    while (p < e && cron_is_digit(*p)) {
      step = step * 10 + (*p - '0');
      if (step > CRON_BIG) step = CRON_BIG;
      p++;
    }
    if (p == d) {
      return cron_error(err, err_len, "%s field: step must be a number (got '%s')", f->name,
                        cron_quote(q, sizeof q, d, (size_t)(e - d)));
    }
    if (step < 1) {
      return cron_error(err, err_len, "%s field: step must be >= 1 (got 0)", f->name);
    }
  }
  if (p != e) {
    return cron_error(err, err_len, "%s field: cannot parse '%s'", f->name,
                      cron_quote(q, sizeof q, s, (size_t)(e - s)));
  }
  for (int64_t v = a; v <= b; v += step) {
    *mask |= UINT64_C(1) << (v == 7 && f->names == cron_day_names ? 0 : v);
  }
  return CRON_OK;
}

/* Parse a whole field [s, e) (a comma list) into *mask. */
static int cron_parse_field(const CronField *f, const char *s, const char *e, uint64_t *mask,
                            char *err, size_t err_len) {
  *mask = 0;
  for (;;) {
    const char *c = s;
    while (c < e && *c != ',')
      c++;
    if (cron_parse_item(f, s, c, mask, err, err_len)) return CRON_ERROR;
    if (c == e) return CRON_OK;
    s = c + 1;
  }
}

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

/* True when some selected month has some selected day-of-month (Feb counts
** 29 days): otherwise a spec whose day-of-week is "*" never fires. */
static int cron_days_possible(const CronSpec *spec) {
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

/* --- parse ------------------------------------------------------------------- */

static const struct {
  const char *name;
  const char *expr;
} cron_macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* Parse the body of "@every <n><unit>" ([s, e), leading blanks allowed). */
static int cron_parse_every(const char *s, const char *e, CronSpec *out, char *err,
                            size_t err_len) {
  char q[32];
  while (s < e && cron_is_blank(*s))
    s++;
  while (e > s && cron_is_blank(e[-1]))
    e--;
  const char *p = s;
  int64_t n = 0;
  while (p < e && cron_is_digit(*p)) {
    n = n * 10 + (*p - '0');
    if (n > CRON_BIG) n = CRON_BIG;
    p++;
  }
  if (p == s || p == e) {
    return cron_error(err, err_len, "@every: expected <n><s|m|h|d> (got '%s')",
                      cron_quote(q, sizeof q, s, (size_t)(e - s)));
  }
  static const char units[] = "smhd";
  static const int64_t unit_s[] = {1, 60, 3600, 86400};
  const char *u = e - p == 1 && *p ? strchr(units, cron_lower(*p)) : 0;
  if (!u) {
    return cron_error(err, err_len, "@every: unknown unit '%s' (expected s, m, h or d)",
                      cron_quote(q, sizeof q, p, (size_t)(e - p)));
  }
  int64_t unit = unit_s[u - units];
  if (n < 1) return cron_error(err, err_len, "@every: n must be >= 1 (got 0)");
  if (n > CRON_MAX_EVERY_S / unit) {
    return cron_error(err, err_len, "@every: period must be at most 36600d (got '%s')",
                      cron_quote(q, sizeof q, s, (size_t)(e - s)));
  }
  out->every_s = n * unit;
  return CRON_OK;
}

int cron_parse_n(const char *expr, size_t len, CronSpec *out, char *err, size_t err_len) {
  char q[32];
  memset(out, 0, sizeof(*out));
  if (err && err_len > 0) err[0] = 0;
  if (!expr) {
    expr = "";
    len = 0;
  }
  const char *s = expr, *end = expr + len;
  while (s < end && cron_is_blank(*s))
    s++;
  if (s < end && *s == '@') {
    const char *w = s;
    while (w < end && !cron_is_blank(*w) && !cron_is_digit(*w))
      w++;
    if (cron_word_is(s, (size_t)(w - s), "@every")) {
      return cron_parse_every(w, end, out, err, err_len);
    }
    while (w < end && !cron_is_blank(*w))
      w++;
    for (size_t i = 0; i < sizeof(cron_macros) / sizeof(cron_macros[0]); i++) {
      if (!cron_word_is(s, (size_t)(w - s), cron_macros[i].name)) continue;
      const char *rest = w;
      while (rest < end && cron_is_blank(*rest))
        rest++;
      if (rest != end) {
        return cron_error(err, err_len, "macro %s takes no arguments (got '%s')",
                          cron_macros[i].name, cron_quote(q, sizeof q, rest, (size_t)(end - rest)));
      }
      return cron_parse(cron_macros[i].expr, out, err, err_len);
    }
    return cron_error(err, err_len, "unknown macro %s",
                      cron_quote(q, sizeof q, s, (size_t)(w - s)));
  }

  /* Split into fields; count them all so the message says how many there were. */
  const char *fs[6], *fe[6];
  int n = 0;
  for (const char *p = s; p < end;) {
    while (p < end && cron_is_blank(*p))
      p++;
    if (p == end) break;
    const char *t = p;
    while (p < end && !cron_is_blank(*p))
      p++;
    if (n < 6) {
      fs[n] = t;
      fe[n] = p;
    }
    n++;
  }
  if (n != 5 && n != 6) return cron_error(err, err_len, "expected 5 or 6 fields (got %d)", n);

  uint64_t masks[6];
  int first = n == 6 ? CRON_SEC : CRON_MIN;
  masks[CRON_SEC] = 1; /* 5 fields: second 0 */
  for (int i = first; i < 6; i++) {
    int k = i - first;
    if (cron_parse_field(&cron_fields[i], fs[k], fe[k], &masks[i], err, err_len)) return CRON_ERROR;
  }
  out->seconds = masks[CRON_SEC];
  out->minutes = masks[CRON_MIN];
  out->hours = (uint32_t)masks[CRON_HOUR];
  out->doms = (uint32_t)masks[CRON_DOM];
  out->months = (uint32_t)masks[CRON_MONTH];
  out->dows = (uint32_t)masks[CRON_DOW];
  int dom = CRON_DOM - first, dow = CRON_DOW - first;
  out->dom_star = fe[dom] - fs[dom] == 1 && fs[dom][0] == '*';
  out->dow_star = fe[dow] - fs[dow] == 1 && fs[dow][0] == '*';
  if (!cron_days_possible(out)) {
    memset(out, 0, sizeof(*out));
    return cron_error(err, err_len,
                      "never matches: no selected day-of-month exists in the selected months");
  }
  return CRON_OK;
}

int cron_parse(const char *expr, CronSpec *out, char *err, size_t err_len) {
  return cron_parse_n(expr, expr ? strlen(expr) : 0, out, err, err_len);
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
