/**
 * The SQL surface on Postgres against the SQLite extension: the same calls,
 * in the same order, on a fresh SQLite file and a fresh Postgres database,
 * return the same text — JSON shapes byte for byte (key order, escapes,
 * null, booleans), counts, ids — and the same error messages. Times are
 * compared relative to each engine's clock at the call (a value within a day
 * of now is written "now+N").
 */
import pg from 'pg';
import { openDb, tempDbPath } from '../helpers/db.js';
import { pgTest, usePg } from '../helpers/pg.js';
import { installScript } from '../../src/postgres/install.js';

const harness = usePg();

const ODD = 'quote " backslash \\ newline \n tab \t bell \u0007 backspace \b formfeed \f unicode é 😀 end';

/** [sql with ?n placeholders, args]: the script run on both engines, in order. */
const SCRIPT: Array<[string, unknown[]]> = [
  ['honker_enqueue(?1, ?2, NULL, NULL, 0, 3, NULL)', ['emails', '{"to":"a"}']],
  ['honker_enqueue(?1, ?2, NULL, 60, 5, 2, 3600)', ['emails', ODD]],
  ['honker_enqueue(?1, ?2, 1, NULL, -3, 1, NULL)', ['emails', '"old"']],
  ['honker_enqueue_unique(?1, ?2, ?3, NULL, NULL, 0, 3, NULL)', ['emails', 'k1', '{}']],
  ['honker_enqueue_unique(?1, ?2, ?3, NULL, NULL, 0, 3, NULL)', ['emails', 'k1', '{"again":1}']],
  ['honker_queue_stats(?1)', ['emails']],
  ['honker_get_job(2)', []],
  ['honker_get_job(999)', []],
  ['honker_job_list(?1, NULL, 10)', ['emails']],
  ['honker_job_list(?1, ?2, 10)', ['emails', 'pending']],
  ['honker_job_list(?1, ?2, 10)', ['emails', 'scheduled']],
  ['honker_claim_batch(?1, ?2, 2, 30)', ['emails', 'w1']],
  ['honker_job_list(?1, ?2, 10)', ['emails', 'processing']],
  ['honker_heartbeat(1, ?1, 60)', ['w1']],
  ['honker_heartbeat(1, ?1, 60)', ['nobody']],
  ['honker_retry(1, ?1, 0, ?2)', ['w1', 'first failure']],
  ['honker_get_job(1)', []],
  ['honker_release(3, ?1)', ['w1']],
  ['honker_claim_batch(?1, ?2, 5, 30)', ['emails', 'w2']],
  ['honker_fail(1, ?1, ?2)', ['w2', ODD]],
  ['honker_ack_batch(?1, ?2)', ['[3,4,999]', 'w2']],
  ['honker_dead_list(?1, 10)', ['emails']],
  ['honker_history(NULL, 0)', []],
  ['honker_history(?1, 0)', ['emails']],
  ['honker_history(?1, 0)', ['other']],
  ['honker_job_errors(1)', []],
  ['honker_job_errors(999)', []],
  ['honker_job_list(?1, ?2, 10, 0)', ['emails', 'dead']],
  ['honker_job_list(?1, NULL, 1, 1)', ['emails']],
  ['honker_job_list(?1, NULL, 10, 5)', ['emails']],
  ['honker_dead_get(1)', []],
  ['honker_dead_get(2)', []],
  ['honker_queues_stats()', []],
  ['honker_dead_requeue(1)', []],
  ['honker_get_job(1)', []],
  ['honker_cancel(1)', []],
  ['honker_cancel(1)', []],
  ['honker_run_now(2)', []],
  ['honker_run_now(2)', []],
  ['honker_run_now(999)', []],
  ['honker_job_list(?1, ?2, 10)', ['emails', 'pending']],
  ['honker_queue_next_claim_at(?1)', ['emails']],
  ['honker_sweep_expired(?1)', ['emails']],
  ['honker_dead_purge(?1, 0)', ['emails']],
  ['notify(?1, ?2)', ['orders', '{"id":1}']],
  ['notify(?1, ?2)', ['orders', ODD]],
  ['honker_notify_last_id()', []],
  ['honker_notify_read_since(?1, 0, 10)', ['orders']],
  ['honker_notify_channels()', []],
  ['honker_notify_recent(?1, 1)', ['orders']],
  ['honker_notify_recent(?1, 10)', ['nobody']],
  ['honker_notify_prune(NULL, 1)', []],
  ['honker_stream_publish(?1, NULL, ?2)', ['events', '{"a":1}']],
  ['honker_stream_publish(?1, ?2, ?3)', ['events', 'user:7', ODD]],
  ['honker_stream_read_since(?1, 0, 10)', ['events']],
  ['honker_stream_save_offset(?1, ?2, 1)', ['billing', 'events']],
  ['honker_stream_save_offset(?1, ?2, 1)', ['billing', 'events']],
  ['honker_stream_get_offset(?1, ?2)', ['billing', 'events']],
  ['honker_stream_save_offset(?1, ?2, 0)', ['audit', 'quiet']],
  ['honker_streams()', []],
  ['honker_stream_consumers()', []],
  ['honker_result_save(7, ?1, 0)', ['{"ok":true,"value":1}']],
  ['honker_result_get(7)', []],
  ['honker_result_get(8)', []],
  ['honker_lock_acquire(?1, ?2, 60)', ['backup', 'a']],
  ['honker_lock_acquire(?1, ?2, 60)', ['backup', 'b']],
  ['honker_lock_renew(?1, ?2, 30)', ['backup', 'a']],
  ['honker_lock_release(?1, ?2)', ['backup', 'a']],
  ['honker_rate_limit_try(?1, 2, 3600)', ['api']],
  ['honker_rate_limit_try(?1, 2, 3600)', ['api']],
  ['honker_rate_limit_try(?1, 2, 3600)', ['api']],
  ['honker_scheduler_register(?1, ?2, ?3, ?4, 1, NULL)', ['nightly', 'reports', '0 3 * * *', ODD]],
  ['honker_scheduler_register(?1, ?2, ?3, ?4, 0, 60, 5)', ['often', 'pings', '@every 1m', '{}']],
  ['honker_scheduler_list()', []],
  ['honker_scheduler_pause(?1)', ['often']],
  ['honker_scheduler_update(?1, NULL, ?2, NULL, NULL, 0)', ['nightly', '{"v":2}']],
  ['honker_scheduler_update(?1, NULL, NULL, NULL, NULL, 0)', ['nightly']],
  ['honker_scheduler_list()', []],
  ['honker_scheduler_resume(?1)', ['often']],
  ['honker_scheduler_tick(0)', []],
  ['honker_cron_error(?1)', ['61 * * * *']],
  // errors: the same message on both engines
  ['honker_claim_batch(?1, ?2, -1, 30)', ['emails', 'w']],
  ['honker_claim_batch(?1, ?2, 1, 0)', ['emails', 'w']],
  ['honker_claim_batch(?1, ?2, 1, 30)', ['emails', '  ']],
  ['honker_enqueue(NULL, ?1, NULL, NULL, 0, 3, NULL)', ['{}']],
  ['honker_enqueue(?1, ?2, NULL, NULL, 0, 0, NULL)', ['q', '{}']],
  ['honker_enqueue(?1, ?2, 1764967000000, NULL, 0, 3, NULL)', ['q', '{}']],
  ['honker_enqueue(?1, ?2, NULL, 9007199254740991, 0, 3, NULL)', ['q', '{}']],
  ['notify(?1, ?2)', ['', 'x']],
  ['honker_stream_read_since(?1, 0, -1)', ['events']],
  ['honker_ack_batch(?1, ?2)', ['{"a":1}', 'w']],
  ['honker_ack_batch(?1, ?2)', ['[1,"x"]', 'w']],
  ['honker_ack_batch(?1, ?2)', ['[1,', 'w']],
  ['honker_job_list(?1, ?2, 10)', ['emails', 'gone']],
  ['honker_lock_acquire(?1, ?2, 0)', ['l', 'o']],
  ['honker_rate_limit_try(?1, 1, 0)', ['r']],
  ['honker_scheduler_register(?1, ?2, ?3, ?4, 0, NULL)', ['bad', 'q', '0 0 30 2 *', '{}']],
  ['honker_scheduler_update(?1, NULL, NULL, NULL, NULL, 2)', ['nightly']],
  ['honker_result_save(1, NULL, 0)', []],
  ['honker_history(?1, 0)', ['']],
  ['honker_history(NULL, 1764967000000)', []],
  ['honker_job_list(?1, NULL, 10, -1)', ['emails']],
  ['honker_notify_recent(?1, -1)', ['orders']],
  ['honker_notify_recent(?1, 1)', ['']],
];

