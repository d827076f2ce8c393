-- results.sql — job results (ext/results.c is the manual).
--
--   honker_result_save(job_id, value, ttl_s) -> 1 (upsert; ttl_s <= 0: kept
--     forever); wakes 'r' with the job id, so a task handle's get() and
--     results.wait() return on the commit.
--   honker_result_get(job_id) -> value, or NULL (none, or expires_at <= now)
--   honker_result_sweep() -> expired results deleted

CREATE OR REPLACE FUNCTION honker_result_save(p_job_id bigint, p_value text, p_ttl_s bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_expires bigint;
BEGIN
  IF p_job_id IS NULL THEN PERFORM honker_check_int('honker_result_save', 'job_id', p_job_id, NULL); END IF;
  IF p_value IS NULL THEN PERFORM honker_check_text('honker_result_save', 'value', p_value); END IF;
  IF p_ttl_s IS NULL THEN PERFORM honker_check_int('honker_result_save', 'ttl_s', p_ttl_s, NULL); END IF;
  IF p_ttl_s > 0 THEN v_expires := honker_add_seconds('honker_result_save', 'ttl_s', v_now, p_ttl_s); END IF;
  INSERT INTO _honker_results (job_id, value, expires_at, created_at) VALUES (p_job_id, p_value, v_expires, v_now)
    ON CONFLICT (job_id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at;
  PERFORM honker_wake('r', p_job_id::text);
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_result_get(p_job_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE v text;
BEGIN
  PERFORM honker_check_int('honker_result_get', 'job_id', p_job_id, NULL);
  SELECT value INTO v FROM _honker_results WHERE job_id = p_job_id AND (expires_at IS NULL OR expires_at > honker_now());
  RETURN v;
END $$;

CREATE OR REPLACE FUNCTION honker_result_sweep() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  DELETE FROM _honker_results WHERE expires_at IS NOT NULL AND expires_at <= honker_now();
  GET DIAGNOSTICS v = ROW_COUNT;
  RETURN v;
END $$;
