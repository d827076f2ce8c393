-- util.sql — the helpers every other file of pg/ uses (ext/util.c, ext/json.c):
-- the clock, argument errors, JSON text and the wake notification.
--
--   honker_now() -> bigint
--     Unix seconds of clock_timestamp(), the time of the call, not now() (the
--     transaction's start): a claim, a lock or a heartbeat made late in a long
--     transaction must not use a stale clock. Each function reads it once per
--     call, as the SQLite functions read unixepoch() once per call.
--
--   honker_raise(fn, message)  raises "<fn>: <message>" (SQLSTATE 22023,
--     invalid_parameter_value), the one way every function of pg/ fails on a
--     bad argument: "honker_claim_batch: n must be >= 0 (got -1)".
--
--   honker_json_str(text) -> text
--     A JSON string literal byte for byte as the SQLite extension writes it
--     (ext/json.c): '"', '\' and control characters escaped, \n \r \t short,
--     every other byte below 0x20 as \u00XX (Postgres' own to_json writes \b
--     and \f, which SQLite's writes \u0008 and \u000c); NULL gives null.
--
--   honker_wake(kind, name)
--     pg_notify('honker:<kind>:<name>', '') — a channel per kind and name (a
--     channel name longer than Postgres' 63 bytes is 'honker:<kind>#<md5 of
--     name>'): every function that makes work or a notification calls it, so
--     a session that LISTENs on that channel learns of the commit (pg_notify
--     is sent on commit, never on rollback, and repeated within one
--     transaction is sent once). A channel per key lets the server send each
--     listening process only what it waits for. Kinds: q (a queue has new
--     claimable work), n (notify channel), s (stream topic), r (a result was
--     saved or a job ended without an ack: name is the job id), l (a lock was
--     released), c (the schedule changed: name 'schedule').
--     The TypeScript client (src/postgres/watcher.ts) LISTENs on the channels
--     its waiters need, on one connection per process.
--     Each call also notifies 'honker:*', the channel of waiters that watch
--     everything (the dashboard's live pages: names it has not seen yet, such
--     as a new queue, must wake it too). It costs no extra commit-time lock:
--     it rides in transactions that notify anyway, and Postgres sends it once
--     per transaction however many calls made it. A claim, an ack without a
--     result and a heartbeat notify nothing, so they do not wake it.

CREATE OR REPLACE FUNCTION honker_now() RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL SAFE AS
$$ SELECT floor(extract(epoch FROM clock_timestamp()))::bigint $$;

CREATE OR REPLACE FUNCTION honker_raise(p_fn text, p_message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = p_fn || ': ' || p_message, ERRCODE = '22023';
END $$;

-- "(got ...)" for a text argument: TEXT 'abc' (40 characters at most, then ...) or NULL.
CREATE OR REPLACE FUNCTION honker_describe(p_value text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_value IS NULL THEN 'NULL'
    ELSE 'TEXT ''' || left(p_value, 40) || CASE WHEN length(p_value) > 40 THEN '...' ELSE '' END || '''' END
$$;

-- Blank = only whitespace as JavaScript's \s sees it (ext/util.c blank_char_len).
CREATE OR REPLACE FUNCTION honker_is_blank(p_value text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT p_value ~ ('^[' || chr(9) || '-' || chr(13) || ' ' || chr(160) || chr(5760) || chr(8192) || '-' || chr(8202)
                    || chr(8232) || chr(8233) || chr(8239) || chr(8287) || chr(12288) || chr(65279) || ']*$')
$$;

-- Argument checks (cold paths call them only after a cheap IF found a problem,
-- or for arguments read once per call).
CREATE OR REPLACE FUNCTION honker_check_name(p_fn text, p_name text, p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_value IS NULL OR p_value = '' THEN
    PERFORM honker_raise(p_fn, p_name || ' must be non-empty TEXT (got ' || honker_describe(p_value) || ')');
  END IF;
  RETURN p_value;
END $$;

CREATE OR REPLACE FUNCTION honker_check_new_name(p_fn text, p_name text, p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_value IS NULL OR p_value = '' THEN
    PERFORM honker_raise(p_fn, p_name || ' must be non-empty TEXT (got ' || honker_describe(p_value) || ')');
  END IF;
  IF honker_is_blank(p_value) THEN
    PERFORM honker_raise(p_fn, p_name || ' must not be blank (got ' || honker_describe(p_value) || ')');
  END IF;
  RETURN p_value;
END $$;

CREATE OR REPLACE FUNCTION honker_check_text(p_fn text, p_name text, p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_value IS NULL THEN PERFORM honker_raise(p_fn, p_name || ' must be TEXT (got NULL)'); END IF;
  RETURN p_value;
END $$;

-- An integer >= p_min (NULL: "must be an integer (got NULL)"; p_min NULL: no bound).
CREATE OR REPLACE FUNCTION honker_check_int(p_fn text, p_name text, p_value bigint, p_min bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_value IS NULL THEN PERFORM honker_raise(p_fn, p_name || ' must be an integer (got NULL)'); END IF;
  IF p_min IS NOT NULL AND p_value < p_min THEN
    PERFORM honker_raise(p_fn, p_name || ' must be >= ' || p_min || ' (got ' || p_value || ')');
  END IF;
  RETURN p_value;
END $$;

CREATE OR REPLACE FUNCTION honker_check_max(p_fn text, p_name text, p_value bigint, p_max bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_value > p_max THEN
    PERFORM honker_raise(p_fn, p_name || ' must be <= ' || p_max || ' (got ' || p_value || ')');
  END IF;
  RETURN p_value;
END $$;

-- p_at + p_seconds, which must end by 9999-12-31T23:59:59Z (253402300799).
CREATE OR REPLACE FUNCTION honker_add_seconds(p_fn text, p_name text, p_at bigint, p_seconds bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_seconds > 0 AND (p_at > 253402300799 OR p_seconds > 253402300799 - p_at) THEN
    PERFORM honker_raise(p_fn, p_name || ' must end by 9999-12-31T23:59:59Z (got ' || p_seconds || ')');
  END IF;
  RETURN p_at + p_seconds;
END $$;

CREATE OR REPLACE FUNCTION honker_check_time(p_fn text, p_name text, p_value bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_value > 253402300799 THEN
    PERFORM honker_raise(p_fn, p_name || ' must be unix seconds up to 253402300799, i.e. 9999-12-31T23:59:59Z (got '
      || p_value || CASE WHEN p_value / 1000 <= 253402300799 THEN ', which looks like milliseconds: divide by 1000' ELSE '' END || ')');
  END IF;
  RETURN p_value;
END $$;

CREATE OR REPLACE FUNCTION honker_json_str_slow(p_value text) RETURNS text
LANGUAGE sql STABLE AS $$
  -- Split at \b and \f, escape the pieces with to_json, join with SQLite's spelling.
  SELECT '"' || string_agg(
           CASE WHEN piece = chr(8) THEN '\u0008' WHEN piece = chr(12) THEN '\u000c'
                ELSE substr(to_json(piece)::text, 2, length(to_json(piece)::text) - 2) END, '' ORDER BY n) || '"'
  FROM regexp_matches(p_value, '([\x08\x0c]|[^\x08\x0c]+)', 'g') WITH ORDINALITY AS m(parts, n),
       LATERAL (SELECT parts[1] AS piece) p
$$;

-- STABLE like to_json, not IMMUTABLE: Postgres inlines a SQL function only when its body is no
-- more volatile than declared, and inlined it costs no function call per value (nor do the
-- row-to-JSON functions of queue.sql that use it).
CREATE OR REPLACE FUNCTION honker_json_str(p_value text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_value IS NULL THEN 'null'
    WHEN strpos(p_value, chr(8)) > 0 OR strpos(p_value, chr(12)) > 0 THEN honker_json_str_slow(p_value)
    ELSE to_json(p_value)::text END
$$;

-- A bigint as JSON (NULL: null).
CREATE OR REPLACE FUNCTION honker_json_int(p_value bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(p_value::text, 'null') $$;

-- The wake channel of a name (the client computes the same: src/postgres/watcher.ts wakeKey).
CREATE OR REPLACE FUNCTION honker_wake_key(p_kind text, p_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN octet_length(p_name) + octet_length(p_kind) + 8 > 63 THEN 'honker:' || p_kind || '#' || md5(p_name)
    ELSE 'honker:' || p_kind || ':' || p_name END
$$;

CREATE OR REPLACE FUNCTION honker_wake(p_kind text, p_name text) RETURNS void
LANGUAGE sql AS $$ SELECT pg_notify(honker_wake_key(p_kind, p_name), ''), pg_notify('honker:*', '') $$;
