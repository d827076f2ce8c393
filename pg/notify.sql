-- notify.sql — NOTIFY for honker: rows in _honker_notifications that a
-- listener reads by id (ext/notify.c is the manual), plus pg_notify so the
-- listener wakes on the commit.
--
--   notify(channel, payload) -> id
--   honker_notify_prune(older_than_s|NULL, max_keep|NULL) -> rows deleted
--   honker_notify_last_id() -> highest id or 0
--   honker_notify_read_since(channel, after_id, limit) -> JSON array of
--     {"id","channel","payload","created_at"} with id > after_id, ascending
--   honker_notify_channels() -> JSON array by channel of
--     {"channel","last_id","last_at"} (the newest notification's id and time)
--   honker_notify_recent(channel, limit) -> JSON array of the channel's
--     newest notifications, newest first, with honker_notify_read_since's keys
--
-- Commit order: a listener remembers the last id it read and asks for the
-- ones after it, so ids must become visible in increasing order. A sequence
-- alone does not give that in Postgres (a transaction that took id 10 may
-- commit after one that took 11), so notify takes a transaction advisory
-- lock per channel before it takes its id: the writers of one channel
-- commit one at a time, in id order, as SQLite's write lock orders them. A
-- transaction that notifies holds that channel's lock until it ends (keep
-- such transactions short; two transactions that notify two channels in
-- opposite orders can deadlock, and Postgres then aborts one of them).

CREATE OR REPLACE FUNCTION honker_order_lock(p_kind text, p_name text) RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(1752198764, hashtext(p_kind || ':' || p_name)) $$;

CREATE OR REPLACE FUNCTION notify(p_channel text, p_payload text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v_id bigint;
BEGIN
  IF p_channel IS NULL OR p_channel = '' OR honker_is_blank(p_channel) THEN PERFORM honker_check_new_name('notify', 'channel', p_channel); END IF;
  IF p_payload IS NULL THEN PERFORM honker_check_text('notify', 'payload', p_payload); END IF;
  PERFORM honker_order_lock('n', p_channel);
  INSERT INTO _honker_notifications (channel, payload, created_at) VALUES (p_channel, p_payload, honker_now()) RETURNING id INTO v_id;
  PERFORM honker_wake('n', p_channel);
  RETURN v_id;
END $$;

CREATE OR REPLACE FUNCTION honker_notify_prune(p_older_than_s bigint, p_max_keep bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_deleted bigint := 0;
  v_n bigint;
BEGIN
  IF p_older_than_s IS NOT NULL THEN PERFORM honker_check_int('honker_notify_prune', 'older_than_s', p_older_than_s, 0); END IF;
  IF p_max_keep IS NOT NULL THEN PERFORM honker_check_int('honker_notify_prune', 'max_keep', p_max_keep, 0); END IF;
  IF p_max_keep IS NOT NULL THEN
    DELETE FROM _honker_notifications WHERE id <= (SELECT id FROM _honker_notifications ORDER BY id DESC LIMIT 1 OFFSET p_max_keep);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_deleted := v_deleted + v_n;
  END IF;
  IF p_older_than_s IS NOT NULL THEN
    DELETE FROM _honker_notifications WHERE created_at <= honker_now() - p_older_than_s;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_deleted := v_deleted + v_n;
  END IF;
  RETURN v_deleted;
END $$;

CREATE OR REPLACE FUNCTION honker_notify_last_id() RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT coalesce(max(id), 0) FROM _honker_notifications $$;

CREATE OR REPLACE FUNCTION honker_notify_read_since(p_channel text, p_after_id bigint, p_limit bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE v text;
BEGIN
  PERFORM honker_check_name('honker_notify_read_since', 'channel', p_channel);
  PERFORM honker_check_int('honker_notify_read_since', 'after_id', p_after_id, 0);
  PERFORM honker_check_int('honker_notify_read_since', 'limit', p_limit, 0);
  SELECT '[' || coalesce(string_agg('{"id":' || id || ',"channel":' || honker_json_str(channel) || ',"payload":'
      || honker_json_str(payload) || ',"created_at":' || created_at || '}', ',' ORDER BY id), '') || ']' INTO v
    FROM (SELECT * FROM _honker_notifications WHERE channel = p_channel AND id > p_after_id ORDER BY id LIMIT p_limit) n;
  RETURN v;
END $$;

CREATE OR REPLACE FUNCTION honker_notify_channels() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '[' || coalesce(string_agg('{"channel":' || honker_json_str(n.channel) || ',"last_id":' || n.id
      || ',"last_at":' || n.created_at || '}', ',' ORDER BY n.channel COLLATE "C"), '') || ']'
  FROM (SELECT max(id) AS id FROM _honker_notifications GROUP BY channel) newest
  JOIN _honker_notifications n ON n.id = newest.id
$$;

CREATE OR REPLACE FUNCTION honker_notify_recent(p_channel text, p_limit bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE v text;
BEGIN
  PERFORM honker_check_name('honker_notify_recent', 'channel', p_channel);
  PERFORM honker_check_int('honker_notify_recent', 'limit', p_limit, 0);
  SELECT '[' || coalesce(string_agg('{"id":' || id || ',"channel":' || honker_json_str(channel) || ',"payload":'
      || honker_json_str(payload) || ',"created_at":' || created_at || '}', ',' ORDER BY id DESC), '') || ']' INTO v
    FROM (SELECT * FROM _honker_notifications WHERE channel = p_channel ORDER BY id DESC LIMIT p_limit) n;
  RETURN v;
END $$;
