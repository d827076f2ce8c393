-- queue_inspect.sql — read-only views of every queue for operators (the
-- `honker` command line; ext/queue_inspect.c is the manual).
--
--   honker_queues_stats() -> JSON array, by queue name, of
--     {"queue","pending","scheduled","processing","dead","oldest_pending_at"}
--   honker_job_list(queue, state|NULL, limit [, offset]) -> JSON array of jobs
--     (NULL: every live job by id; 'pending' in claim order; 'scheduled';
--     'processing'; 'dead' newest first with honker_dead_list's keys), the
--     first offset (default 0) skipped: the dashboard's pages.
--   honker_job_errors(id) -> JSON array of {"attempt","error","created_at"}
--     by attempt ('[]' for a job without errors or an unknown id).

CREATE OR REPLACE FUNCTION honker_queues_stats() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_now bigint := honker_now();
  v text;
BEGIN
  WITH names AS (
    SELECT DISTINCT queue FROM _honker_live WHERE state IN ('pending', 'processing')
    UNION SELECT DISTINCT queue FROM _honker_dead),
  stats AS (
    SELECT n.queue,
      (SELECT count(*) FROM _honker_live WHERE queue = n.queue AND state = 'pending' AND run_at <= v_now) AS pending,
      (SELECT count(*) FROM _honker_live WHERE queue = n.queue AND state = 'pending' AND run_at > v_now) AS scheduled,
      (SELECT count(*) FROM _honker_live WHERE queue = n.queue AND state = 'processing') AS processing,
      (SELECT count(*) FROM _honker_dead WHERE queue = n.queue) AS dead,
      (SELECT min(run_at) FROM _honker_live WHERE queue = n.queue AND state = 'pending' AND run_at <= v_now) AS oldest
    FROM names n)
  SELECT '[' || coalesce(string_agg('{"queue":' || honker_json_str(queue) || ',"pending":' || pending
      || ',"scheduled":' || scheduled || ',"processing":' || processing || ',"dead":' || dead
      || ',"oldest_pending_at":' || honker_json_int(oldest) || '}', ',' ORDER BY queue COLLATE "C"), '') || ']'
    INTO v FROM stats;
  RETURN v;
END $$;

-- The 3-argument version of honker 0.1.0's first Postgres install: replaced by the one with offset.
DROP FUNCTION IF EXISTS honker_job_list(text, text, bigint);

CREATE OR REPLACE FUNCTION honker_job_list(p_queue text, p_state text, p_limit bigint, p_offset bigint DEFAULT 0) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_now bigint := honker_now();
  v text;
BEGIN
  PERFORM honker_check_name('honker_job_list', 'queue', p_queue);
  PERFORM honker_check_int('honker_job_list', 'limit', p_limit, 0);
  PERFORM honker_check_int('honker_job_list', 'offset', p_offset, 0);
  IF p_state IS NULL THEN
    SELECT string_agg(honker_live_json(l), ',' ORDER BY l.id) INTO v FROM (
      SELECT * FROM _honker_live WHERE queue = p_queue AND state IN ('pending', 'processing') ORDER BY id LIMIT p_limit OFFSET p_offset) l;
  ELSIF p_state = 'pending' THEN
    SELECT string_agg(honker_live_json(l), ',' ORDER BY l.priority DESC, l.run_at, l.id) INTO v FROM (
      SELECT * FROM _honker_live WHERE queue = p_queue AND state = 'pending' AND run_at <= v_now
      ORDER BY priority DESC, run_at, id LIMIT p_limit OFFSET p_offset) l;
  ELSIF p_state = 'scheduled' THEN
    SELECT string_agg(honker_live_json(l), ',' ORDER BY l.run_at, l.id) INTO v FROM (
      SELECT * FROM _honker_live WHERE queue = p_queue AND state = 'pending' AND run_at > v_now
      ORDER BY run_at, id LIMIT p_limit OFFSET p_offset) l;
  ELSIF p_state = 'processing' THEN
    SELECT string_agg(honker_live_json(l), ',' ORDER BY l.claim_expires_at, l.id) INTO v FROM (
      SELECT * FROM _honker_live WHERE queue = p_queue AND state = 'processing' ORDER BY claim_expires_at, id LIMIT p_limit OFFSET p_offset) l;
  ELSIF p_state = 'dead' THEN
    SELECT string_agg(honker_dead_json(d), ',' ORDER BY d.died_at DESC, d.id DESC) INTO v FROM (
      SELECT * FROM _honker_dead WHERE queue = p_queue ORDER BY died_at DESC, id DESC LIMIT p_limit OFFSET p_offset) d;
  ELSE
    PERFORM honker_raise('honker_job_list', 'state must be one of pending, scheduled, processing, dead or NULL (got '
      || honker_describe(p_state) || ')');
  END IF;
  RETURN '[' || coalesce(v, '') || ']';
END $$;

CREATE OR REPLACE FUNCTION honker_job_errors(p_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE v text;
BEGIN
  PERFORM honker_check_int('honker_job_errors', 'id', p_id, NULL);
  SELECT '[' || coalesce(string_agg('{"attempt":' || attempt || ',"error":' || honker_json_str(error)
      || ',"created_at":' || created_at || '}', ',' ORDER BY attempt), '') || ']' INTO v
    FROM _honker_job_errors WHERE job_id = p_id;
  RETURN v;
END $$;
