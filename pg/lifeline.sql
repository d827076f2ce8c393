-- lifeline.sql — worker liveness (ext/lifeline.c, docs/sql.md "Worker
-- liveness"), with Postgres' own proof of life: a registered worker's session
-- holds a session-level advisory lock (key 1752198763, slot), which the
-- server releases when the session ends however it ends (the client process
-- SIGKILLed, its connection dropped, the backend terminated). Any session
-- tells a dead worker from a slow one by looking for that lock in pg_locks.
--
--   honker_worker_register(worker_id) -> slot
--     Takes a new slot (a number from _honker_worker_slot) and its lock, and
--     stores (worker_id, slot, pid, host, registered_at, token). The same id
--     again in the same session nests (same slot, depth + 1). Register on a
--     connection that lives as long as the worker: the TypeScript client uses
--     its LISTEN connection, and registers again after a reconnect.
--   honker_worker_unregister(worker_id) -> 1 when this session held it (the
--     last unregister deletes the row and releases the lock), else 0.
--   honker_workers_rescue() -> claims expired: for each row whose lock nobody
--     holds, the id's valid claims get claim_expires_at = now - 1 (unless a
--     live slot has the same id) and the row is deleted; their queues are
--     woken. honker_claim_batch runs it at most once a second per session.
--   honker_workers() -> JSON array of {"worker_id","slot","pid","host",
--     "registered_at","alive","claims"} by slot.

-- This session's token (random, set on first use): tells its rows from those of an
-- earlier session that had the same backend pid.
CREATE OR REPLACE FUNCTION honker_session_token() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v text := current_setting('honker.session_token', true);
BEGIN
  IF v IS NULL OR v = '' THEN
    v := (floor(random() * 9007199254740991))::bigint::text;
    PERFORM set_config('honker.session_token', v, false);
  END IF;
  RETURN v::bigint;
END $$;

CREATE OR REPLACE FUNCTION honker_worker_alive(p_slot bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 1752198763::oid
    AND objid = p_slot::oid AND objsubid = 2 AND granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
$$;

CREATE OR REPLACE FUNCTION honker_worker_register(p_worker_id text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_token bigint := honker_session_token();
  v_slot bigint;
BEGIN
  PERFORM honker_check_new_name('honker_worker_register', 'worker_id', p_worker_id);
  UPDATE _honker_workers SET depth = depth + 1
    WHERE worker_id = p_worker_id AND pid = pg_backend_pid() AND token = v_token RETURNING slot INTO v_slot;
  IF v_slot IS NOT NULL THEN RETURN v_slot; END IF;
  v_slot := nextval('_honker_worker_slot');
  PERFORM pg_advisory_lock(1752198763, v_slot::integer);
  INSERT INTO _honker_workers (worker_id, slot, pid, host, registered_at, token)
    VALUES (p_worker_id, v_slot, pg_backend_pid(), coalesce(host(inet_client_addr()), 'local'), honker_now(), v_token)
    ON CONFLICT (slot) DO UPDATE SET worker_id = excluded.worker_id, pid = excluded.pid, host = excluded.host,
      registered_at = excluded.registered_at, token = excluded.token, depth = 1;
  RETURN v_slot;
END $$;

CREATE OR REPLACE FUNCTION honker_worker_unregister(p_worker_id text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_row _honker_workers;
BEGIN
  PERFORM honker_check_name('honker_worker_unregister', 'worker_id', p_worker_id);
  SELECT * INTO v_row FROM _honker_workers
    WHERE worker_id = p_worker_id AND pid = pg_backend_pid() AND token = honker_session_token() FOR UPDATE;
  IF NOT FOUND THEN RETURN 0; END IF;
  IF v_row.depth > 1 THEN
    UPDATE _honker_workers SET depth = depth - 1 WHERE slot = v_row.slot;
  ELSE
    DELETE FROM _honker_workers WHERE slot = v_row.slot;
    PERFORM pg_advisory_unlock(1752198763, v_row.slot::integer);
  END IF;
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_workers_rescue() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_dead _honker_workers;
  v_count integer := 0;
  v_n integer;
  v_queue text;
BEGIN
  FOR v_dead IN SELECT * FROM _honker_workers w WHERE NOT honker_worker_alive(w.slot) FOR UPDATE SKIP LOCKED LOOP
    IF NOT EXISTS (SELECT 1 FROM _honker_workers w WHERE w.worker_id = v_dead.worker_id AND w.slot <> v_dead.slot
                   AND honker_worker_alive(w.slot)) THEN
      FOR v_queue IN
        UPDATE _honker_live SET claim_expires_at = v_now - 1
          WHERE worker_id = v_dead.worker_id AND state = 'processing' AND claim_expires_at >= v_now RETURNING queue
      LOOP
        v_count := v_count + 1;
        PERFORM honker_wake('q', v_queue);
      END LOOP;
    END IF;
    DELETE FROM _honker_workers WHERE slot = v_dead.slot;
  END LOOP;
  RETURN v_count;
END $$;

CREATE OR REPLACE FUNCTION honker_workers() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '[' || coalesce(string_agg('{"worker_id":' || honker_json_str(w.worker_id) || ',"slot":' || w.slot
    || ',"pid":' || w.pid || ',"host":' || honker_json_str(w.host) || ',"registered_at":' || w.registered_at
    || ',"alive":' || honker_worker_alive(w.slot)::text
    || ',"claims":' || (SELECT count(*) FROM _honker_live l WHERE l.worker_id = w.worker_id AND l.state = 'processing')
    || '}', ',' ORDER BY w.slot), '') || ']'
  FROM _honker_workers w
$$;
