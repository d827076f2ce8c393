-- queue.sql — enqueue, inspect, cancel, dead letters (ext/queue.c). The
-- claim path is in queue_claim.sql, ack/retry/fail/heartbeat in
-- queue_ack.sql, the operators' views in queue_inspect.sql.
--
-- Same names, arguments, results, JSON keys and error texts as the SQLite
-- functions (the manual of each is the header of ext/queue.c); what differs:
--   - "now" is honker_now() (clock_timestamp, read once per call);
--   - every function that makes claimable work (enqueue, enqueue_unique,
--     dead_requeue, run_now) calls honker_wake('q', queue), so waiting clients
--     wake on the commit; cancel wakes 'r' (a task handle waiting on that job);
--   - enqueue_unique serializes racers on the unique index itself
--     (INSERT … ON CONFLICT DO NOTHING, then the holder's id).
--
-- Invariants (with queue_claim.sql and queue_ack.sql): a pending row has
-- worker_id and claim_expires_at NULL, a processing row has both; a job id is
-- in _honker_live or _honker_dead, never both (each move is one statement or
-- one function call, atomic in the caller's transaction).

CREATE OR REPLACE FUNCTION honker_enqueue(p_queue text, p_payload text, p_run_at bigint, p_delay bigint,
  p_priority bigint, p_max_attempts bigint, p_expires bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_run_at bigint;
  v_id bigint;
BEGIN
  IF p_queue IS NULL OR p_queue = '' OR honker_is_blank(p_queue) THEN PERFORM honker_check_new_name('honker_enqueue', 'queue', p_queue); END IF;
  IF p_payload IS NULL THEN PERFORM honker_check_text('honker_enqueue', 'payload', p_payload); END IF;
  IF p_run_at > 253402300799 THEN PERFORM honker_check_time('honker_enqueue', 'run_at', p_run_at); END IF;
  IF p_priority IS NULL THEN PERFORM honker_check_int('honker_enqueue', 'priority', p_priority, NULL); END IF;
  IF p_max_attempts IS NULL OR p_max_attempts < 1 THEN PERFORM honker_check_int('honker_enqueue', 'max_attempts', p_max_attempts, 1); END IF;
  IF p_delay IS NOT NULL THEN
    PERFORM honker_check_int('honker_enqueue', 'delay', p_delay, 0);
    v_run_at := honker_add_seconds('honker_enqueue', 'delay', v_now, p_delay);
  ELSE
    v_run_at := coalesce(p_run_at, v_now);
  END IF;
  IF p_expires IS NOT NULL AND (p_expires < 1 OR p_expires > 253402300799 - v_now) THEN
    PERFORM honker_check_int('honker_enqueue', 'expires', p_expires, 1);
    PERFORM honker_add_seconds('honker_enqueue', 'expires', v_now, p_expires);
  END IF;
  INSERT INTO _honker_live (queue, payload, run_at, priority, max_attempts, expires_at, created_at)
    VALUES (p_queue, p_payload, v_run_at, p_priority, p_max_attempts, v_now + p_expires, v_now)
    RETURNING id INTO v_id;
  PERFORM honker_wake('q', p_queue);
  RETURN v_id;
END $$;

CREATE OR REPLACE FUNCTION honker_enqueue_unique(p_queue text, p_key text, p_payload text, p_run_at bigint,
  p_delay bigint, p_priority bigint, p_max_attempts bigint, p_expires bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_run_at bigint;
  v_id bigint;
BEGIN
  PERFORM honker_check_new_name('honker_enqueue_unique', 'queue', p_queue);
  PERFORM honker_check_new_name('honker_enqueue_unique', 'key', p_key);
  PERFORM honker_check_text('honker_enqueue_unique', 'payload', p_payload);
  IF p_run_at IS NOT NULL THEN PERFORM honker_check_time('honker_enqueue_unique', 'run_at', p_run_at); END IF;
  PERFORM honker_check_int('honker_enqueue_unique', 'priority', p_priority, NULL);
  PERFORM honker_check_int('honker_enqueue_unique', 'max_attempts', p_max_attempts, 1);
  IF p_delay IS NOT NULL THEN
    PERFORM honker_check_int('honker_enqueue_unique', 'delay', p_delay, 0);
    v_run_at := honker_add_seconds('honker_enqueue_unique', 'delay', v_now, p_delay);
  ELSE
    v_run_at := coalesce(p_run_at, v_now);
  END IF;
  IF p_expires IS NOT NULL THEN
    PERFORM honker_check_int('honker_enqueue_unique', 'expires', p_expires, 1);
    PERFORM honker_add_seconds('honker_enqueue_unique', 'expires', v_now, p_expires);
  END IF;
  LOOP
    INSERT INTO _honker_live (queue, payload, run_at, priority, max_attempts, expires_at, created_at, unique_key)
      VALUES (p_queue, p_payload, v_run_at, p_priority, p_max_attempts, v_now + p_expires, v_now, p_key)
      ON CONFLICT (queue, unique_key) WHERE unique_key IS NOT NULL DO NOTHING
      RETURNING id INTO v_id;
    IF v_id IS NOT NULL THEN
      PERFORM honker_wake('q', p_queue);
      RETURN v_id;
    END IF;
    SELECT id INTO v_id FROM _honker_live WHERE queue = p_queue AND unique_key = p_key;
    IF v_id IS NOT NULL THEN RETURN v_id; END IF;
    -- The holder went away between the two statements: insert again.
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION honker_cancel(p_id bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE v_found boolean;
BEGIN
  PERFORM honker_check_int('honker_cancel', 'id', p_id, NULL);
  DELETE FROM _honker_live WHERE id = p_id;
  v_found := FOUND;
  IF v_found THEN
    DELETE FROM _honker_job_errors WHERE job_id = p_id;
    PERFORM honker_wake('r', p_id::text);
  END IF;
  RETURN CASE WHEN v_found THEN 1 ELSE 0 END;
END $$;

-- The dashboard's "retry now": a pending job waiting for a later run_at becomes due (1), else 0.
CREATE OR REPLACE FUNCTION honker_run_now(p_id bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_queue text;
BEGIN
  PERFORM honker_check_int('honker_run_now', 'id', p_id, NULL);
  UPDATE _honker_live SET run_at = v_now WHERE id = p_id AND state = 'pending' AND run_at > v_now RETURNING queue INTO v_queue;
  IF v_queue IS NULL THEN RETURN 0; END IF;
  PERFORM honker_wake('q', v_queue);
  RETURN 1;
END $$;

-- A live row as honker_get_job's JSON object.
CREATE OR REPLACE FUNCTION honker_live_json(l _honker_live) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '{"id":' || l.id || ',"queue":' || honker_json_str(l.queue) || ',"payload":' || honker_json_str(l.payload)
    || ',"state":' || honker_json_str(l.state) || ',"priority":' || l.priority || ',"run_at":' || l.run_at
    || ',"worker_id":' || honker_json_str(l.worker_id) || ',"claim_expires_at":' || honker_json_int(l.claim_expires_at)
    || ',"attempts":' || l.attempts || ',"max_attempts":' || l.max_attempts || ',"created_at":' || l.created_at
    || ',"expires_at":' || honker_json_int(l.expires_at) || ',"last_error":' || honker_json_str(l.last_error) || '}'
$$;

-- A dead row as honker_dead_get's JSON object.
CREATE OR REPLACE FUNCTION honker_dead_json(d _honker_dead) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '{"id":' || d.id || ',"queue":' || honker_json_str(d.queue) || ',"payload":' || honker_json_str(d.payload)
    || ',"priority":' || d.priority || ',"run_at":' || d.run_at || ',"attempts":' || d.attempts
    || ',"max_attempts":' || d.max_attempts || ',"last_error":' || honker_json_str(d.last_error)
    || ',"created_at":' || d.created_at || ',"died_at":' || d.died_at || '}'
$$;

CREATE OR REPLACE FUNCTION honker_get_job(p_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE v text;
BEGIN
  PERFORM honker_check_int('honker_get_job', 'id', p_id, NULL);
  SELECT honker_live_json(l) INTO v FROM _honker_live l WHERE id = p_id;
  RETURN coalesce(v, '');
END $$;

CREATE OR REPLACE FUNCTION honker_dead_get(p_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE v text;
BEGIN
  PERFORM honker_check_int('honker_dead_get', 'id', p_id, NULL);
  SELECT honker_dead_json(d) INTO v FROM _honker_dead d WHERE id = p_id;
  RETURN coalesce(v, '');
END $$;

CREATE OR REPLACE FUNCTION honker_queue_stats(p_queue text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_now bigint := honker_now();
  v text;
BEGIN
  PERFORM honker_check_name('honker_queue_stats', 'queue', p_queue);
  SELECT '{"pending":' || (SELECT count(*) FROM _honker_live WHERE queue = p_queue AND state = 'pending' AND run_at <= v_now)
    || ',"scheduled":' || (SELECT count(*) FROM _honker_live WHERE queue = p_queue AND state = 'pending' AND run_at > v_now)
    || ',"processing":' || (SELECT count(*) FROM _honker_live WHERE queue = p_queue AND state = 'processing')
    || ',"dead":' || (SELECT count(*) FROM _honker_dead WHERE queue = p_queue) || '}' INTO v;
  RETURN v;
END $$;

CREATE OR REPLACE FUNCTION honker_dead_requeue(p_id bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_queue text;
BEGIN
  PERFORM honker_check_int('honker_dead_requeue', 'id', p_id, NULL);
  WITH gone AS (DELETE FROM _honker_dead WHERE id = p_id RETURNING *)
  INSERT INTO _honker_live (id, queue, payload, state, priority, run_at, attempts, max_attempts, created_at, last_error)
    SELECT id, queue, payload, 'pending', priority, v_now, 0, max_attempts, created_at, last_error FROM gone
    RETURNING queue INTO v_queue;
  IF v_queue IS NULL THEN RETURN 0; END IF;
  PERFORM honker_wake('q', v_queue);
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_dead_purge(p_queue text, p_older_than_s bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_cutoff bigint;
  v_count integer;
BEGIN
  PERFORM honker_check_name('honker_dead_purge', 'queue', p_queue);
  PERFORM honker_check_int('honker_dead_purge', 'older_than_s', p_older_than_s, 0);
  v_cutoff := honker_now() - p_older_than_s;
  DELETE FROM _honker_job_errors WHERE job_id IN (SELECT id FROM _honker_dead WHERE queue = p_queue AND died_at <= v_cutoff);
  DELETE FROM _honker_dead WHERE queue = p_queue AND died_at <= v_cutoff;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END $$;

CREATE OR REPLACE FUNCTION honker_dead_list(p_queue text, p_limit bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE v text;
BEGIN
  PERFORM honker_check_name('honker_dead_list', 'queue', p_queue);
  PERFORM honker_check_int('honker_dead_list', 'limit', p_limit, 0);
  SELECT '[' || coalesce(string_agg(honker_dead_json(d), ',' ORDER BY d.died_at DESC, d.id DESC), '') || ']' INTO v
    FROM (SELECT * FROM _honker_dead WHERE queue = p_queue ORDER BY died_at DESC, id DESC LIMIT p_limit) d;
  RETURN v;
END $$;

-- Move live job p_id to _honker_dead with p_error (inside the caller's function); wakes 'r'.
CREATE OR REPLACE FUNCTION honker_bury(p_id bigint, p_error text, p_now bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  WITH gone AS (DELETE FROM _honker_live WHERE id = p_id RETURNING *)
  INSERT INTO _honker_dead (id, queue, payload, priority, run_at, max_attempts, attempts, last_error, created_at, died_at)
    SELECT id, queue, payload, priority, run_at, max_attempts, attempts, p_error, created_at, p_now FROM gone;
  PERFORM honker_wake('r', p_id::text);
END $$;
