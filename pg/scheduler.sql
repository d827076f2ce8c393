-- scheduler.sql — periodic tasks: _honker_scheduler_tasks around cron.sql
-- (ext/scheduler.c is the manual: same arguments, results and rules).
--
--   honker_scheduler_register(name, queue, expr, payload, priority, expires_s|NULL [, max_attempts]) -> 1
--   honker_scheduler_unregister(name) -> 1/0
--   honker_scheduler_pause(name) / honker_scheduler_resume(name) -> 1/0
--   honker_scheduler_list() -> JSON array of {"name","queue","cron_expr","payload",
--     "priority","expires_s","next_fire_at","enabled","max_attempts"} by name
--   honker_scheduler_update(name, expr|NULL, payload|NULL, priority|NULL,
--     expires_s|NULL, touch_expires [, max_attempts|NULL, touch_max_attempts]) -> 1/0
--   honker_scheduler_tick(now) -> JSON array of {"name","queue","fire_at","job_id"}
--   honker_scheduler_soonest() -> min next_fire_at of enabled tasks, or 0
--
-- A change to the schedule (register, update, resume, unregister) wakes 'c'
-- so a leader waiting for the old soonest boundary looks again; a tick wakes
-- 'q' for each queue it enqueued on. Two tickers at the same now never fire a
-- boundary twice: tick locks each due row (FOR UPDATE) and advances
-- next_fire_at with a compare-and-set on the value it read. A task with no
-- boundary left by 9999-12-31T23:59:59Z stops there (enabled = 0); register,
-- update and resume refuse such a schedule.
--
-- One difference from SQLite, on purpose: cron_expr is stored as given. The
-- extension stores a canonical text (@daily as 0 0 * * *) so honker 0.4's
-- ticker can parse it in a mixed fleet; 0.4 never ran on Postgres, so no
-- such reader exists here, and both texts fire at the same boundaries.

