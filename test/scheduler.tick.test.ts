/**
 * scheduler: honker_scheduler_tick applies all of its work or none
 * (spec/sql.md "Atomicity"), in autocommit and inside the caller's
 * transaction; its JSON names the jobs it inserted; a second tick at the
 * same now fires nothing.
 */
import test from './helpers/test.js';
import { freshDb, scalar, sqlError, type Db } from './helpers/db.js';

/** Register name on queue as '@every <everyS>s' with next_fire_at forced to `next`. */
function task(db: Db, name: string, queue: string, everyS: number, next: number, expiresS: number | null = null) {
  db.prepare('SELECT honker_scheduler_register(?, ?, ?, ?, 0, ?)').get(name, queue, `@every ${everyS}s`, `payload of ${name}`, expiresS);
  db.prepare('UPDATE _honker_scheduler_tasks SET next_fire_at = ? WHERE name = ?').run(next, name);
}

function nextFireAt(db: Db): Record<string, number> {
  const rows = db.prepare('SELECT name, next_fire_at FROM _honker_scheduler_tasks ORDER BY name').all() as Array<{ name: string; next_fire_at: number }>;
  return Object.fromEntries(rows.map((r) => [r.name, r.next_fire_at]));
}

/** A trigger that aborts the nth insert into _honker_live (counting rows already there). */
function failNthInsert(db: Db, n: number) {
  db.exec(`CREATE TRIGGER boom BEFORE INSERT ON _honker_live
           WHEN (SELECT count(*) FROM _honker_live) >= ${n - 1}
           BEGIN SELECT RAISE(ABORT, 'boom: insert refused'); END`);
}

test('scheduler.tick a failing third insert leaves no job and every next_fire_at unchanged (autocommit)', (t) => {
  const { db } = freshDb(t);
  task(db, 'a', 'qa', 100, 1000);
  task(db, 'b', 'qb', 100, 1000);
  failNthInsert(db, 3); // a fires 1000 and 1100, b's first insert is the third
  const before = nextFireAt(db);
  t.is(sqlError(t, db, 'SELECT honker_scheduler_tick(1100)'), 'honker_scheduler_tick: boom: insert refused');
  t.is(scalar(db, 'SELECT count(*) FROM _honker_live'), 0);
  t.deepEqual(nextFireAt(db), before);
  t.false(db.inTransaction);
  // once the cause is gone the same tick fires everything
  db.exec('DROP TRIGGER boom');
  const fired = JSON.parse(scalar<string>(db, 'SELECT honker_scheduler_tick(1100)'));
  t.deepEqual(
    fired.map((f: { name: string; fire_at: number }) => `${f.name}@${f.fire_at}`),
    ['a@1000', 'a@1100', 'b@1000', 'b@1100'],
  );
  t.deepEqual(nextFireAt(db), { a: 1200, b: 1200 });
});

test("scheduler.tick a failing tick inside the caller's transaction undoes only itself", (t) => {
  const { db } = freshDb(t);
  task(db, 'a', 'qa', 100, 1000);
  failNthInsert(db, 2);
  const before = nextFireAt(db);
  db.exec('BEGIN');
  db.prepare("SELECT honker_scheduler_register('mine', 'qm', '@every 60s', 'p', 0, NULL)").get();
  t.is(sqlError(t, db, 'SELECT honker_scheduler_tick(1300)'), 'honker_scheduler_tick: boom: insert refused');
  t.true(db.inTransaction);
  db.exec('COMMIT');
  t.is(scalar(db, 'SELECT count(*) FROM _honker_live'), 0);
  t.is(nextFireAt(db).a, before.a);
  t.is(scalar(db, "SELECT count(*) FROM _honker_scheduler_tasks WHERE name = 'mine'"), 1);
});

test('scheduler.tick a task whose stored cron_expr does not parse is skipped; the others fire', (t) => {
  const { db } = freshDb(t);
  task(db, 'a-good', 'qa', 100, 1000);
  db.prepare(
    "INSERT INTO _honker_scheduler_tasks (name, queue, cron_expr, payload, next_fire_at) VALUES ('b-bad', 'qb', '@every 0s', 'p', 1000)",
  ).run();
  task(db, 'c-good', 'qc', 100, 1000);
  const fired = JSON.parse(scalar(db, 'SELECT honker_scheduler_tick(1000)')) as Array<{ name: string }>;
  t.deepEqual(fired.map((f) => f.name), ['a-good', 'c-good']);
  t.is(scalar(db, "SELECT count(*) FROM _honker_live WHERE queue = 'qb'"), 0);
  t.is(nextFireAt(db)['b-bad'], 1000);
});

