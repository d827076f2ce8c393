-- history.sql — per-minute throughput of every queue (ext/history.c is the
-- manual): jobs completed, failed (an attempt that will be retried) and
-- dead-lettered, counted by the settle functions of pg/ in the settle's own
-- transaction. Read by the dashboard (src/dashboard/).
--
--   honker_history(queue|NULL, since) -> JSON array of {"queue","minute",
--     "completed","failed","dead"}, one object per queue and minute with at
--     least one settle, ordered by minute then queue; minute is the unix
--     second that minute starts at; only minutes >= since.
--     Example: SELECT honker_history('emails', honker_now() - 3600);
--
--   honker_history_count(queue, now, completed, failed, dead)  (ours, internal)
--     Adds the counts to the queue's row of now's minute. Each settle
--     statement calls it once per queue it settled (ack_batch and the
--     worker's ack_results aggregate their whole batch), never once per job.
--
-- Why shards (the SQLite table has one row per queue and minute): on
-- Postgres workers settle concurrently, and a row updated by one transaction
-- is locked until it commits, so every worker acking on one queue would wait
-- for the previous one's commit on a single (queue, minute) row. Instead a
-- transaction writes one of 8 rows (shards) of the queue's minute: the first
-- shard, starting at its backend pid mod 8, whose transaction advisory lock
-- (1752198765, hash of queue and shard) it can take without waiting. A row
-- is only written under its lock, so a settle never waits on another
-- transaction's counter row, and counter rows cannot deadlock, unless more
-- than 8 transactions settle one queue at once: then it waits for its pid's
-- shard (Postgres breaks a deadlock there by aborting one). Advisory locks
-- are re-entrant, so a transaction that settles again usually writes the
-- same row. honker_history sums the shards. Retention: 7 days, pruned when
-- a shard row is created, skipping rows another pruner holds.

CREATE OR REPLACE FUNCTION honker_history_count(p_queue text, p_now bigint, p_completed bigint, p_failed bigint,
  p_dead bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_minute bigint := p_now - p_now % 60;
  v_first integer := pg_backend_pid() % 8;
  v_shard integer;
  v_inserted boolean;
BEGIN
  IF p_completed = 0 AND p_failed = 0 AND p_dead = 0 THEN RETURN; END IF;
  -- The first shard no other transaction is writing (see the header).
  FOR i IN 0 .. 7 LOOP
    v_shard := (v_first + i) % 8;
    EXIT WHEN pg_try_advisory_xact_lock(1752198765, hashtext(p_queue || ':' || v_shard));
    v_shard := NULL;
  END LOOP;
  IF v_shard IS NULL THEN
    v_shard := v_first;
    PERFORM pg_advisory_xact_lock(1752198765, hashtext(p_queue || ':' || v_shard));
  END IF;
  INSERT INTO _honker_history AS h (minute, queue, shard, completed, failed, dead)
    VALUES (v_minute, p_queue, v_shard, p_completed, p_failed, p_dead)
    ON CONFLICT (minute, queue, shard) DO UPDATE SET completed = h.completed + excluded.completed,
      failed = h.failed + excluded.failed, dead = h.dead + excluded.dead
    RETURNING xmax = 0 INTO v_inserted;  -- xmax 0: the row was inserted, not updated
  IF v_inserted THEN
    -- The shard's first settle this minute: apply the retention (7 days), a range at the index's left edge.
    DELETE FROM _honker_history WHERE ctid IN (
      SELECT ctid FROM _honker_history WHERE minute < v_minute - 604800 FOR UPDATE SKIP LOCKED);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION honker_history(p_queue text, p_since bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE v text;
BEGIN
  IF p_queue = '' THEN
    PERFORM honker_raise('honker_history', 'queue must be non-empty TEXT or NULL (got ' || honker_describe(p_queue) || ')');
  END IF;
  PERFORM honker_check_int('honker_history', 'since', p_since, 0);
  PERFORM honker_check_time('honker_history', 'since', p_since);
  SELECT '[' || coalesce(string_agg('{"queue":' || honker_json_str(queue) || ',"minute":' || minute
      || ',"completed":' || completed || ',"failed":' || failed || ',"dead":' || dead || '}', ','
      ORDER BY minute, queue COLLATE "C"), '') || ']' INTO v
    FROM (SELECT queue, minute, sum(completed) AS completed, sum(failed) AS failed, sum(dead) AS dead
          FROM _honker_history WHERE minute >= p_since AND (p_queue IS NULL OR queue = p_queue)
          GROUP BY queue, minute) h;
  RETURN v;
END $$;