-- The next boundary of spec after now; one past 9999-12-31T23:59:59Z could not be stored, so it is an error.
CREATE OR REPLACE FUNCTION honker_scheduler_next_after_now(p_fn text, p_spec bigint[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_next bigint := honker_cron_next(p_spec, honker_now());
BEGIN
  IF v_next > 253402300799 THEN PERFORM honker_raise(p_fn, 'the schedule has no boundary by 9999-12-31T23:59:59Z'); END IF;
  RETURN v_next;
END $$;

CREATE OR REPLACE FUNCTION honker_scheduler_register(p_name text, p_queue text, p_expr text, p_payload text,
  p_priority bigint, p_expires_s bigint, p_max_attempts bigint DEFAULT 3) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_next bigint;
BEGIN
  PERFORM honker_check_new_name('honker_scheduler_register', 'name', p_name);
  PERFORM honker_check_new_name('honker_scheduler_register', 'queue', p_queue);
  PERFORM honker_check_text('honker_scheduler_register', 'expr', p_expr);
  PERFORM honker_check_text('honker_scheduler_register', 'payload', p_payload);
  PERFORM honker_check_int('honker_scheduler_register', 'priority', p_priority, NULL);
  IF p_expires_s IS NOT NULL THEN
    PERFORM honker_check_int('honker_scheduler_register', 'expires_s', p_expires_s, 1);
    PERFORM honker_check_max('honker_scheduler_register', 'expires_s', p_expires_s, 253402300799);
  END IF;
  PERFORM honker_check_int('honker_scheduler_register', 'max_attempts', p_max_attempts, 1);
  r := honker_cron_parse(p_expr);
  IF r.err IS NOT NULL THEN PERFORM honker_raise('honker_scheduler_register', 'expr is invalid: ' || r.err); END IF;
  v_next := honker_scheduler_next_after_now('honker_scheduler_register', r.spec);
  IF p_expires_s IS NOT NULL THEN PERFORM honker_add_seconds('honker_scheduler_register', 'expires_s', v_next, p_expires_s); END IF;
  INSERT INTO _honker_scheduler_tasks (name, queue, cron_expr, payload, priority, expires_s, next_fire_at, max_attempts)
    VALUES (p_name, p_queue, p_expr, p_payload, p_priority, p_expires_s, v_next, p_max_attempts)
    ON CONFLICT (name) DO UPDATE SET queue = excluded.queue, cron_expr = excluded.cron_expr, payload = excluded.payload,
      priority = excluded.priority, expires_s = excluded.expires_s, next_fire_at = excluded.next_fire_at,
      max_attempts = excluded.max_attempts;
  PERFORM honker_wake('c', 'schedule');
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_scheduler_unregister(p_name text) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM honker_check_name('honker_scheduler_unregister', 'name', p_name);
  DELETE FROM _honker_scheduler_tasks WHERE name = p_name;
  IF NOT FOUND THEN RETURN 0; END IF;
  PERFORM honker_wake('c', 'schedule');
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_scheduler_pause(p_name text) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM honker_check_name('honker_scheduler_pause', 'name', p_name);
  UPDATE _honker_scheduler_tasks SET enabled = 0 WHERE name = p_name AND enabled = 1;
  RETURN CASE WHEN FOUND THEN 1 ELSE 0 END;
END $$;

CREATE OR REPLACE FUNCTION honker_scheduler_resume(p_name text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_expr text;
  r record;
BEGIN
  PERFORM honker_check_name('honker_scheduler_resume', 'name', p_name);
  SELECT cron_expr INTO v_expr FROM _honker_scheduler_tasks WHERE name = p_name AND enabled = 0 FOR UPDATE;
  IF NOT FOUND THEN RETURN 0; END IF;
  r := honker_cron_parse(v_expr);
  IF r.err IS NOT NULL THEN
    PERFORM honker_raise('honker_scheduler_resume', 'task ''' || p_name || ''' has an invalid cron_expr: ' || r.err);
  END IF;
  UPDATE _honker_scheduler_tasks SET enabled = 1, next_fire_at = honker_scheduler_next_after_now('honker_scheduler_resume', r.spec)
    WHERE name = p_name AND enabled = 0;
  PERFORM honker_wake('c', 'schedule');
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_scheduler_list() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '[' || coalesce(string_agg('{"name":' || honker_json_str(name) || ',"queue":' || honker_json_str(queue)
    || ',"cron_expr":' || honker_json_str(cron_expr) || ',"payload":' || honker_json_str(payload)
    || ',"priority":' || priority || ',"expires_s":' || honker_json_int(expires_s)
    || ',"next_fire_at":' || next_fire_at || ',"enabled":' || CASE WHEN enabled <> 0 THEN 'true' ELSE 'false' END
    || ',"max_attempts":' || max_attempts || '}', ',' ORDER BY name COLLATE "C"), '') || ']'
  FROM _honker_scheduler_tasks
$$;

CREATE OR REPLACE FUNCTION honker_scheduler_update(p_name text, p_expr text, p_payload text, p_priority bigint,
  p_expires_s bigint, p_touch_expires bigint, p_max_attempts bigint DEFAULT NULL, p_touch_max_attempts bigint DEFAULT 0)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_next bigint;
BEGIN
  PERFORM honker_check_name('honker_scheduler_update', 'name', p_name);
  IF p_expires_s IS NOT NULL THEN
    PERFORM honker_check_int('honker_scheduler_update', 'expires_s', p_expires_s, 1);
    PERFORM honker_check_max('honker_scheduler_update', 'expires_s', p_expires_s, 253402300799);
  END IF;
  PERFORM honker_check_int('honker_scheduler_update', 'touch_expires', p_touch_expires, NULL);
  IF p_touch_expires NOT IN (0, 1) THEN
    PERFORM honker_raise('honker_scheduler_update', 'touch_expires must be 0 or 1 (got ' || p_touch_expires || ')');
  END IF;
  IF p_max_attempts IS NOT NULL THEN PERFORM honker_check_int('honker_scheduler_update', 'max_attempts', p_max_attempts, 1); END IF;
  PERFORM honker_check_int('honker_scheduler_update', 'touch_max_attempts', p_touch_max_attempts, NULL);
  IF p_touch_max_attempts NOT IN (0, 1) THEN
    PERFORM honker_raise('honker_scheduler_update', 'touch_max_attempts must be 0 or 1 (got ' || p_touch_max_attempts || ')');
  END IF;
  IF p_expr IS NOT NULL THEN
    r := honker_cron_parse(p_expr);
    IF r.err IS NOT NULL THEN PERFORM honker_raise('honker_scheduler_update', 'expr is invalid: ' || r.err); END IF;
    v_next := honker_scheduler_next_after_now('honker_scheduler_update', r.spec);
  END IF;
  IF p_touch_expires = 1 AND p_expires_s IS NOT NULL THEN
    PERFORM honker_add_seconds('honker_scheduler_update', 'expires_s', coalesce(v_next, honker_now()), p_expires_s);
  END IF;
  IF p_expr IS NULL AND p_payload IS NULL AND p_priority IS NULL AND p_touch_expires = 0 AND p_touch_max_attempts = 0 THEN
    RETURN 0;
  END IF;
  UPDATE _honker_scheduler_tasks SET cron_expr = coalesce(p_expr, cron_expr), next_fire_at = coalesce(v_next, next_fire_at),
    payload = coalesce(p_payload, payload), priority = coalesce(p_priority, priority),
    expires_s = CASE WHEN p_touch_expires = 1 THEN p_expires_s ELSE expires_s END,
    max_attempts = CASE WHEN p_touch_max_attempts = 1 THEN coalesce(p_max_attempts, 3) ELSE max_attempts END
    WHERE name = p_name;
  IF NOT FOUND THEN RETURN 0; END IF;
  PERFORM honker_wake('c', 'schedule');
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_scheduler_soonest() RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT coalesce(min(next_fire_at), 0) FROM _honker_scheduler_tasks WHERE enabled = 1 $$;

CREATE OR REPLACE FUNCTION honker_scheduler_tick(p_now bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  t _honker_scheduler_tasks;
  r record;
  v_next bigint;
  v_fires bigint[];
  v_id bigint;
  v_out text := '';
  v_fire bigint;
BEGIN
  PERFORM honker_check_int('honker_scheduler_tick', 'now', p_now, 0);
  PERFORM honker_check_max('honker_scheduler_tick', 'now', p_now, 253402300799);
  FOR t IN SELECT * FROM _honker_scheduler_tasks WHERE enabled = 1 AND next_fire_at <= p_now
           ORDER BY name COLLATE "C" FOR UPDATE LOOP
    r := honker_cron_parse(t.cron_expr);
    CONTINUE WHEN r.err IS NOT NULL;  -- a row another version wrote: skipped, never blocking the others
    -- The row lock waited for any other ticker: re-read what it left.
    SELECT next_fire_at INTO v_next FROM _honker_scheduler_tasks WHERE name = t.name AND enabled = 1;
    CONTINUE WHEN v_next IS NULL OR v_next <> t.next_fire_at;
    v_fires := '{}';
    WHILE v_next <= p_now AND cardinality(v_fires) < 64 LOOP
      v_fires := v_fires || v_next;
      v_next := honker_cron_next(r.spec, v_next);
    END LOOP;
    IF v_next <= p_now THEN v_next := honker_cron_next(r.spec, p_now); END IF;  -- catch-up cap: skip the rest
    -- A task with no boundary left by 9999-12-31T23:59:59Z stops there (ext/scheduler.c TICK_ADVANCE_SQL).
    UPDATE _honker_scheduler_tasks SET next_fire_at = least(v_next, 253402300799), enabled = CASE WHEN v_next <= 253402300799 THEN 1 ELSE 0 END
      WHERE name = t.name AND next_fire_at = t.next_fire_at AND enabled = 1;
    CONTINUE WHEN NOT FOUND;
    FOREACH v_fire IN ARRAY v_fires LOOP
      INSERT INTO _honker_live (queue, payload, run_at, priority, max_attempts, expires_at, created_at)
        VALUES (t.queue, t.payload, v_fire, t.priority, t.max_attempts,
                CASE WHEN t.expires_s IS NULL THEN NULL
                     WHEN t.expires_s > 253402300799 - v_fire THEN 253402300799 ELSE v_fire + t.expires_s END,
                honker_now())
        RETURNING id INTO v_id;
      v_out := v_out || CASE WHEN v_out = '' THEN '' ELSE ',' END || '{"name":' || honker_json_str(t.name)
        || ',"queue":' || honker_json_str(t.queue) || ',"fire_at":' || v_fire || ',"job_id":' || v_id || '}';
    END LOOP;
    IF cardinality(v_fires) > 0 THEN PERFORM honker_wake('q', t.queue); END IF;
  END LOOP;
  RETURN '[' || v_out || ']';
END $$;