test('scheduler.tick an expires_s stored past 9999-12-31 (an older row) fires jobs that expire at 253402300799, and the other tasks still fire', (t) => {
  const { db } = freshDb(t);
  // register refuses such an expires_s (ext/util.h HONKER_MAX_UNIX); rows written before that
  // bound (whose register allowed 253402300799) or by honker 0.4 may hold one
  db.prepare(
    "INSERT INTO _honker_scheduler_tasks (name, queue, cron_expr, payload, expires_s, next_fire_at) VALUES ('a-huge', 'q', '@every 1s', 'p', 9223372036854775807, 1000)",
  ).run();
  db.prepare(
    "INSERT INTO _honker_scheduler_tasks (name, queue, cron_expr, payload, expires_s, next_fire_at) VALUES ('b-max', 'q', '@every 1s', 'p', 253402300799, 1000)",
  ).run();
  task(db, 'c-good', 'qc', 100, 1000, 45);
  const fired = JSON.parse(scalar(db, 'SELECT honker_scheduler_tick(1000)')) as Array<{ name: string }>;
  t.deepEqual(fired.map((f) => f.name), ['a-huge', 'b-max', 'c-good']);
  t.deepEqual(db.prepare('SELECT queue, run_at, expires_at FROM _honker_live ORDER BY id').all(), [
    { queue: 'q', run_at: 1000, expires_at: 253402300799 },
    { queue: 'q', run_at: 1000, expires_at: 253402300799 },
    { queue: 'qc', run_at: 1000, expires_at: 1045 },
  ]);
});

test('scheduler.tick the JSON lists exactly the inserted jobs, and a repeated tick fires nothing', (t) => {
  const { db } = freshDb(t);
  task(db, 'a', 'qa', 30, 990, 45);
  task(db, 'b', 'qb', 7, 1000);
  const fired = JSON.parse(scalar<string>(db, 'SELECT honker_scheduler_tick(1060)')) as Array<{
    name: string;
    queue: string;
    fire_at: number;
    job_id: number;
  }>;
  t.deepEqual(
    fired.map((f) => [f.name, f.fire_at]),
    [
      ['a', 990],
      ['a', 1020],
      ['a', 1050],
      ['b', 1000],
      ['b', 1001],
      ['b', 1008],
      ['b', 1015],
      ['b', 1022],
      ['b', 1029],
      ['b', 1036],
      ['b', 1043],
      ['b', 1050],
      ['b', 1057],
    ],
  );
  const jobs = db.prepare('SELECT id, queue, payload, run_at, expires_at, max_attempts FROM _honker_live ORDER BY id').all();
  t.deepEqual(
    jobs,
    fired.map((f) => ({
      id: f.job_id,
      queue: f.queue,
      payload: `payload of ${f.name}`,
      run_at: f.fire_at,
      expires_at: f.name === 'a' ? f.fire_at + 45 : null,
      max_attempts: 3,
    })),
  );
  t.is(scalar(db, 'SELECT honker_scheduler_tick(1060)'), '[]');
  t.is(scalar(db, 'SELECT honker_scheduler_soonest()'), 1064);
});

test('scheduler.tick a task with a name and payload needing JSON escapes round-trips', (t) => {
  const { db } = freshDb(t);
  const name = 'quote " back \\ nl \n tab \t nul \u0000 é';
  db.prepare('SELECT honker_scheduler_register(?, ?, ?, ?, 0, NULL)').get(name, name, '@every 1s', 'p\u0000q');
  db.prepare('UPDATE _honker_scheduler_tasks SET next_fire_at = 5').run();
  const fired = JSON.parse(scalar<string>(db, 'SELECT honker_scheduler_tick(5)'));
  t.deepEqual(fired, [{ name, queue: name, fire_at: 5, job_id: 1 }]);
  t.is(scalar(db, 'SELECT payload FROM _honker_live'), 'p\u0000q');
  const listed = JSON.parse(scalar<string>(db, 'SELECT honker_scheduler_list()'));
  t.is(listed[0].name, name);
  t.is(listed[0].payload, 'p\u0000q');
});

test('scheduler.tick a task with no boundary left by 9999-12-31T23:59:59Z fires its last one and stops there; the others go on', (t) => {
  const { db } = freshDb(t);
  const max = 253402300799;
  task(db, 'a-ends', 'q', 90, max - 30); // its next boundary, max + 60, cannot be stored
  task(db, 'b-fits', 'q', 1, max - 1); // its next boundary is max itself
  const fired = JSON.parse(scalar(db, `SELECT honker_scheduler_tick(${max - 1})`)) as Array<{ name: string; fire_at: number }>;
  t.deepEqual(fired.map((f) => [f.name, f.fire_at]), [['a-ends', max - 30], ['b-fits', max - 1]]);
  t.deepEqual(db.prepare('SELECT name, next_fire_at, enabled FROM _honker_scheduler_tasks ORDER BY name').all(), [
    { name: 'a-ends', next_fire_at: max, enabled: 0 },
    { name: 'b-fits', next_fire_at: max, enabled: 1 },
  ]);
  t.is(scalar(db, `SELECT count(*) FROM _honker_scheduler_tasks WHERE next_fire_at > ${max}`), 0);
  // the stopped task does not fire at the bound; the other one does, and then stops too
  const last = JSON.parse(scalar(db, `SELECT honker_scheduler_tick(${max})`)) as Array<{ name: string }>;
  t.deepEqual(last.map((f) => f.name), ['b-fits']);
  t.deepEqual(db.prepare('SELECT name, enabled FROM _honker_scheduler_tasks ORDER BY name').pluck().all(), ['a-ends', 'b-fits']);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_scheduler_tasks WHERE enabled = 1'), 0);
});
