/**
 * pg/cron.sql against ext/cron.c: the same expressions give the same
 * boundaries and the same error messages on both engines. Both run in
 * America/New_York (the SQLite extension reads the process's TZ, set below
 * before its first cron call; Postgres reads honker.time_zone), so the
 * daylight-saving rules are compared too: a wall time in the spring gap, an
 * ambiguous one in the autumn, and plain days.
 */
process.env.TZ = 'America/New_York';

import pg from 'pg';
import { openDb, tempDbPath } from '../helpers/db.js';
import { pgTest, usePg } from '../helpers/pg.js';
import { installScript } from '../../src/postgres/install.js';

const harness = usePg();

const EXPRS = [
  '* * * * *', '*/15 * * * *', '0 3 * * *', '30 2 * * *', '30 1 * * *', '0 0 1 1 *', '0 0 29 2 *', '0 0 13 * FRI',
  '0 0 13 * 5', '15 10 * * 1-5', '0 12 * JAN,jul *', '0 0 * * 7', '0 0 * * SUN', '5/15 * * * *', '0 9-17/2 * * mon-fri',
  '*/10 * * * * *', '0 0 0 * * *', '59 59 23 31 12 *', '0 0 L * *', '0 0 1,15 * 0', '0 0 31 * *', '0 0 * 2 *',
  '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@every 1s', '@every 7s', '@every 90m',
  '@every 1d', '@every 36600d', '  0   3  *  *  *  ', '0 0 1-7 * 1', '*/7 */5 * * *',
];
const BAD = [
  '', '61 * * * *', '* * *', '* * * * * * *', '@reboot', '@every', '@every 0s', '@every 5x', '@every 36601d', '@daily 1',
  '0 0 30 2 *', '5-1 * * * *', '*/0 * * * *', '*/ * * * *', '0 0 * FOO *', 'a * * * *', '0 0 * * MON-', '0,,1 * * * *',
  '0 0 ? * *', '0 0 * * 8', 'x'.repeat(40), '0 0 * * lundi', '1-2-3 * * * *', '@every 1ss', '0 0 * jan-DEC/2 *',
];
// Around the 2026 transitions in New York (spring 2026-03-08 07:00Z, autumn 2026-11-01 06:00Z), and plain times.
const FROM = [0, 1700000000, 1772949600, 1772953200, 1772956800, 1793505600, 1793509200, 1793512800, 1793516400, 1796515200, 1798761599, 253402300000];

pgTest('cron: honker_cron_next_after and honker_cron_error agree with the SQLite extension on every input', async (t) => {
  const lite = openDb(tempDbPath(t));
  t.teardown(() => lite.close());
  const url = await harness.database(t);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  await c.query(installScript().text);
  await c.query("SELECT set_config('honker.time_zone', 'America/New_York', false)");
  const next = lite.prepare('SELECT honker_cron_next_after(?, ?)').pluck();
  const why = lite.prepare('SELECT honker_cron_error(?)').pluck();
  let compared = 0;
  const diffs: string[] = [];
  for (const expr of EXPRS) {
    const liteErr = why.get(expr) as string | null;
    const pgErr = (await c.query('SELECT honker_cron_error($1) AS v', [expr])).rows[0].v;
    if (liteErr !== pgErr) diffs.push(`error(${JSON.stringify(expr)}): sqlite ${liteErr} postgres ${pgErr}`);
    if (liteErr !== null) continue;
    for (const from of FROM) {
      let a: unknown;
      let b: unknown;
      try {
        a = next.get(expr, from);
      } catch (err) {
        a = (err as Error).message;
      }
      try {
        b = Number((await c.query('SELECT honker_cron_next_after($1, $2) AS v', [expr, from])).rows[0].v);
      } catch (err) {
        b = (err as Error).message;
      }
      compared++;
      if (a !== b) diffs.push(`${JSON.stringify(expr)} after ${from}: sqlite ${a} postgres ${b}`);
    }
  }
  for (const expr of BAD) {
    compared++;
    const a = why.get(expr);
    const b = (await c.query('SELECT honker_cron_error($1) AS v', [expr])).rows[0].v;
    if (a !== b) diffs.push(`error(${JSON.stringify(expr)}): sqlite ${a} postgres ${b}`);
  }
  t.log(`${compared} inputs compared`);
  t.deepEqual(diffs, []);
});

pgTest('cron: queue.periodicTask on Postgres stores its schedule; the same name on another queue is refused and leaves it', async (t) => {
  const { openPostgres } = await import('../../src/postgres/index.js');
  const db = await openPostgres(await harness.database(t));
  t.teardown(() => db.close());
  await db.queue('a').periodicTask('@hourly', 'cleanup', () => 1);
  const entries = await db.scheduler().list();
  t.like(entries, [{ name: 'cleanup', queue: 'a', schedule: '@hourly' }]);
  await t.throwsAsync(async () => db.queue('b').periodicTask('@daily', 'cleanup', () => 2), {
    message: /^queue\.periodicTask: name must not repeat the periodic task of queue "a" \(got "cleanup"\)/,
  });
  t.deepEqual(await db.scheduler().list(), entries);
});
