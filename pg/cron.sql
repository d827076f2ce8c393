-- cron.sql — schedule expressions in PL/pgSQL: a line-by-line port of
-- ext/cron.c (parse) and ext/cron_next.c (next boundary), so both engines
-- accept the same expressions, word the same errors and compute the same
-- boundaries (test/postgres/cron.pg.test.ts compares them with the SQLite
-- extension's honker_cron_next_after on the same inputs).
--
-- Grammar (ext/cron.h): 5 or 6 fields, * lists ranges steps (n/step = n to
-- the maximum), month and day names, 7 = Sunday, the macros @yearly
-- @annually @monthly @weekly @daily @midnight @hourly, and @every <n><s|m|h|d>
-- (multiples of the period since the Unix epoch). Vixie rule: when both
-- day-of-month and day-of-week are restricted (neither is exactly "*"), a day
-- matching EITHER fires. The expression is read as bytes (convert_to UTF8),
-- as the C code reads it, so positions and quoted input in messages agree.
--
-- Time zone: the session's honker.time_zone setting when set, else its
-- TimeZone, where the SQLite extension uses its process's local zone. The
-- TypeScript client sets honker.time_zone to its process's zone (TZ) in the
-- statements that compute boundaries, so a Node process sees the same
-- boundaries on both engines. Daylight saving as in cron_next.c: a wall time that does
-- not exist fires at the first instant after the gap; an ambiguous one at its
-- first occurrence only.
--
-- A spec is a bigint[9]: {every_s, seconds, minutes, hours, doms, months,
-- dows, dom_star, dow_star} (bit v of a mask set: value v matches).
--
--   honker_cron_parse(expr) -> (spec, err): spec NULL and err the message when invalid
--   honker_cron_next(spec, from_unix) -> the first boundary after from_unix
--   honker_cron_next_after(expr, from_unix) -> bigint (SQL surface, spec/sql.md)
--   honker_cron_error(expr) -> NULL or the parser's message (SQL surface, docs/sql.md)

-- Printable ASCII of the first 24 bytes of b[s, s+n), '?' for any other byte, '...' when cut.
CREATE OR REPLACE FUNCTION honker_cron_quote(b bytea, s integer, n integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  out text := '';
  c integer;
BEGIN
  FOR i IN 0 .. least(n, 24) - 1 LOOP
    c := get_byte(b, s + i);
    out := out || CASE WHEN c >= 32 AND c < 127 THEN chr(c) ELSE '?' END;
  END LOOP;
  IF n > 24 THEN out := out || '...'; END IF;
  RETURN out;
END $$;

-- b[s, s+n) lowercased, for comparing words (non-ASCII bytes as '?').
CREATE OR REPLACE FUNCTION honker_cron_word(b bytea, s integer, n integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  out text := '';
  c integer;
BEGIN
  FOR i IN 0 .. n - 1 LOOP
    c := get_byte(b, s + i);
    IF c >= 65 AND c <= 90 THEN c := c + 32; END IF;
    out := out || CASE WHEN c >= 32 AND c < 127 THEN chr(c) ELSE '?' END;
  END LOOP;
  RETURN out;
END $$;

CREATE OR REPLACE FUNCTION honker_cron_is_blank(c integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT c = 32 OR (c >= 9 AND c <= 13) $$;

-- One value (number or name) of field f at b[p, e): (v, p) or err. Fields:
-- 0 second, 1 minute, 2 hour, 3 day-of-month, 4 month, 5 day-of-week.
CREATE OR REPLACE FUNCTION honker_cron_value(f integer, b bytea, INOUT p integer, e integer, OUT v integer, OUT err text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  names constant text[] := ARRAY['second', 'minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
  los constant integer[] := ARRAY[0, 0, 0, 1, 1, 0];
  his constant integer[] := ARRAY[59, 59, 23, 31, 12, 7];
  months constant text[] := ARRAY['jan','feb','mar','apr','may','jun','jul','aug','sep','oct','nov','dec'];
  days constant text[] := ARRAY['sun','mon','tue','wed','thu','fri','sat'];
  s integer := p;
  c integer;
  n bigint := 0;
  w text;
BEGIN
  c := CASE WHEN s < e THEN get_byte(b, s) ELSE -1 END;
  IF c >= 48 AND c <= 57 THEN
    WHILE s < e AND get_byte(b, s) BETWEEN 48 AND 57 LOOP
      n := least(n * 10 + (get_byte(b, s) - 48), 1000000000000);
      s := s + 1;
    END LOOP;
    IF n < los[f + 1] OR n > his[f + 1] THEN
      err := format('%s field: %s is out of range %s-%s', names[f + 1], honker_cron_quote(b, p, s - p), los[f + 1], his[f + 1]);
      RETURN;
    END IF;
    p := s;
    v := n;
    RETURN;
  END IF;
  IF (c >= 65 AND c <= 90) OR (c >= 97 AND c <= 122) THEN
    WHILE s < e AND ((get_byte(b, s) BETWEEN 65 AND 90) OR (get_byte(b, s) BETWEEN 97 AND 122)) LOOP s := s + 1; END LOOP;
    w := honker_cron_word(b, p, s - p);
    IF f = 4 AND array_position(months, w) IS NOT NULL THEN
      v := array_position(months, w);
      p := s;
      RETURN;
    END IF;
    IF f = 5 AND array_position(days, w) IS NOT NULL THEN
      v := array_position(days, w) - 1;
      p := s;
      RETURN;
    END IF;
    IF f IN (4, 5) THEN
      err := format('%s field: unknown name ''%s''', names[f + 1], honker_cron_quote(b, p, s - p));
    ELSE
      err := format('%s field: ''%s'' is not a number', names[f + 1], honker_cron_quote(b, p, s - p));
    END IF;
    RETURN;
  END IF;
  IF s < e THEN
    err := format('%s field: unexpected ''%s''', names[f + 1], honker_cron_quote(b, s, 1));
  ELSE
    err := format('%s field: missing a value', names[f + 1]);
  END IF;
END $$;

-- One list item of field f, b[s, e), OR-ed into mask.
CREATE OR REPLACE FUNCTION honker_cron_item(f integer, b bytea, s integer, e integer, INOUT mask bigint, OUT err text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  names constant text[] := ARRAY['second', 'minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
  los constant integer[] := ARRAY[0, 0, 0, 1, 1, 0];
  star_his constant integer[] := ARRAY[59, 59, 23, 31, 12, 6];
  p integer := s;
  a integer;
  z integer;
  d integer;
  step bigint := 1;
  r record;
  v bigint;
BEGIN
  IF p = e THEN err := format('%s field: empty list item', names[f + 1]); RETURN; END IF;
  IF get_byte(b, p) = 42 THEN  -- '*'
    p := p + 1;
    a := los[f + 1];
    z := star_his[f + 1];
  ELSE
    r := honker_cron_value(f, b, p, e);
    IF r.err IS NOT NULL THEN err := r.err; RETURN; END IF;
    p := r.p;
    a := r.v;
    z := a;
    IF p < e AND get_byte(b, p) = 45 THEN  -- '-'
      r := honker_cron_value(f, b, p + 1, e);
      IF r.err IS NOT NULL THEN err := r.err; RETURN; END IF;
      p := r.p;
      z := r.v;
      IF z < a THEN err := format('%s field: range %s-%s is reversed', names[f + 1], a, z); RETURN; END IF;
    ELSIF p < e AND get_byte(b, p) = 47 THEN  -- n/step is n-max/step
      z := greatest(star_his[f + 1], a);
    END IF;
  END IF;
  IF p < e AND get_byte(b, p) = 47 THEN
    p := p + 1;
    d := p;
    step := 0;
    WHILE p < e AND get_byte(b, p) BETWEEN 48 AND 57 LOOP
      step := least(step * 10 + (get_byte(b, p) - 48), 1000000000000);
      p := p + 1;
    END LOOP;
    IF p = d THEN
      err := format('%s field: step must be a number (got ''%s'')', names[f + 1], honker_cron_quote(b, d, e - d));
      RETURN;
    END IF;
    IF step < 1 THEN err := format('%s field: step must be >= 1 (got 0)', names[f + 1]); RETURN; END IF;
  END IF;
  IF p <> e THEN
    err := format('%s field: cannot parse ''%s''', names[f + 1], honker_cron_quote(b, s, e - s));
    RETURN;
  END IF;
  v := a;
  WHILE v <= z LOOP
    mask := mask | (1::bigint << (CASE WHEN v = 7 AND f = 5 THEN 0 ELSE v END)::integer);
    v := v + step;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION honker_cron_days_in_month(y bigint, m integer) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN m = 2 AND ((y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0) THEN 29
    ELSE (ARRAY[31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[m] END
$$;

-- @every <n><unit> from b[s, e).
CREATE OR REPLACE FUNCTION honker_cron_every(b bytea, s integer, e integer, OUT spec bigint[], OUT err text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  p integer;
  n bigint := 0;
  c integer;
  unit bigint;
BEGIN
  WHILE s < e AND honker_cron_is_blank(get_byte(b, s)) LOOP s := s + 1; END LOOP;
  WHILE e > s AND honker_cron_is_blank(get_byte(b, e - 1)) LOOP e := e - 1; END LOOP;
  p := s;
  WHILE p < e AND get_byte(b, p) BETWEEN 48 AND 57 LOOP
    n := least(n * 10 + (get_byte(b, p) - 48), 1000000000000);
    p := p + 1;
  END LOOP;
  IF p = s OR p = e THEN
    err := format('@every: expected <n><s|m|h|d> (got ''%s'')', honker_cron_quote(b, s, e - s));
    RETURN;
  END IF;
  c := get_byte(b, p);
  IF c >= 65 AND c <= 90 THEN c := c + 32; END IF;
  unit := CASE WHEN e - p <> 1 THEN NULL WHEN c = 115 THEN 1 WHEN c = 109 THEN 60 WHEN c = 104 THEN 3600 WHEN c = 100 THEN 86400 END;
  IF unit IS NULL THEN
    err := format('@every: unknown unit ''%s'' (expected s, m, h or d)', honker_cron_quote(b, p, e - p));
    RETURN;
  END IF;
  IF n < 1 THEN err := '@every: n must be >= 1 (got 0)'; RETURN; END IF;
  IF n > (36600::bigint * 86400) / unit THEN
    err := format('@every: period must be at most 36600d (got ''%s'')', honker_cron_quote(b, s, e - s));
    RETURN;
  END IF;
  spec := ARRAY[n * unit, 0, 0, 0, 0, 0, 0, 0, 0];
END $$;

CREATE OR REPLACE FUNCTION honker_cron_parse(p_expr text, OUT spec bigint[], OUT err text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  macros constant text[] := ARRAY['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
  macro_exprs constant text[] := ARRAY['0 0 1 1 *', '0 0 1 1 *', '0 0 1 * *', '0 0 * * 0', '0 0 * * *', '0 0 * * *', '0 * * * *'];
  b bytea := convert_to(coalesce(p_expr, ''), 'UTF8');
  len integer := length(b);
  s integer := 0;
  w integer;
  rest integer;
  k integer;
  fs integer[] := '{}';
  fe integer[] := '{}';
  n integer := 0;
  p integer;
  t integer;
  first integer;
  masks bigint[] := ARRAY[1, 0, 0, 0, 0, 0];
  r record;
  dom_star boolean;
  dow_star boolean;
  possible boolean := false;
BEGIN
  WHILE s < len AND honker_cron_is_blank(get_byte(b, s)) LOOP s := s + 1; END LOOP;
  IF s < len AND get_byte(b, s) = 64 THEN  -- '@'
    w := s;
    WHILE w < len AND NOT honker_cron_is_blank(get_byte(b, w)) AND NOT (get_byte(b, w) BETWEEN 48 AND 57) LOOP w := w + 1; END LOOP;
    IF honker_cron_word(b, s, w - s) = '@every' THEN
      SELECT * INTO spec, err FROM honker_cron_every(b, w, len);
      RETURN;
    END IF;
    WHILE w < len AND NOT honker_cron_is_blank(get_byte(b, w)) LOOP w := w + 1; END LOOP;
    k := array_position(macros, honker_cron_word(b, s, w - s));
    IF k IS NOT NULL THEN
      rest := w;
      WHILE rest < len AND honker_cron_is_blank(get_byte(b, rest)) LOOP rest := rest + 1; END LOOP;
      IF rest <> len THEN
        err := format('macro %s takes no arguments (got ''%s'')', macros[k], honker_cron_quote(b, rest, len - rest));
        RETURN;
      END IF;
      SELECT * INTO spec, err FROM honker_cron_parse(macro_exprs[k]);
      RETURN;
    END IF;
    err := format('unknown macro %s', honker_cron_quote(b, s, w - s));
    RETURN;
  END IF;

  p := s;
  WHILE p < len LOOP
    WHILE p < len AND honker_cron_is_blank(get_byte(b, p)) LOOP p := p + 1; END LOOP;
    EXIT WHEN p = len;
    t := p;
    WHILE p < len AND NOT honker_cron_is_blank(get_byte(b, p)) LOOP p := p + 1; END LOOP;
    IF n < 6 THEN
      fs := fs || t;
      fe := fe || p;
    END IF;
    n := n + 1;
  END LOOP;
  IF n <> 5 AND n <> 6 THEN err := format('expected 5 or 6 fields (got %s)', n); RETURN; END IF;

  first := CASE WHEN n = 6 THEN 0 ELSE 1 END;
  FOR i IN first .. 5 LOOP
    masks[i + 1] := 0;
    p := fs[i - first + 1];
    LOOP
      t := p;
      WHILE t < fe[i - first + 1] AND get_byte(b, t) <> 44 LOOP t := t + 1; END LOOP;  -- ','
      r := honker_cron_item(i, b, p, t, masks[i + 1]);
      IF r.err IS NOT NULL THEN err := r.err; RETURN; END IF;
      masks[i + 1] := r.mask;
      EXIT WHEN t = fe[i - first + 1];
      p := t + 1;
    END LOOP;
  END LOOP;
  dom_star := fe[4 - first] - fs[4 - first] = 1 AND get_byte(b, fs[4 - first]) = 42;
  dow_star := fe[6 - first] - fs[6 - first] = 1 AND get_byte(b, fs[6 - first]) = 42;
  -- cron_days_possible: Feb counts 29 days (a spec for Feb 29 fires in leap years).
  IF NOT dom_star AND NOT dow_star THEN
    possible := masks[6] <> 0;
  ELSE
    <<months>>
    FOR m IN 1 .. 12 LOOP
      CONTINUE WHEN (masks[5] >> m) & 1 = 0;
      FOR d IN 1 .. CASE WHEN m = 2 THEN 29 ELSE honker_cron_days_in_month(2001, m) END LOOP
        IF (masks[4] >> d) & 1 = 1 AND (dow_star OR masks[6] <> 0) THEN possible := true; EXIT months; END IF;
      END LOOP;
    END LOOP;
  END IF;
  IF NOT possible THEN
    err := 'never matches: no selected day-of-month exists in the selected months';
    RETURN;
  END IF;
  spec := ARRAY[0, masks[1], masks[2], masks[3], masks[4], masks[5], masks[6],
                CASE WHEN dom_star THEN 1 ELSE 0 END, CASE WHEN dow_star THEN 1 ELSE 0 END];
END $$;

-- Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
CREATE OR REPLACE FUNCTION honker_cron_days_from_civil(y bigint, m integer, d integer) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE era bigint; yoe bigint; doy bigint; doe bigint;
BEGIN
  y := y - CASE WHEN m <= 2 THEN 1 ELSE 0 END;
  era := (CASE WHEN y >= 0 THEN y ELSE y - 399 END) / 400;
  yoe := y - era * 400;
  doy := (153 * (m + CASE WHEN m > 2 THEN -3 ELSE 9 END) + 2) / 5 + d - 1;
  doe := yoe * 365 + yoe / 4 - yoe / 100 + doy;
  RETURN era * 146097 + doe - 719468;
END $$;

-- The zone cron reads: honker.time_zone when the session set it, else TimeZone.
CREATE OR REPLACE FUNCTION honker_cron_zone() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('honker.time_zone', true), ''), current_setting('TimeZone'))
$$;

-- Local wall clock minus UTC at instant u, in seconds.
CREATE OR REPLACE FUNCTION honker_cron_offset(u bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT extract(epoch FROM (to_timestamp(u) AT TIME ZONE honker_cron_zone()))::bigint - u
$$;

-- The Unix time of wall time n (naive seconds): first occurrence when
-- ambiguous, the first instant after the gap when it does not exist.
CREATE OR REPLACE FUNCTION honker_cron_unix_of_naive(n bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  o1 bigint := honker_cron_offset(n - 86400);
  o2 bigint := honker_cron_offset(n + 86400);
  ua bigint := n - o1;
  ub bigint := n - o2;
  best bigint;
  lo bigint;
  hi bigint;
  mid bigint;
BEGIN
  IF honker_cron_offset(ua) = o1 THEN best := ua; END IF;
  IF o2 <> o1 AND honker_cron_offset(ub) = o2 AND (best IS NULL OR ub < best) THEN best := ub; END IF;
  IF best IS NOT NULL THEN RETURN best; END IF;
  lo := least(ua, ub) - 1;
  hi := greatest(ua, ub) + 1;
  IF lo + honker_cron_offset(lo) > n THEN RETURN hi; END IF;
  WHILE hi - lo > 1 LOOP
    mid := lo + (hi - lo) / 2;
    IF mid + honker_cron_offset(mid) > n THEN hi := mid; ELSE lo := mid; END IF;
  END LOOP;
  RETURN hi;
END $$;

CREATE OR REPLACE FUNCTION honker_cron_next(spec bigint[], from_unix bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  secs bigint := spec[2]; mins bigint := spec[3]; hours bigint := spec[4];
  doms bigint := spec[5]; months bigint := spec[6]; dows bigint := spec[7];
  dom_star boolean := spec[8] = 1; dow_star boolean := spec[9] = 1;
  naive bigint; days bigint; rem bigint;
  z bigint; era bigint; doe bigint; yoe bigint; doy bigint; mp bigint;
  y bigint; mon integer; day integer; hour integer; mi integer; sec integer;
  cap bigint; v integer; u bigint; wd bigint; dom_ok boolean; dow_ok boolean;
  steps integer := 0;
BEGIN
  IF from_unix < 0 OR from_unix > 253402300799 THEN
    RAISE EXCEPTION 'from_unix must be between 0 and 253402300799 (got %)', from_unix;
  END IF;
  IF spec[1] > 0 THEN RETURN (from_unix / spec[1] + 1) * spec[1]; END IF;
  naive := from_unix + honker_cron_offset(from_unix) + 1;
  days := naive / 86400;
  rem := naive % 86400;
  IF rem < 0 THEN rem := rem + 86400; days := days - 1; END IF;
  -- civil_from_days
  z := days + 719468;
  era := (CASE WHEN z >= 0 THEN z ELSE z - 146096 END) / 146097;
  doe := z - era * 146097;
  yoe := (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy := doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp := (5 * doy + 2) / 153;
  day := doy - (153 * mp + 2) / 5 + 1;
  mon := CASE WHEN mp < 10 THEN mp + 3 ELSE mp - 9 END;
  y := yoe + era * 400 + CASE WHEN mon <= 2 THEN 1 ELSE 0 END;
  hour := rem / 3600;
  mi := rem / 60 % 60;
  sec := rem % 60;
  cap := y + 100;
  WHILE steps < 2000000 AND y <= cap LOOP
    steps := steps + 1;
    IF (months >> mon) & 1 = 0 THEN
      v := NULL;
      FOR i IN mon + 1 .. 12 LOOP IF (months >> i) & 1 = 1 THEN v := i; EXIT; END IF; END LOOP;
      IF v IS NULL THEN
        y := y + 1;
        FOR i IN 1 .. 12 LOOP IF (months >> i) & 1 = 1 THEN v := i; EXIT; END IF; END LOOP;
      END IF;
      mon := v; day := 1; hour := 0; mi := 0; sec := 0;
      CONTINUE;
    END IF;
    wd := (honker_cron_days_from_civil(y, mon, day) + 4) % 7;
    IF wd < 0 THEN wd := wd + 7; END IF;
    dom_ok := (doms >> day) & 1 = 1;
    dow_ok := (dows >> wd::integer) & 1 = 1;
    -- Vixie cron: both day fields restricted -> either matches; else both must.
    IF NOT (CASE WHEN NOT dom_star AND NOT dow_star THEN dom_ok OR dow_ok ELSE dom_ok AND dow_ok END) THEN
      hour := 0; mi := 0; sec := 0; day := day + 1;
      IF day > honker_cron_days_in_month(y, mon) THEN day := 1; mon := mon + 1; END IF;
      IF mon > 12 THEN mon := 1; y := y + 1; END IF;
      CONTINUE;
    END IF;
    IF (hours >> hour) & 1 = 0 THEN
      v := NULL;
      FOR i IN hour + 1 .. 23 LOOP IF (hours >> i) & 1 = 1 THEN v := i; EXIT; END IF; END LOOP;
      mi := 0; sec := 0;
      IF v IS NULL THEN
        hour := 0; day := day + 1;
        IF day > honker_cron_days_in_month(y, mon) THEN day := 1; mon := mon + 1; END IF;
        IF mon > 12 THEN mon := 1; y := y + 1; END IF;
      ELSE
        hour := v;
      END IF;
      CONTINUE;
    END IF;
    IF (mins >> mi) & 1 = 0 THEN
      v := NULL;
      FOR i IN mi + 1 .. 59 LOOP IF (mins >> i) & 1 = 1 THEN v := i; EXIT; END IF; END LOOP;
      sec := 0;
      IF v IS NULL THEN
        mi := 0; hour := hour + 1;
        IF hour > 23 THEN hour := 0; day := day + 1; END IF;
        IF day > honker_cron_days_in_month(y, mon) THEN day := 1; mon := mon + 1; END IF;
        IF mon > 12 THEN mon := 1; y := y + 1; END IF;
      ELSE
        mi := v;
      END IF;
      CONTINUE;
    END IF;
    IF (secs >> sec) & 1 = 0 THEN
      v := NULL;
      FOR i IN sec + 1 .. 59 LOOP IF (secs >> i) & 1 = 1 THEN v := i; EXIT; END IF; END LOOP;
      IF v IS NULL THEN
        sec := 0; mi := mi + 1;
        IF mi > 59 THEN mi := 0; hour := hour + 1; END IF;
        IF hour > 23 THEN hour := 0; day := day + 1; END IF;
        IF day > honker_cron_days_in_month(y, mon) THEN day := 1; mon := mon + 1; END IF;
        IF mon > 12 THEN mon := 1; y := y + 1; END IF;
      ELSE
        sec := v;
      END IF;
      CONTINUE;
    END IF;
    u := honker_cron_unix_of_naive(honker_cron_days_from_civil(y, mon, day) * 86400 + hour * 3600 + mi * 60 + sec);
    IF u > from_unix THEN RETURN u; END IF;
    -- A repeated wall time already seen (fall back): keep looking.
    sec := sec + 1;
    IF sec > 59 THEN sec := 0; mi := mi + 1; END IF;
    IF mi > 59 THEN mi := 0; hour := hour + 1; END IF;
    IF hour > 23 THEN hour := 0; day := day + 1; END IF;
    IF day > honker_cron_days_in_month(y, mon) THEN day := 1; mon := mon + 1; END IF;
    IF mon > 12 THEN mon := 1; y := y + 1; END IF;
  END LOOP;
  RAISE EXCEPTION 'no matching time within 100 years after %', from_unix;
END $$;

CREATE OR REPLACE FUNCTION honker_cron_next_after(p_expr text, p_from_unix bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE r record;
BEGIN
  PERFORM honker_check_text('honker_cron_next_after', 'expr', p_expr);
  PERFORM honker_check_int('honker_cron_next_after', 'from_unix', p_from_unix, 0);
  PERFORM honker_check_max('honker_cron_next_after', 'from_unix', p_from_unix, 253402300799);
  r := honker_cron_parse(p_expr);
  IF r.err IS NOT NULL THEN PERFORM honker_raise('honker_cron_next_after', 'expr is invalid: ' || r.err); END IF;
  RETURN honker_cron_next(r.spec, p_from_unix);
END $$;

CREATE OR REPLACE FUNCTION honker_cron_error(p_expr text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM honker_check_text('honker_cron_error', 'expr', p_expr);
  RETURN (honker_cron_parse(p_expr)).err;
END $$;
