-- queue_claim.sql — handing jobs to workers: claim, when to claim next, the
-- expiry sweep (ext/queue_claim.c; its header is the manual).
--
-- The claim: one statement takes up to n lapsed claims (oldest lapse first,
-- through _honker_live_processing_deadline) and up to n due pending rows (best
-- first, through _honker_live_ready level by level: one seek finds the next
-- lower pending priority, one range scan takes its due rows and stops at its
-- first future row, so scheduled rows of a higher priority are never walked),
-- both FOR UPDATE SKIP LOCKED, merges them best first (priority DESC, run_at,
-- id) and claims the first n. _honker_live_ready is the only index of pending
-- rows (schema 3): with a second one on (queue, run_at) the planner, before
-- the first ANALYZE of a fast-growing table, read a burst through it and
-- sorted every due row on each claim (a 20,000-job drain ran 2x slower). Concurrent
-- claimers never wait on each other and never take the same row: a row one
-- of them locked is skipped by the others. Expired rows (expires_at <= now)
-- are skipped, left to honker_sweep_expired; lapsed claims without attempts
-- left move to _honker_dead ('max attempts exceeded') first. Before that, at
-- most once a second per session, the claims of registered workers whose
-- session is gone are expired (pg/lifeline.sql).
--
-- Differences from the SQLite claim: a pending row whose attempts reached
-- max_attempts (only raw SQL makes one) is not claimed and stays until
-- honker_cancel (SQLite buries it when its claim meets it). Rows a concurrent claimer holds are
-- skipped, so a claim may return fewer rows than are due while another
-- claim is running; the client claims again after each non-empty claim.

