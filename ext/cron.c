/*
** cron.c — the schedule expression parser: text to CronSpec (grammar in
** cron.h; used by scheduler.c; spec/sql.md "Scheduler"), and the same parse
** rendering the canonical text that honker 0.4 reads alike (cron_canonical_n).
** The next-boundary search is in cron_next.c.
**
** This file is pure C: it makes no sqlite3_* call and, unlike the other
** ext/ files, does not include util.h, so test/c/cron.test.c and
** fuzz/cron.c compile it (with cron_next.c) without SQLite.
**
** Invariants:
**   - parsing reads only [expr, expr + len) and never allocates; every
**     number is saturated while it is read, so huge values cannot overflow;
**   - a spec that cron_parse accepts matches at least one day in every
**     8 years (the rarest is Feb 29: cron_days_possible rejects the rest),
**     which is what lets cron_next_after's search stay bounded;
**   - a rejected expression always comes with a message, and its CronSpec
**     is left zeroed.
*/
#include "cron.h"
#include "cron_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* --- errors ------------------------------------------------------------------ */

int cron_error(char *err, size_t err_len, const char *fmt, ...) {
  if (err && err_len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return CRON_ERROR;
}

/* --- canonical text ---------------------------------------------------------- */

/* Where cron_canonical_n writes; parsing without one (NULL) renders nothing.
** len counts every byte asked for, so len >= cap means the text did not fit. */
typedef struct CronText {
  char *buf;
  size_t cap, len;
} CronText;

static void cron_put(CronText *t, const char *fmt, ...) CRON_PRINTF(2, 3);
static void cron_put(CronText *t, const char *fmt, ...) {
  if (!t) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(t->len < t->cap ? t->buf + t->len : 0, t->len < t->cap ? t->cap - t->len : 0,
                    fmt, ap);
  va_end(ap);
  if (n > 0) t->len += (size_t)n;
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

/* Render item [a, b]/step of field f so that honker 0.4 reads the same
** values: numbers only, Sunday as 0 (it has no 7), "n/step" as "n-b/step"
** (0.4 reads "n/step" as n alone), and a step it cannot hold (above
** 4294967295) as 60, which also selects a alone in every field. */
static void cron_put_item(CronText *t, const CronField *f, int star, int64_t a, int64_t b,
                          int64_t step, int has_step) {
  if (step > INT64_C(4294967295)) step = 60;
  if (star) {
    if (has_step) {
      cron_put(t, "*/%lld", (long long)step);
    } else {
      cron_put(t, "*");
    }
    return;
  }
  int sunday7 = 0; /* 7 (Sunday again) is among the values */
  if (f->names == cron_day_names && b == 7) {
    sunday7 = (7 - a) % step == 0;
    b = 6;
  }
  if (a > b) { /* the item was 7 alone */
    cron_put(t, "0");
    return;
  }
  cron_put(t, "%lld", (long long)a);
  if (b > a) cron_put(t, "-%lld", (long long)b);
  if (has_step && b > a) cron_put(t, "/%lld", (long long)step);
  if (sunday7 && a > 0) cron_put(t, ",0");
}

/* Parse one list item ("*", "n", "a-b", each with an optional "/step") of
** [s, e), set its values in *mask and render it into t (when not NULL). */
static int cron_parse_item(const CronField *f, const char *s, const char *e, uint64_t *mask,
                           CronText *t, char *err, size_t err_len) {
  char q[32];
  const char *p = s;
  int a, b, star = 0;
  int64_t step = 1;
  if (p == e) return cron_error(err, err_len, "%s field: empty list item", f->name);
  if (*p == '*') {
    star = 1;
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
  const char *slash = p < e && *p == '/' ? p : 0;
  if (slash) {
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
  cron_put_item(t, f, star, a, b, step, slash != 0);
  return CRON_OK;
}

/* Parse a whole field [s, e) (a comma list) into *mask; render it into t. */
static int cron_parse_field(const CronField *f, const char *s, const char *e, uint64_t *mask,
                            CronText *t, char *err, size_t err_len) {
  *mask = 0;
  for (;;) {
    const char *c = s;
    while (c < e && *c != ',')
      c++;
    if (cron_parse_item(f, s, c, mask, t, err, err_len)) return CRON_ERROR;
    if (c == e) return CRON_OK;
    cron_put(t, ",");
    s = c + 1;
  }
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
static int cron_parse_every(const char *s, const char *e, CronSpec *out, CronText *t, char *err,
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
  cron_put(t, "@every %lld%c", (long long)n, *u); /* 0.4 takes lowercase only */
  return CRON_OK;
}

/* cron_parse_n, rendering the canonical text into t (when not NULL). */
static int cron_parse_text(const char *expr, size_t len, CronSpec *out, CronText *t, char *err,
                           size_t err_len) {
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
      return cron_parse_every(w, end, out, t, err, err_len);
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
      const char *m = cron_macros[i].expr;
      return cron_parse_text(m, strlen(m), out, t, err, err_len); /* 0.4 has no macros */
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
    if (k > 0) cron_put(t, " ");
    if (cron_parse_field(&cron_fields[i], fs[k], fe[k], &masks[i], t, err, err_len)) {
      return CRON_ERROR;
    }
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

int cron_parse_n(const char *expr, size_t len, CronSpec *out, char *err, size_t err_len) {
  return cron_parse_text(expr, len, out, NULL, err, err_len);
}

int cron_canonical_n(const char *expr, size_t len, char *text, size_t text_len, char *err,
                     size_t err_len) {
  CronSpec spec;
  CronText t = {text, text_len, 0};
  if (text && text_len > 0) text[0] = 0;
  if (cron_parse_text(expr, len, &spec, &t, err, err_len) != CRON_OK) {
    if (text && text_len > 0) text[0] = 0;
    return CRON_ERROR;
  }
  if (t.len >= text_len) {
    if (text && text_len > 0) text[0] = 0;
    return cron_error(err, err_len, "the canonical text needs %zu bytes (got %zu)", t.len + 1,
                      text_len);
  }
  return CRON_OK;
}

int cron_parse(const char *expr, CronSpec *out, char *err, size_t err_len) {
  return cron_parse_n(expr, expr ? strlen(expr) : 0, out, err, err_len);
}
