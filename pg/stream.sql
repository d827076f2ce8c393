-- stream.sql — durable, replayable event streams (ext/stream.c is the manual).
--
--   honker_stream_publish(topic, key|NULL, payload) -> offset
--   honker_stream_read_since(topic, offset, limit) -> JSON array of
--     {"offset","topic","key","payload","created_at"} with offset > the given one
--   honker_stream_save_offset(consumer, topic, offset) -> 1 stored / 0 (never back)
--   honker_stream_get_offset(consumer, topic) -> offset or 0
--
-- Offsets are global and, per topic, visible in increasing order: publish
-- takes the topic's transaction advisory lock (honker_order_lock, see
-- notify.sql) before its offset, so a consumer that resumes after offset N
-- never misses an event that commits later with a smaller offset.

CREATE OR REPLACE FUNCTION honker_stream_publish(p_topic text, p_key text, p_payload text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v_offset bigint;
BEGIN
  IF p_topic IS NULL OR p_topic = '' OR honker_is_blank(p_topic) THEN PERFORM honker_check_new_name('honker_stream_publish', 'topic', p_topic); END IF;
  IF p_payload IS NULL THEN PERFORM honker_check_text('honker_stream_publish', 'payload', p_payload); END IF;
  PERFORM honker_order_lock('s', p_topic);
  INSERT INTO _honker_stream (topic, key, payload, created_at) VALUES (p_topic, p_key, p_payload, honker_now())
    RETURNING "offset" INTO v_offset;
  PERFORM honker_wake('s', p_topic);
  RETURN v_offset;
END $$;

CREATE OR REPLACE FUNCTION honker_stream_read_since(p_topic text, p_offset bigint, p_limit bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE v text;
BEGIN
  PERFORM honker_check_name('honker_stream_read_since', 'topic', p_topic);
  PERFORM honker_check_int('honker_stream_read_since', 'offset', p_offset, 0);
  PERFORM honker_check_int('honker_stream_read_since', 'limit', p_limit, 0);
  SELECT '[' || coalesce(string_agg('{"offset":' || "offset" || ',"topic":' || honker_json_str(topic) || ',"key":'
      || honker_json_str(key) || ',"payload":' || honker_json_str(payload) || ',"created_at":' || created_at || '}',
      ',' ORDER BY "offset"), '') || ']' INTO v
    FROM (SELECT * FROM _honker_stream WHERE topic = p_topic AND "offset" > p_offset ORDER BY "offset" LIMIT p_limit) s;
  RETURN v;
END $$;

CREATE OR REPLACE FUNCTION honker_stream_save_offset(p_consumer text, p_topic text, p_offset bigint) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM honker_check_new_name('honker_stream_save_offset', 'consumer', p_consumer);
  PERFORM honker_check_name('honker_stream_save_offset', 'topic', p_topic);
  PERFORM honker_check_int('honker_stream_save_offset', 'offset', p_offset, 0);
  INSERT INTO _honker_stream_consumers (name, topic, "offset") VALUES (p_consumer, p_topic, p_offset)
    ON CONFLICT (name, topic) DO UPDATE SET "offset" = excluded."offset"
    WHERE excluded."offset" > _honker_stream_consumers."offset";
  RETURN CASE WHEN FOUND THEN 1 ELSE 0 END;
END $$;

CREATE OR REPLACE FUNCTION honker_stream_get_offset(p_consumer text, p_topic text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE v bigint;
BEGIN
  PERFORM honker_check_name('honker_stream_get_offset', 'consumer', p_consumer);
  PERFORM honker_check_name('honker_stream_get_offset', 'topic', p_topic);
  SELECT "offset" INTO v FROM _honker_stream_consumers WHERE name = p_consumer AND topic = p_topic;
  RETURN coalesce(v, 0);
END $$;
