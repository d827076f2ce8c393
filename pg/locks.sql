-- locks.sql — named locks with a lease and fixed-window rate limits
-- (ext/locks.c is the manual).
--
--   honker_lock_acquire(name, owner, ttl_s) -> 1/0 (an expired holder is
--     replaced; the holder re-acquiring gets 1 without an extension)
--   honker_lock_release(name, owner) -> 1/0 (wakes 'l' with the name, so a
--     standby scheduler takes over at once)
--   honker_lock_renew(name, owner, ttl_s) -> 1/0 (only an unexpired lease)
--   honker_rate_limit_try(name, limit, per_s) -> 1/0, window (now / per_s) * per_s
--   honker_rate_limit_sweep(older_than_s) -> windows deleted
--
-- Concurrency: acquire is one upsert whose conflict update only fires on an
-- expired lease (the row lock orders racers); rate_limit_try is one
-- conditional upsert, so a window's count never passes its limit.

CREATE OR REPLACE FUNCTION honker_lock_acquire(p_name text, p_owner text, p_ttl_s bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_expires bigint;
BEGIN
  PERFORM honker_check_new_name('honker_lock_acquire', 'name', p_name);
  PERFORM honker_check_new_name('honker_lock_acquire', 'owner', p_owner);
  PERFORM honker_check_int('honker_lock_acquire', 'ttl_s', p_ttl_s, 1);
  v_expires := honker_add_seconds('honker_lock_acquire', 'ttl_s', v_now, p_ttl_s);
  INSERT INTO _honker_locks (name, owner, expires_at) VALUES (p_name, p_owner, v_expires)
    ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
    WHERE _honker_locks.expires_at <= v_now;
  IF FOUND THEN RETURN 1; END IF;
  RETURN CASE WHEN EXISTS (SELECT 1 FROM _honker_locks WHERE name = p_name AND owner = p_owner) THEN 1 ELSE 0 END;
END $$;

CREATE OR REPLACE FUNCTION honker_lock_release(p_name text, p_owner text) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM honker_check_name('honker_lock_release', 'name', p_name);
  PERFORM honker_check_name('honker_lock_release', 'owner', p_owner);
  DELETE FROM _honker_locks WHERE name = p_name AND owner = p_owner;
  IF NOT FOUND THEN RETURN 0; END IF;
  PERFORM honker_wake('l', p_name);
  RETURN 1;
END $$;

CREATE OR REPLACE FUNCTION honker_lock_renew(p_name text, p_owner text, p_ttl_s bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_now bigint := honker_now();
  v_expires bigint;
BEGIN
  PERFORM honker_check_name('honker_lock_renew', 'name', p_name);
  PERFORM honker_check_name('honker_lock_renew', 'owner', p_owner);
  PERFORM honker_check_int('honker_lock_renew', 'ttl_s', p_ttl_s, 1);
  v_expires := honker_add_seconds('honker_lock_renew', 'ttl_s', v_now, p_ttl_s);
  UPDATE _honker_locks SET expires_at = v_expires WHERE name = p_name AND owner = p_owner AND expires_at > v_now;
  RETURN CASE WHEN FOUND THEN 1 ELSE 0 END;
END $$;

CREATE OR REPLACE FUNCTION honker_rate_limit_try(p_name text, p_limit bigint, p_per_s bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE v_now bigint := honker_now();
BEGIN
  PERFORM honker_check_new_name('honker_rate_limit_try', 'name', p_name);
  PERFORM honker_check_int('honker_rate_limit_try', 'limit', p_limit, 0);
  PERFORM honker_check_int('honker_rate_limit_try', 'per_s', p_per_s, 1);
  IF p_limit = 0 THEN RETURN 0; END IF;
  INSERT INTO _honker_rate_limits (name, window_start, count) VALUES (p_name, (v_now / p_per_s) * p_per_s, 1)
    ON CONFLICT (name, window_start) DO UPDATE SET count = _honker_rate_limits.count + 1
    WHERE _honker_rate_limits.count < p_limit;
  RETURN CASE WHEN FOUND THEN 1 ELSE 0 END;
END $$;

CREATE OR REPLACE FUNCTION honker_rate_limit_sweep(p_older_than_s bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  PERFORM honker_check_int('honker_rate_limit_sweep', 'older_than_s', p_older_than_s, 0);
  DELETE FROM _honker_rate_limits WHERE window_start < honker_now() - p_older_than_s;
  GET DIAGNOSTICS v = ROW_COUNT;
  RETURN v;
END $$;
