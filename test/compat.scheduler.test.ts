/**
 * The scheduler in a mixed fleet, with honker 0.4's real extension in its
 * own process (test/helpers/honker04.ts): a 0.4 ticker ticks the tasks we
 * register, and the client's leader election shares honker's lock
 * `honker-scheduler`, so a 0.4 process holding it the way honker's bindings
 * do and our scheduler never lead at once. Skipped, with the reason, without
 * ../shared.
 */
import { open } from '../src/index.js';
import { openDb, scalar, tempDbPath, type Db } from './helpers/db.js';
import { host04, testWith04 } from './helpers/honker04.js';
import { sleep } from './helpers/scheduler-client.js';
import type { ExecutionContext } from './helpers/test.js';

const nowS = (): number => Math.floor(Date.now() / 1000);

/** Wait until cond() holds (polling), failing after ms. */
async function until(t: ExecutionContext, what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return t.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

testWith04('compat.scheduler: a honker 0.4 ticker ticks the tasks we register, @daily, MON and 7 included', async (t) => {
  const file = tempDbPath(t);
  const db: Db = openDb(file);
  t.teardown(() => db.close());
  // [name, expr, last ticked this long ago]
  const tasks: [name: string, expr: string, idleS: number][] = [
    ['daily', '@daily', 40 * 86400],
    ['weekdays', '0 9 * * MON-FRI', 40 * 86400],
    ['sunday', '0 0 * * 7', 40 * 86400],
    ['quarter', '5/15 * * * *', 40 * 86400], // more than 64 boundaries: the rest are skipped
    ['hourly', '@every 1h', 3 * 3600],
    ['hourly-late', '@every 1h', 40 * 86400],
    ['friday13', '0 0 13 * FRI', 40 * 86400],
  ];
  const now = nowS();
  const next = db.prepare('SELECT honker_cron_next_after(?, ?)').pluck();
  /** Our boundaries of expr after from, up to now, at most 64 (a tick's catch-up), and the one after. */
  const ourFires = (expr: string, from: number): { fires: number[]; after: number } => {
    const fires: number[] = [];
    let at = next.get(expr, from) as number;
    while (at <= now && fires.length < 64) {
      fires.push(at);
      at = next.get(expr, at) as number;
    }
    return { fires, after: at <= now ? (next.get(expr, now) as number) : at };
  };
  // Each task as if nobody had ticked it for idleS.
  for (const [name, expr, idleS] of tasks) {
    db.prepare("SELECT honker_scheduler_register(?, 'q', ?, '{}', 0, NULL)").get(name, expr);
    db.prepare('UPDATE _honker_scheduler_tasks SET next_fire_at = ? WHERE name = ?').run(next.get(expr, now - idleS), name);
  }
  const h = await host04(t, file);
  const fired = JSON.parse((await h.sql<string>(`SELECT honker_scheduler_tick(${now})`))!) as { name: string; fire_at: number }[];
  t.is(await h.sql(`SELECT honker_scheduler_tick(${now})`), '[]', 'a second tick fires nothing again');
  const nextFireAt = (name: string): number => scalar(db, 'SELECT next_fire_at FROM _honker_scheduler_tasks WHERE name = ?', name);
  for (const [name, expr, idleS] of tasks) {
    const theirs = fired.filter((f) => f.name === name).map((f) => f.fire_at);
    const { fires, after } = ourFires(expr, now - idleS);
    if (name === 'friday13') {
      // Read differently (docs/sql.md): the due boundary fires, then 0.4 waits for a Friday the 13th.
      t.deepEqual(theirs, fires.slice(0, 1).concat(theirs.slice(1)), 'fires what was due');
      const d = new Date(nextFireAt(name) * 1000);
      t.true(d.getDate() === 13 && d.getDay() === 5, `0.4 moved it to a Friday the 13th (${d.toString()})`);
      t.true(nextFireAt(name) > after, 'later than our next boundary');
      continue;
    }
    if (name === 'hourly-late') {
      // @every after skipped boundaries: 0.4 counts the period from now, off our boundaries;
      // the next tick of ours fires that time and steps back onto them.
      t.deepEqual(theirs, fires);
      t.is(nextFireAt(name), now + 3600);
      db.prepare('SELECT honker_scheduler_tick(?)').get(now + 3600);
      const back = next.get(expr, now + 3600) as number;
      t.is(back % 3600, 0);
      t.is(nextFireAt(name), back);
      continue;
    }
    t.deepEqual(theirs, fires, `${name}: the boundaries we would fire`);
    t.is(nextFireAt(name), after, `${name}: next_fire_at where ours puts it`);
  }
  t.true(fired.length > 64, `${fired.length} jobs`);
});

testWith04('compat.scheduler: our scheduler and a honker 0.4 process holding honker-scheduler never lead at once', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  t.teardown(() => db.close());
  const scheduler = db.scheduler();
  scheduler.add({ name: 'sec', queue: 'q', schedule: '@every 1s' });
  const jobs = (): number => scalar(db.raw, "SELECT count(*) FROM _honker_live WHERE queue = 'q'");
  // honker 0.4's bindings: acquire with a 60 s TTL, renew well before it lapses, tick while held.
  const h = await host04(t, file);
  t.is(await h.sql("SELECT honker_lock_acquire('honker-scheduler', 'py-0.4', 60)"), 1);
  const changes: boolean[] = [];
  const controller = new AbortController();
  const running = scheduler.run({ signal: controller.signal, leaseS: 2, onLeaderChange: (l) => changes.push(l) });
  await sleep(2500);
  t.deepEqual(changes, [], 'ours stands by while honker 0.4 holds the lock');
  t.is(jobs(), 0, 'and does not tick');
  t.is(await h.sql("SELECT honker_lock_renew('honker-scheduler', 'py-0.4', 60)"), 1, '0.4 still holds it');
  t.is(await h.sql("SELECT honker_lock_release('honker-scheduler', 'py-0.4')"), 1);
  await until(t, 'ours to lead', () => changes.includes(true));
  await until(t, 'a tick', () => jobs() > 0);
  for (let i = 0; i < 3; i++) {
    t.is(await h.sql("SELECT honker_lock_acquire('honker-scheduler', 'py-0.4', 60)"), 0, 'honker 0.4 stands by while ours leads');
    await sleep(500);
  }
  controller.abort();
  await running;
  t.deepEqual(changes, [true, false]);
  t.is(await h.sql("SELECT honker_lock_acquire('honker-scheduler', 'py-0.4', 60)"), 1, 'and takes over once ours stops');
});
