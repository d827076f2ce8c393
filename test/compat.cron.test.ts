/**
 * Schedule expressions in a mixed fleet (ext/cron.h cron_canonical_n): what
 * we store for an expression is parsed by honker 0.4's real extension and,
 * wherever the meaning is the same, gives the boundaries ours gives for what
 * the user wrote. The forms whose meaning differs are pinned here as they
 * behave, as docs/sql.md and the README describe them. Boundaries come from
 * honker_cron_next_after of each library, in its own process, for one TZ
 * (test/fixtures/cron-next.py). Skipped, with the reason, without ../shared.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { extStem, openDb, repoRoot, scalar, systemPython, tempDbPath, type Db } from './helpers/db.js';
import { HONKER04_STEM, testWith04 } from './helpers/honker04.js';
import type { ExecutionContext } from './helpers/test.js';

type Runs = Record<string, number[][] | string>;

/** For each expr and start, the next `count` boundaries by lib's honker_cron_next_after in zone tz. */
function boundaries(lib: string, tz: string, exprs: string[], starts: number[], count: number): Runs {
  const fixture = path.join(repoRoot, 'test', 'fixtures', 'cron-next.py');
  const r = spawnSync(systemPython, [fixture, lib, JSON.stringify({ exprs, starts, count })], {
    env: { ...process.env, TZ: tz },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`cron-next.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Runs;
}

/** What honker_scheduler_register stores as cron_expr for each expr. */
function storedForms(t: ExecutionContext, exprs: string[]): Map<string, string> {
  const db: Db = openDb(tempDbPath(t));
  t.teardown(() => db.close());
  const register = db.prepare("SELECT honker_scheduler_register('t', 'q', ?, '{}', 0, NULL)");
  return new Map(
    exprs.map((e) => {
      register.get(e);
      return [e, scalar<string>(db, "SELECT cron_expr FROM _honker_scheduler_tasks WHERE name = 't'")];
    }),
  );
}

/** ours(expr) and honker 0.4(stored form) side by side, for each expr. */
function compare(t: ExecutionContext, tz: string, exprs: string[], starts: number[], count: number) {
  const stored = storedForms(t, exprs);
  const ourRuns = boundaries(extStem, tz, exprs, starts, count);
  const theirRuns = boundaries(HONKER04_STEM, tz, [...new Set(stored.values())], starts, count);
  return exprs.map((e) => ({ expr: e, stored: stored.get(e)!, ours: ourRuns[e]!, theirs: theirRuns[stored.get(e)!]! }));
}

/** Forms whose meaning is the same in both: honker 0.4 gets a text it parses, and the same boundaries. */
const SAME = [
  '0 3 * * *',
  '*/15 * * * *',
  '1-10/3,30 * * * *',
  '30 15 10 * * *',
  '*/20 */30 * * * *',
  '0 0 29 2 *',
  '59 23 31 12 *',
  '0 0 13 * *',
  '0 0 1 */2 *',
  // macros
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
  // names, Sunday as 7
  '0 9 * * MON-FRI',
  '0 0 * * 7',
  '0 0 * * sun',
  '0 0 * * 5-7',
  '0 0 * * 1-7/2',
  '0 0 * JAN,jul *',
  '0 0 1 Feb-Mar *',
  // n/step (0.4 reads n/step as n alone: stored as n-max/step)
  '5/15 * * * *',
  '0 5/6 * * *',
  '0 0 3/10 * *',
  '0 0 * 2/5 *',
  '0 0 * * tue/2',
  '*/99999999999 * * * *',
];
// 2027-01-15 08:00Z, 2026-03-07 16:13Z (the day before New York springs forward), 2026-09-21 13:46Z
const STARTS = [1800000000, 1772900000, 1790000000];

for (const tz of ['UTC', 'America/New_York']) {
  testWith04(`compat.cron: honker 0.4 parses what we store and finds our boundaries (${tz})`, (t) => {
    for (const { expr, stored, ours, theirs } of compare(t, tz, SAME, STARTS, 12)) {
      t.notRegex(String(theirs), /^error/, `${expr} stored as '${stored}'`);
      t.deepEqual(theirs, ours, `${expr} stored as '${stored}'`);
    }
    // the spring-forward gap: both fire a wall time that does not exist at the first instant after it
    for (const { expr, ours, theirs } of compare(t, tz, ['30 2 * * *', '0 2 * * *'], [1772900000], 3)) t.deepEqual(theirs, ours, expr);
  });
}

testWith04('compat.cron: random expressions we accept (day-of-month or day-of-week unrestricted): honker 0.4 reads the stored form alike', (t) => {
  const tokens = ['*', '*/5', '1-10', '0', '5/15', 'MON-FRI', 'jan', '7', '1,2,3', '29', '31', '2', '30', '0-7/3', 'feb', '23', 'sun,sat', '3/4'];
  const db: Db = openDb(tempDbPath(t));
  t.teardown(() => db.close());
  let r = 88172645463325252n;
  const rand = (n: number): number => {
    r ^= (r << 13n) & 0xffffffffffffffffn;
    r ^= r >> 7n;
    r ^= (r << 17n) & 0xffffffffffffffffn;
    return Number(r % BigInt(n));
  };
  const exprs = new Set<string>();
  while (exprs.size < 150) {
    const fields = Array.from({ length: 5 + rand(2) }, () => tokens[rand(tokens.length)]!);
    const expr = fields.join(' ');
    const [dom, dow] = fields.slice(-3, -2).concat(fields.slice(-1));
    if (dom !== '*' && dow !== '*') continue; // the Vixie rule: read differently (next test)
    if (scalar(db, 'SELECT honker_cron_error(?)', expr) === null) exprs.add(expr);
  }
  let same = 0;
  for (const { expr, stored, ours, theirs } of compare(t, 'UTC', [...exprs], [1800000000], 4)) {
    t.deepEqual(theirs, ours, `${expr} stored as '${stored}'`);
    same++;
  }
  t.is(same, 150);
});

testWith04('compat.cron: the forms honker 0.4 reads differently, as documented', (t) => {
  const utc = compare(t, 'UTC', ['0 0 13 * FRI', '0 0 1,15 * MON-FRI', '@every 1h', '@every 90m'], [1800000000, 1800001234], 6);
  const day = (s: number): Date => new Date(s * 1000);
  // Day-of-month and day-of-week both restricted: we fire on either (Vixie), 0.4 on days matching both.
  const [fri13, firstFifteenth] = utc;
  t.is(fri13!.stored, '0 0 13 * 5');
  for (const s of (fri13!.theirs as number[][]).flat()) t.true(day(s).getUTCDate() === 13 && day(s).getUTCDay() === 5, 'a Friday the 13th');
  t.true((fri13!.ours as number[][]).flat().some((s) => day(s).getUTCDate() !== 13), 'any Friday, and every 13th');
  t.is(firstFifteenth!.stored, '0 0 1,15 * 1-5');
  for (const s of (firstFifteenth!.theirs as number[][]).flat()) t.true([1, 15].includes(day(s).getUTCDate()) && day(s).getUTCDay() % 6 !== 0);
  // @every: we count from the epoch, 0.4 from the time it is asked about. From a boundary of ours
  // (a stored next_fire_at) both step to the same next one, so a 0.4 ticker keeps our boundaries.
  for (const every of utc.slice(2)) {
    const period = every.expr === '@every 1h' ? 3600 : 5400;
    t.is(every.stored, every.expr);
    const [fromBoundary, fromOther] = every.ours as number[][];
    t.true([...fromBoundary!, ...fromOther!].every((s) => s % period === 0), 'ours: multiples of the period');
    const theirs = every.theirs as number[][];
    t.deepEqual(theirs[1], [1, 2, 3, 4, 5, 6].map((k) => 1800001234 + k * period), '0.4: from the time asked about');
    const boundary = fromBoundary![0]!;
    t.deepEqual(
      boundaries(HONKER04_STEM, 'UTC', [every.stored], [boundary], 3)[every.stored],
      boundaries(extStem, 'UTC', [every.expr], [boundary], 3)[every.expr],
    );
  }
  // The hour repeated when clocks fall back (America/New_York, 2025-11-02 01:00-01:59):
  // we fire its wall times the first time, 0.4 the second time.
  const [fallBack] = compare(t, 'America/New_York', ['30 1 * * *'], [1762056000], 1); // 2025-11-02 00:00 EDT
  t.deepEqual(fallBack!.ours, [[1762061400]], '01:30 EDT');
  t.deepEqual(fallBack!.theirs, [[1762065000]], '01:30 EST');
});
