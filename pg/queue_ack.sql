-- queue_ack.sql — what a worker does with a job it claimed: ack, retry, fail,
-- heartbeat, release (ext/queue_ack.c; its header is the manual).
--
-- Every function acts only on a valid claim (processing, worker_id the
-- caller's, claim_expires_at >= now); anything else is a 0 result, never an
-- error. Waking: retry (back to pending) and release wake 'q'; a job that
-- ends without an ack (fail, retry on the last attempt) wakes 'r' with its id
-- (honker_bury). An ack wakes nobody: the worker saves the task's result in
-- the same transaction (honker_result_save wakes 'r').
--
-- History (pg/history.sql): ack, ack_batch and ack_results count completed
-- jobs, retry with attempts left counts failed, fail and a final retry count
-- dead; one honker_history_count per queue per call, never per job.

CREATE OR REPLACE FUNCTION honker_ack(p_id bigint, p_worker_id text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_queue text;
BEGIN
  IF p_id IS NULL THEN PERFORM honker_check_int('honker_ack', 'id', p_id, NULL); END IF;
  IF p_worker_id IS NULL OR p_worker_id = '' THEN PERFORM honker_check_name('honker_ack', 'worker_id', p_worker_id); END IF;
  DELETE FROM _honker_live WHERE id = p_id AND worker_id = p_worker_id AND claim_expires_at >= v_now RETURNING queue INTO v_queue;
  IF v_queue IS NULL THEN RETURN 0; END IF;
  DELETE FROM _honker_job_errors WHERE job_id = p_id;
  PERFORM honker_history_count(v_queue, v_now, 1, 0, 0);
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_ack_batch(p_ids_json text, p_worker_id text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_json jsonb;
  v_ids bigint[];
  v_bad text;
  v_count integer;
  v_now bigint := honker_now();
  v_queues text[];
  v_counts bigint[];
BEGIN
  PERFORM honker_check_text('honker_ack_batch', 'ids_json', p_ids_json);
  PERFORM honker_check_name('honker_ack_batch', 'worker_id', p_worker_id);
  BEGIN
    v_json := p_ids_json::jsonb;  -- parsed once; only the parse needs this exception block
  EXCEPTION WHEN invalid_text_representation THEN
    v_bad := 'malformed JSON';
  END;
  IF v_bad IS NULL AND jsonb_typeof(v_json) <> 'array' THEN
    v_bad := 'a JSON ' || jsonb_typeof(v_json);
  ELSIF v_bad IS NULL THEN
    SELECT 'element ' || (n - 1) || ' of type ' || CASE WHEN jsonb_typeof(e) = 'number' THEN 'real' ELSE
        CASE jsonb_typeof(e) WHEN 'string' THEN 'text' WHEN 'boolean' THEN e::text ELSE jsonb_typeof(e) END END
      INTO v_bad FROM jsonb_array_elements(v_json) WITH ORDINALITY AS x(e, n)
      WHERE jsonb_typeof(e) <> 'number' OR e::text !~ '^-?[0-9]+$' ORDER BY n LIMIT 1;
  END IF;
  IF v_bad IS NOT NULL THEN
    PERFORM honker_raise('honker_ack_batch', 'ids_json must be a JSON array of integers (got ' || v_bad || ')');
  END IF;
  SELECT array_agg(e::text::bigint) INTO v_ids FROM jsonb_array_elements(v_json) e;
  WITH acked AS (
    DELETE FROM _honker_live WHERE id = ANY (v_ids) AND worker_id = p_worker_id AND claim_expires_at >= v_now
    RETURNING id, queue),
  forgot AS (DELETE FROM _honker_job_errors WHERE job_id IN (SELECT id FROM acked)),
  per_queue AS (SELECT queue, count(*) AS n FROM acked GROUP BY queue)
  SELECT array_agg(queue ORDER BY queue), array_agg(n ORDER BY queue), coalesce(sum(n), 0)
    INTO v_queues, v_counts, v_count FROM per_queue;
  PERFORM honker_history_count(q, v_now, n, 0, 0) FROM unnest(v_queues, v_counts) AS u(q, n);
  RETURN v_count;
END $$;

CREATE OR REPLACE FUNCTION honker_retry(p_id bigint, p_worker_id text, p_delay_s bigint, p_error text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_run_at bigint;
  v_row _honker_live;
BEGIN
  PERFORM honker_check_int('honker_retry', 'id', p_id, NULL);
  PERFORM honker_check_name('honker_retry', 'worker_id', p_worker_id);
  PERFORM honker_check_int('honker_retry', 'delay_s', p_delay_s, 0);
  PERFORM honker_check_text('honker_retry', 'error', p_error);
  v_run_at := honker_add_seconds('honker_retry', 'delay_s', v_now, p_delay_s);
  SELECT * INTO v_row FROM _honker_live WHERE id = p_id AND worker_id = p_worker_id AND state = 'processing'
    AND claim_expires_at >= v_now FOR UPDATE;
  IF NOT FOUND THEN RETURN 0; END IF;
  INSERT INTO _honker_job_errors (job_id, attempt, error, created_at) VALUES (p_id, v_row.attempts, p_error, v_now)
    ON CONFLICT (job_id, attempt) DO UPDATE SET error = excluded.error, created_at = excluded.created_at;
  IF v_row.attempts >= v_row.max_attempts THEN
    PERFORM honker_bury(p_id, p_error, v_now);
    PERFORM honker_history_count(v_row.queue, v_now, 0, 0, 1);
  ELSE
    UPDATE _honker_live SET state = 'pending', run_at = v_run_at, worker_id = NULL, claim_expires_at = NULL,
      last_error = p_error WHERE id = p_id;
    PERFORM honker_wake('q', v_row.queue);
    PERFORM honker_history_count(v_row.queue, v_now, 0, 1, 0);
  END IF;
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_fail(p_id bigint, p_worker_id text, p_error text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_attempts bigint;
  v_queue text;
BEGIN
  PERFORM honker_check_int('honker_fail', 'id', p_id, NULL);
  PERFORM honker_check_name('honker_fail', 'worker_id', p_worker_id);
  PERFORM honker_check_text('honker_fail', 'error', p_error);
  SELECT attempts, queue INTO v_attempts, v_queue FROM _honker_live WHERE id = p_id AND worker_id = p_worker_id AND state = 'processing'
    AND claim_expires_at >= v_now FOR UPDATE;
  IF NOT FOUND THEN RETURN 0; END IF;
  INSERT INTO _honker_job_errors (job_id, attempt, error, created_at) VALUES (p_id, v_attempts, p_error, v_now)
    ON CONFLICT (job_id, attempt) DO UPDATE SET error = excluded.error, created_at = excluded.created_at;
  PERFORM honker_bury(p_id, p_error, v_now);
  PERFORM honker_history_count(v_queue, v_now, 0, 0, 1);
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_heartbeat(p_id bigint, p_worker_id text, p_extend_s bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_until bigint;
BEGIN
  PERFORM honker_check_int('honker_heartbeat', 'id', p_id, NULL);
  PERFORM honker_check_name('honker_heartbeat', 'worker_id', p_worker_id);
  PERFORM honker_check_int('honker_heartbeat', 'extend_s', p_extend_s, 1);
  v_until := honker_add_seconds('honker_heartbeat', 'extend_s', v_now, p_extend_s);
  UPDATE _honker_live SET claim_expires_at = v_until WHERE id = p_id AND worker_id = p_worker_id
    AND state = 'processing' AND claim_expires_at >= v_now;
  RETURN CASE WHEN FOUND THEN 1 ELSE 0 END;
END $$;

CREATE OR REPLACE FUNCTION honker_release(p_id bigint, p_worker_id text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE v_queue text;
BEGIN
  PERFORM honker_check_int('honker_release', 'id', p_id, NULL);
  PERFORM honker_check_name('honker_release', 'worker_id', p_worker_id);
  UPDATE _honker_live SET state = 'pending', worker_id = NULL, claim_expires_at = NULL,
    attempts = greatest(attempts - 1, 0)
    WHERE id = p_id AND worker_id = p_worker_id AND state = 'processing' AND claim_expires_at >= honker_now()
    RETURNING queue INTO v_queue;
  IF v_queue IS NULL THEN RETURN 0; END IF;
  PERFORM honker_wake('q', v_queue);
  RETURN 1;
END $$;

-- Ours, for the TypeScript worker's group commit: for each i, ack job
-- p_ids[i] (valid claim of p_worker_id only) and save p_values[i] as its
-- result with ttl p_ttl_s[i] (<= 0: kept forever), in one statement; returns
-- the ids acked (a job whose claim was lost gets neither). Wakes 'r' for each.
CREATE OR REPLACE FUNCTION honker_ack_results(p_worker_id text, p_ids bigint[], p_values text[], p_ttl_s bigint[]) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_acked bigint[];
  v_queues text[];
  v_counts bigint[];
BEGIN
  PERFORM honker_check_name('honker_ack_results', 'worker_id', p_worker_id);
  IF cardinality(p_ids) IS DISTINCT FROM cardinality(p_values) OR cardinality(p_ids) IS DISTINCT FROM cardinality(p_ttl_s) THEN
    PERFORM honker_raise('honker_ack_results', 'ids, values and ttl_s must have the same length');
  END IF;
  WITH acked AS (
    DELETE FROM _honker_live l USING unnest(p_ids, p_values, p_ttl_s) AS u(id, value, ttl)
    WHERE l.id = u.id AND l.worker_id = p_worker_id AND l.claim_expires_at >= v_now
    RETURNING l.id, l.queue, u.value, u.ttl),
  forgot AS (DELETE FROM _honker_job_errors WHERE job_id IN (SELECT id FROM acked)),
  saved AS (
    INSERT INTO _honker_results (job_id, value, expires_at, created_at)
    SELECT id, value, CASE WHEN ttl > 0 THEN honker_add_seconds('honker_ack_results', 'ttl_s', v_now, ttl) END, v_now FROM acked
    ON CONFLICT (job_id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
    RETURNING job_id),
  per_queue AS (SELECT queue, count(*) AS n FROM acked GROUP BY queue)
  SELECT (SELECT coalesce(array_agg(job_id), '{}') FROM saved),
         (SELECT array_agg(queue ORDER BY queue) FROM per_queue), (SELECT array_agg(n ORDER BY queue) FROM per_queue)
    INTO v_acked, v_queues, v_counts;
  PERFORM honker_history_count(q, v_now, n, 0, 0) FROM unnest(v_queues, v_counts) AS u(q, n);
  PERFORM honker_wake('r', id::text) FROM unnest(v_acked) AS id;
  RETURN v_acked;
END $$;