/** Times near now as now+N (each engine's own clock), so both runs compare. */
function relative(text: string, now: number): string {
  return text.replace(/\b\d{10}\b/g, (m) => (Math.abs(Number(m) - now) < 86400 * 2 ? `now${Number(m) - now >= 0 ? '+' : ''}${Number(m) - now}` : m));
}

pgTest('sql: every function returns the SQLite extension\'s text (JSON byte for byte) and its error messages', async (t) => {
  const lite = openDb(tempDbPath(t));
  t.teardown(() => lite.close());
  const url = await harness.database(t);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  await c.query(installScript().text);
  await c.query("SELECT set_config('honker.time_zone', 'UTC', false)");
  const diffs: string[] = [];
  for (const [expr, args] of SCRIPT) {
    const liteSql = `SELECT ${expr.replace(/\?\d/g, "?")}`;
    const pgSql = `SELECT ${expr.replace(/\?(\d)/g, (_, n) => `$${n}::text`)} AS v`;
    let a: string;
    let b: string;
    const liteNow = Math.floor(Date.now() / 1000);
    try {
      a = relative(String(lite.prepare(liteSql).pluck().get(...args)), liteNow);
    } catch (err) {
      a = `error: ${(err as Error).message}`;
    }
    const pgNow = Math.floor(Date.now() / 1000);
    try {
      b = relative(String((await c.query(pgSql, args)).rows[0].v), pgNow);
    } catch (err) {
      b = `error: ${(err as Error).message}`;
    }
    if (a !== b) diffs.push(`${expr} ${JSON.stringify(args)}\n  sqlite:   ${a}\n  postgres: ${b}`);
  }
  t.log(`${SCRIPT.length} calls compared`);
  t.deepEqual(diffs, []);
});

