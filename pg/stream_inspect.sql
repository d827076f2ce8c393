-- stream_inspect.sql — read-only views of every stream and its consumers
-- for operators (the dashboard; ext/stream_inspect.c is the manual).
--
--   honker_streams() -> JSON array by topic of {"topic","head","last_at","consumers"}
--   honker_stream_consumers() -> JSON array by topic then consumer of
--     {"topic","consumer","offset","head","lag"}, lag capped at 1,000,000.

CREATE OR REPLACE FUNCTION honker_streams() RETURNS text
LANGUAGE sql STABLE AS $$
  WITH names AS (
    SELECT DISTINCT topic FROM _honker_stream UNION SELECT DISTINCT topic FROM _honker_stream_consumers),
  s AS (
    SELECT n.topic,
      coalesce((SELECT max("offset") FROM _honker_stream WHERE topic = n.topic), 0) AS head,
      (SELECT created_at FROM _honker_stream WHERE topic = n.topic ORDER BY "offset" DESC LIMIT 1) AS last_at,
      (SELECT count(*) FROM _honker_stream_consumers WHERE topic = n.topic) AS consumers
    FROM names n)
  SELECT '[' || coalesce(string_agg('{"topic":' || honker_json_str(topic) || ',"head":' || head
      || ',"last_at":' || honker_json_int(last_at) || ',"consumers":' || consumers || '}', ','
      ORDER BY topic COLLATE "C"), '') || ']'
  FROM s
$$;

CREATE OR REPLACE FUNCTION honker_stream_consumers() RETURNS text
LANGUAGE sql STABLE AS $$
  WITH c AS (
    SELECT c.topic, c.name, c."offset",
      coalesce((SELECT max("offset") FROM _honker_stream WHERE topic = c.topic), 0) AS head,
      (SELECT count(*) FROM (SELECT 1 FROM _honker_stream WHERE topic = c.topic AND "offset" > c."offset"
         LIMIT 1000000) x) AS lag
    FROM _honker_stream_consumers c)
  SELECT '[' || coalesce(string_agg('{"topic":' || honker_json_str(topic) || ',"consumer":' || honker_json_str(name)
      || ',"offset":' || "offset" || ',"head":' || head || ',"lag":' || lag || '}', ','
      ORDER BY topic COLLATE "C", name COLLATE "C"), '') || ']'
  FROM c
$$;