CREATE OR REPLACE FUNCTION honker_claim_batch(p_queue text, p_worker_id text, p_n bigint,
  p_visibility_timeout_s bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_until bigint;
  v_out text;
  v_checked text;
  v_buried bigint;
  v_lapsed boolean;
  v_queue_json text;
  v_worker_json text;
BEGIN
  IF p_queue IS NULL OR p_queue = '' THEN PERFORM honker_check_name('honker_claim_batch', 'queue', p_queue); END IF;
  IF p_worker_id IS NULL OR p_worker_id = '' OR honker_is_blank(p_worker_id) THEN
    PERFORM honker_check_new_name('honker_claim_batch', 'worker_id', p_worker_id);
  END IF;
  IF p_n IS NULL OR p_n < 0 THEN PERFORM honker_check_int('honker_claim_batch', 'n', p_n, 0); END IF;
  IF p_visibility_timeout_s IS NULL OR p_visibility_timeout_s < 1 THEN
    PERFORM honker_check_int('honker_claim_batch', 'visibility_timeout_s', p_visibility_timeout_s, 1);
  END IF;
  v_until := honker_add_seconds('honker_claim_batch', 'visibility_timeout_s', v_now, p_visibility_timeout_s);
  IF p_n = 0 THEN RETURN '[]'; END IF;
  -- The parts of each job's JSON that are the same for every job, made once.
  v_queue_json := ',"queue":' || honker_json_str(p_queue) || ',"payload":';
  v_worker_json := ',"worker_id":' || honker_json_str(p_worker_id) || ',"attempts":';

  -- Worker liveness: at most once a second per session (a read of _honker_workers).
  v_checked := current_setting('honker.rescue_checked_at', true);
  IF v_checked IS NULL OR v_checked = '' OR v_checked::bigint <> v_now THEN
    PERFORM set_config('honker.rescue_checked_at', v_now::text, false);
    IF EXISTS (SELECT 1 FROM _honker_workers) THEN PERFORM honker_workers_rescue(); END IF;
  END IF;

  -- Lapsed claims on their final attempt: dead (and counted, pg/history.sql).
  v_lapsed := EXISTS (SELECT 1 FROM _honker_live WHERE queue = p_queue AND state = 'processing' AND claim_expires_at < v_now);
  IF v_lapsed THEN
    SELECT count(*) INTO v_buried FROM (SELECT honker_bury(id, 'max attempts exceeded', v_now) FROM (
      SELECT id FROM _honker_live WHERE queue = p_queue AND state = 'processing' AND claim_expires_at < v_now
        AND attempts >= max_attempts AND (expires_at IS NULL OR expires_at > v_now)
      FOR UPDATE SKIP LOCKED) exhausted) b;
    PERFORM honker_history_count(p_queue, v_now, 0, 0, v_buried);
  END IF;

  WITH RECURSIVE levels(p) AS (
    SELECT (SELECT priority FROM _honker_live WHERE queue = p_queue AND state = 'pending'
      ORDER BY priority DESC LIMIT 1)
    UNION ALL
    SELECT (SELECT priority FROM _honker_live WHERE queue = p_queue AND state = 'pending' AND priority < levels.p
      ORDER BY priority DESC LIMIT 1) FROM levels WHERE levels.p IS NOT NULL),
  lapsed AS (  -- read only when the check above found a lapsed claim
    SELECT id, priority, run_at FROM _honker_live
    WHERE v_lapsed AND queue = p_queue AND state = 'processing' AND claim_expires_at < v_now
      AND attempts < max_attempts AND (expires_at IS NULL OR expires_at > v_now)
    ORDER BY claim_expires_at LIMIT p_n FOR UPDATE SKIP LOCKED),
  -- Levels are read highest first and each level's rows in claim order, so
  -- the first n rows out are the best n; only the rows read are locked.
  due AS (
    SELECT d.id, d.priority, d.run_at FROM levels CROSS JOIN LATERAL (
      SELECT id, priority, run_at FROM _honker_live
      WHERE queue = p_queue AND state = 'pending' AND priority = levels.p AND run_at <= v_now
        AND attempts < max_attempts AND (expires_at IS NULL OR expires_at > v_now)
      ORDER BY run_at, id LIMIT p_n FOR UPDATE SKIP LOCKED) d
    WHERE levels.p IS NOT NULL LIMIT p_n),
  pick AS (
    SELECT id FROM (SELECT * FROM lapsed UNION ALL SELECT * FROM due) c
    ORDER BY priority DESC, run_at, id LIMIT p_n),
  claimed AS (
    UPDATE _honker_live l SET state = 'processing', worker_id = p_worker_id, claim_expires_at = v_until,
      attempts = l.attempts + 1
    FROM pick WHERE l.id = pick.id
    RETURNING l.id, l.priority, l.run_at, l.payload, l.attempts)
  SELECT '[' || coalesce(string_agg('{"id":' || id || v_queue_json || honker_json_str(payload) || v_worker_json
      || attempts || ',"claim_expires_at":' || v_until || '}', ',' ORDER BY priority DESC, run_at, id), '') || ']'
    INTO v_out FROM claimed;
  RETURN v_out;
END $$;

CREATE OR REPLACE FUNCTION honker_queue_next_claim_at(p_queue text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_now bigint := honker_now();
  v_next bigint := 0;
  v_due boolean;
  v_future bigint;
  v_lapse bigint;
  v_at bigint;
BEGIN
  PERFORM honker_check_name('honker_queue_next_claim_at', 'queue', p_queue);
  -- The pending parts level by level, as the claim reads them.
  WITH RECURSIVE levels(p) AS (
    SELECT (SELECT priority FROM _honker_live WHERE queue = p_queue AND state = 'pending'
      ORDER BY priority DESC LIMIT 1)
    UNION ALL
    SELECT (SELECT priority FROM _honker_live WHERE queue = p_queue AND state = 'pending' AND priority < levels.p
      ORDER BY priority DESC LIMIT 1) FROM levels WHERE levels.p IS NOT NULL)
  SELECT
    -- A scalar subquery per level (a plain EXISTS became a hash join reading every due row).
    EXISTS (SELECT 1 FROM levels WHERE levels.p IS NOT NULL AND (SELECT true FROM _honker_live
      WHERE queue = p_queue AND state = 'pending' AND priority = levels.p AND run_at <= v_now
        AND attempts < max_attempts AND (expires_at IS NULL OR expires_at > v_now) LIMIT 1)),
    (SELECT min((SELECT run_at FROM _honker_live WHERE queue = p_queue AND state = 'pending'
      AND priority = levels.p AND run_at > v_now AND attempts < max_attempts
      AND (expires_at IS NULL OR expires_at > run_at) ORDER BY run_at LIMIT 1)) FROM levels WHERE levels.p IS NOT NULL)
    INTO v_due, v_future;
  IF v_due THEN v_next := v_now; END IF;
  SELECT claim_expires_at INTO v_lapse FROM _honker_live WHERE queue = p_queue AND state = 'processing'
    AND (expires_at IS NULL OR (expires_at > v_now AND expires_at - 1 > claim_expires_at)) -- no + 1: a bigint at its maximum
    ORDER BY claim_expires_at LIMIT 1;
  IF v_next = 0 THEN
    v_next := coalesce(v_future, 0);
    IF v_lapse IS NOT NULL THEN
      -- A claim that lapses at the time bound (or past it: a row written by hand, up to the largest
      -- bigint, which + 1 would overflow) gives the bound, not one second past it.
      v_at := CASE WHEN v_lapse < v_now THEN v_now WHEN v_lapse >= 253402300799 THEN 253402300799 ELSE v_lapse + 1 END;
      IF v_next = 0 OR v_at < v_next THEN v_next := v_at; END IF;
    END IF;
  END IF;
  -- Jobs in flight and registered workers: look once a second (pg/lifeline.sql).
  IF v_lapse IS NOT NULL AND (v_next = 0 OR v_next > v_now + 1) AND EXISTS (SELECT 1 FROM _honker_workers) THEN
    v_next := v_now + 1;
  END IF;
  RETURN least(v_next, 253402300799); -- no time past the bound, even from a row stored beyond it
END $$;

CREATE OR REPLACE FUNCTION honker_sweep_expired(p_queue text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_count integer;
BEGIN
  PERFORM honker_check_name('honker_sweep_expired', 'queue', p_queue);
  WITH gone AS (
    DELETE FROM _honker_live WHERE id IN (
      SELECT id FROM _honker_live WHERE queue = p_queue AND state = 'pending' AND expires_at <= v_now
      UNION ALL
      SELECT id FROM _honker_live WHERE queue = p_queue AND state = 'processing' AND claim_expires_at < v_now
        AND expires_at <= v_now)
    RETURNING *),
  buried AS (
    INSERT INTO _honker_dead (id, queue, payload, priority, run_at, max_attempts, attempts, last_error, created_at, died_at)
    SELECT id, queue, payload, priority, run_at, max_attempts, attempts, 'expired', created_at, v_now FROM gone
    RETURNING id)
  SELECT count(*) INTO v_count FROM (SELECT honker_wake('r', id::text) FROM buried) woken;
  PERFORM honker_history_count(p_queue, v_now, 0, 0, v_count);
  RETURN v_count;
END $$;