pgTest('sql: a task with no boundary left by 9999-12-31T23:59:59Z fires its last one and stops there, as on SQLite', async (t) => {
  const max = 253402300799;
  const lite = openDb(tempDbPath(t));
  t.teardown(() => lite.close());
  const c = new pg.Client({ connectionString: await harness.database(t) });
  await c.connect();
  t.teardown(() => c.end());
  await c.query(installScript().text);
  const run = async (sql: string): Promise<void> => {
    lite.exec(sql);
    await c.query(sql);
  };
  // a-ends: its next boundary, max + 60, cannot be stored; b-fits: its next boundary is max itself
  await run(`SELECT honker_scheduler_register('a-ends', 'q', '@every 90s', '{}', 0, NULL)`);
  await run(`SELECT honker_scheduler_register('b-fits', 'q', '@every 1s', '{}', 0, NULL)`);
  await run(`UPDATE _honker_scheduler_tasks SET next_fire_at = CASE name WHEN 'a-ends' THEN ${max - 30} ELSE ${max - 1} END`);
  const both = async (sql: string): Promise<[unknown, unknown]> => {
    const a = lite.prepare(sql).all();
    const b = (await c.query(sql)).rows;
    return [JSON.stringify(a), JSON.stringify(b)];
  };
  for (const now of [max - 1, max]) {
    const [a, b] = await both(`SELECT replace(replace(honker_scheduler_tick(${now}), '"job_id":1', ''), '"job_id":2', '') AS fired`);
    t.is(b, a, `tick(${now})`);
    const [ra, rb] = await both('SELECT name, CAST(next_fire_at AS TEXT) AS next_fire_at, enabled FROM _honker_scheduler_tasks ORDER BY name');
    t.is(rb, ra);
  }
  const rows = (await c.query('SELECT name, next_fire_at::text AS n, enabled FROM _honker_scheduler_tasks ORDER BY name')).rows;
  t.deepEqual(rows, [
    { name: 'a-ends', n: String(max), enabled: 0 },
    { name: 'b-fits', n: String(max), enabled: 0 },
  ]);
});
