/**
 * Worker liveness through SQL (ext/lifeline.c): honker_worker_register /
 * honker_worker_unregister / honker_workers_rescue / honker_workers, and the
 * claim path's own rescue. Other processes are /usr/bin/python3 hosts
 * (test/fixtures/lifeline-sql.py): a worker takes part with SQL alone.
 */
import test from './helpers/test.js';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freshDb, openDb, repoRoot, scalar, sqlError, tempDbPath, type Db } from './helpers/db.js';
import { sqlHost, workers } from './helpers/lifeline.js';

const nowS = (): number => Math.floor(Date.now() / 1000);

function enqueue(db: Db, queue: string, n: number, maxAttempts = 3): void {
  for (let i = 0; i < n; i++) db.prepare('SELECT honker_enqueue(?, ?, NULL, NULL, 0, ?, NULL)').get(queue, `{"i":${i}}`, maxAttempts);
}

/** The (worker_id, claim_expires_at - now) of every processing row. */
function claims(db: Db): Array<{ worker_id: string; left: number }> {
  return db
    .prepare("SELECT worker_id, claim_expires_at - unixepoch() AS left FROM _honker_live WHERE state = 'processing' ORDER BY id")
    .all() as Array<{ worker_id: string; left: number }>;
}

test('lifeline.register: the lowest free slot; nested per connection; unregister releases; honker_workers lists', (t) => {
  const { db, file } = freshDb(t);
  const other = openDb(file);
  t.teardown(() => other.close());
  t.is(scalar(db, "SELECT honker_worker_register('a')"), 0);
  t.is(scalar(db, "SELECT honker_worker_register('a')"), 0, 'the same connection and id: the same slot');
  t.is(scalar(other, "SELECT honker_worker_register('a')"), 1, 'another connection of this process: its own slot');
  t.is(scalar(db, "SELECT honker_worker_register('b')"), 2);
  const rows = workers(db);
  t.deepEqual(
    rows.map((r) => [r.worker_id, r.slot, r.pid, r.alive, r.claims]),
    [
      ['a', 0, process.pid, true, 0],
      ['a', 1, process.pid, true, 0],
      ['b', 2, process.pid, true, 0],
    ],
  );
  t.true(rows.every((r) => typeof r.host === 'string' && r.host.length > 0 && Math.abs(r.registered_at - nowS()) <= 2));
  // Two registrations of 'a' on db: the first unregister keeps the slot, the second frees it.
  t.is(scalar(db, "SELECT honker_worker_unregister('a')"), 1);
  t.deepEqual(workers(db).map((r) => r.slot), [0, 1, 2]);
  t.is(scalar(db, "SELECT honker_worker_unregister('a')"), 1);
  t.deepEqual(workers(db).map((r) => r.slot), [1, 2]);
  t.is(scalar(db, "SELECT honker_worker_unregister('a')"), 0, 'nothing left to release on this connection');
  t.is(scalar(db, "SELECT honker_worker_unregister('never')"), 0);
  t.is(scalar(db, "SELECT honker_worker_register('c')"), 0, 'slot 0 is free again');
  t.is(scalar(db, 'SELECT honker_workers_rescue()'), 0, 'everyone is alive');
  t.is(workers(db).length, 3);
});

test('lifeline.register: errors name the function and what to change', (t) => {
  const { db } = freshDb(t);
  t.is(sqlError(t, db, 'SELECT honker_worker_register(NULL)'), 'honker_worker_register: worker_id must be non-empty TEXT (got NULL)');
  t.is(sqlError(t, db, "SELECT honker_worker_register('')"), "honker_worker_register: worker_id must be non-empty TEXT (got TEXT '')");
  t.is(sqlError(t, db, 'SELECT honker_worker_unregister(7)'), 'honker_worker_unregister: worker_id must be non-empty TEXT (got INTEGER 7)');
  db.exec("CREATE TRIGGER reg AFTER INSERT ON _honker_meta BEGIN SELECT honker_worker_register('t'); END");
  t.is(sqlError(t, db, "INSERT INTO _honker_meta VALUES ('x', 'y')"), 'unsafe use of honker_worker_register()', 'direct-only');
  const mem = openDb(':memory:');
  t.teardown(() => mem.close());
  t.is(
    sqlError(t, mem, "SELECT honker_worker_register('w')"),
    'honker_worker_register: the main database must be a file (got an in-memory or temporary database)',
  );
  t.is(scalar(mem, 'SELECT honker_workers_rescue()'), 0);
  t.is(scalar(mem, 'SELECT honker_workers()'), '[]');
  // A lock file that cannot be opened: the reason, with the path; the claim path goes on without it.
  const blockedFile = tempDbPath(t, 'blocked.db');
  const blocked = openDb(blockedFile);
  t.teardown(() => blocked.close());
  mkdirSync(`${blockedFile}-honker`);
  t.is(
    sqlError(t, blocked, "SELECT honker_worker_register('w')"),
    `honker_worker_register: cannot open the lock file '${blockedFile}-honker': Is a directory`,
  );
  blocked.prepare("INSERT INTO _honker_workers VALUES ('w', 0, 1, 'elsewhere', 0, 1)").run();
  t.is(sqlError(t, blocked, 'SELECT honker_workers_rescue()'), `honker_workers_rescue: cannot open the lock file '${blockedFile}-honker': Is a directory`);
  enqueue(blocked, 'q', 1);
  t.is(JSON.parse(scalar(blocked, "SELECT honker_claim_batch('q', 'w', 1, 300)")).length, 1);
  t.is(scalar(blocked, 'SELECT count(*) FROM _honker_workers'), 1, 'nothing judged: the visibility timeout decides');
  const old = openDb(tempDbPath(t, 'old.db'));
  t.teardown(() => old.close());
  old.exec('DROP TABLE _honker_workers'); // as bootstrapped by schema 1
  t.is(sqlError(t, old, "SELECT honker_worker_register('w')"), 'honker_worker_register: no table _honker_workers: run honker_bootstrap() first');
  t.is(scalar(old, 'SELECT honker_workers()'), '[]');
  t.is(scalar(old, 'SELECT honker_workers_rescue()'), 0);
  enqueue(old, 'q', 1);
  t.is(JSON.parse(scalar(old, "SELECT honker_claim_batch('q', 'w', 1, 300)")).length, 1, 'the claim path works without the table');
  t.true(scalar<number>(old, "SELECT honker_queue_next_claim_at('q')") > nowS() + 200);
});

test('lifeline.rescue: a SIGKILLed process loses its claims at once; attempts count; its row goes; others keep theirs', async (t) => {
  const { db, file } = freshDb(t);
  enqueue(db, 'q', 4);
  const py = await sqlHost(t, file);
  t.is(await py.sql("SELECT honker_worker_register('py-1')"), 0);
  t.is(JSON.parse(await py.sql("SELECT honker_claim_batch('q', 'py-1', 2, 300)")).length, 2);
  // An unregistered claimer (raw SQL, honker 0.4) and a live registered one keep their claims.
  t.is(scalar(db, "SELECT honker_worker_register('ts-1')"), 1);
  t.is(JSON.parse(scalar(db, "SELECT honker_claim_batch('q', 'ts-1', 1, 300)")).length, 1);
  t.is(JSON.parse(scalar(db, "SELECT honker_claim_batch('q', 'raw', 1, 300)")).length, 1);
  t.deepEqual(
    workers(db).map((r) => [r.worker_id, r.pid, r.alive, r.claims]),
    [
      ['py-1', py.pid, true, 2],
      ['ts-1', process.pid, true, 1],
    ],
  );
  t.is(scalar(db, 'SELECT honker_workers_rescue()'), 0, 'a live worker keeps its claims');
  await py.kill();
  t.like(workers(db)[0], { worker_id: 'py-1', alive: false, claims: 2 });
  t.is(scalar(db, 'SELECT honker_workers_rescue()'), 2);
  t.deepEqual(
    claims(db).map((c) => [c.worker_id, c.left < 0, c.left > 200]),
    [
      ['py-1', true, false],
      ['py-1', true, false],
      ['ts-1', false, true],
      ['raw', false, true],
    ],
  );
  t.deepEqual(workers(db).map((r) => r.worker_id), ['ts-1'], 'the dead row is deleted');
  t.is(scalar(db, 'SELECT honker_workers_rescue()'), 0);
  const again = JSON.parse(scalar(db, "SELECT honker_claim_batch('q', 'ts-1', 5, 300)")) as Array<{ attempts: number }>;
  t.deepEqual(
    again.map((j) => j.attempts),
    [2, 2],
    'reclaimed as a lapsed claim: the attempt counts',
  );
});

test('lifeline.rescue: honker_claim_batch rescues by itself; a job killed on its final attempt is dead-lettered', async (t) => {
  const { db, file } = freshDb(t);
  enqueue(db, 'q', 1, 1);
  const py = await sqlHost(t, file);
  await py.sql("SELECT honker_worker_register('py-1')");
  const [job] = JSON.parse(await py.sql("SELECT honker_claim_batch('q', 'py-1', 1, 300)")) as Array<{ id: number }>;
  await py.kill();
  t.is(scalar(db, "SELECT honker_claim_batch('q', 'ts', 1, 300)"), '[]', 'the final attempt was used: nothing to hand out');
  t.is(scalar(db, 'SELECT count(*) FROM _honker_live'), 0);
  t.is(scalar(db, 'SELECT last_error FROM _honker_dead WHERE id = ?', job.id), 'max attempts exceeded');
  t.is(workers(db).length, 0);
});

test('lifeline.rescue: one worker_id in two processes is dead only when both are gone', async (t) => {
  const { db, file } = freshDb(t);
  enqueue(db, 'q', 2);
  const a = await sqlHost(t, file, 'a');
  const b = await sqlHost(t, file, 'b');
  t.deepEqual([await a.sql("SELECT honker_worker_register('shared')"), await b.sql("SELECT honker_worker_register('shared')")], [0, 1]);
  await a.sql("SELECT honker_claim_batch('q', 'shared', 1, 300)");
  await b.sql("SELECT honker_claim_batch('q', 'shared', 1, 300)");
  await a.kill();
  t.is(scalar(db, 'SELECT honker_workers_rescue()'), 0, "claims only name the id: the live process's slot keeps them");
  t.deepEqual(workers(db).map((r) => [r.slot, r.alive]), [[1, true]], "the dead slot's row is deleted all the same");
  await b.kill();
  t.is(scalar(db, 'SELECT honker_workers_rescue()'), 2);
});

test('lifeline.rescue: an unregistered process killed with its claims keeps the visibility-timeout rule', async (t) => {
  const { db, file } = freshDb(t);
  enqueue(db, 'q', 2);
  const registered = await sqlHost(t, file, 'registered');
  const unregistered = await sqlHost(t, file, 'unregistered');
  await registered.sql("SELECT honker_worker_register('reg')");
  await registered.sql("SELECT honker_claim_batch('q', 'reg', 1, 300)");
  await unregistered.sql("SELECT honker_claim_batch('q', 'raw', 1, 300)"); // honker 0.4 style: no registration
  await Promise.all([registered.kill(), unregistered.kill()]);
  t.is(scalar(db, 'SELECT honker_workers_rescue()'), 1);
  t.deepEqual(
    claims(db).map((c) => [c.worker_id, c.left < 0, c.left > 200]),
    [
      ['reg', true, false],
      ['raw', false, true],
    ],
  );
  t.is(JSON.parse(scalar(db, "SELECT honker_claim_batch('q', 'ts', 5, 300)")).length, 1, "only the registered worker's job comes back");
});

test('lifeline.rescue: a stopped process (SIGSTOP) is alive: its claims are kept', async (t) => {
  const { db, file } = freshDb(t);
  enqueue(db, 'q', 1);
  const py = await sqlHost(t, file);
  await py.sql("SELECT honker_worker_register('py-1')");
  await py.sql("SELECT honker_claim_batch('q', 'py-1', 1, 300)");
  process.kill(py.pid, 'SIGSTOP');
  try {
    t.is(scalar(db, 'SELECT honker_workers_rescue()'), 0);
    t.is(scalar(db, "SELECT honker_claim_batch('q', 'ts', 1, 300)"), '[]');
    t.true(workers(db)[0].alive);
  } finally {
    process.kill(py.pid, 'SIGCONT');
  }
  t.is(await py.sql("SELECT honker_ack((SELECT id FROM _honker_live), 'py-1')"), 1);
});

test('lifeline.close: a connection that closes frees its slot at once; the next rescue deletes its row', async (t) => {
  const { db, file } = freshDb(t);
  const py = await sqlHost(t, file);
  t.is(await py.sql("SELECT honker_worker_register('py-1')"), 0);
  t.true(workers(db)[0].alive);
  t.deepEqual(await py.command('.close'), { closed: true });
  t.false(workers(db)[0].alive, 'the byte is free while the process lives on');
  t.is(scalar(db, 'SELECT honker_workers_rescue()'), 0);
  t.deepEqual(workers(db), []);
  // The same process registers again on a new connection: slot 0 again.
  await py.command('.open');
  t.is(await py.sql("SELECT honker_worker_register('py-1')"), 0);
  t.true(workers(db)[0].alive);
});

test('lifeline.close: this process sees its own closed connection as dead', (t) => {
  const { db, file } = freshDb(t);
  const other = openDb(file);
  t.is(scalar(other, "SELECT honker_worker_register('mine')"), 0);
  other.close();
  t.deepEqual(workers(db).map((r) => [r.worker_id, r.alive]), [['mine', false]]);
  t.is(scalar(db, 'SELECT honker_workers_rescue()'), 0);
  t.deepEqual(workers(db), []);
});

test('lifeline.register: a dead process slot is taken over, its claims rescued first', async (t) => {
  const { db, file } = freshDb(t);
  enqueue(db, 'q', 1);
  const py = await sqlHost(t, file);
  await py.sql("SELECT honker_worker_register('worker-1')");
  await py.sql("SELECT honker_claim_batch('q', 'worker-1', 1, 300)");
  await py.kill();
  // Restarted with the same id in this process: slot 0 again, the old claim lapsed.
  t.is(scalar(db, "SELECT honker_worker_register('worker-1')"), 0);
  t.true(claims(db)[0].left < 0);
  t.deepEqual(workers(db).map((r) => [r.pid, r.alive]), [[process.pid, true]]);
});

test('lifeline.fork: a forked child inherits no slot; it registers its own and sees the parent alive', async (t) => {
  const { db, file } = freshDb(t);
  const py = await sqlHost(t, file);
  t.is(await py.sql("SELECT honker_worker_register('parent')"), 0);
  const forked = (await py.command(".fork SELECT honker_worker_register('child') || ' ' || honker_workers()")) as { child: number; value: string };
  t.teardown(() => {
    try {
      process.kill(forked.child, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const [slot, ...json] = forked.value.split(' ');
  t.is(slot, '1', "the parent's byte is held (by the parent), so the child takes the next one");
  const seen = JSON.parse(json.join(' ')) as Array<{ worker_id: string; alive: boolean }>;
  t.deepEqual(seen.map((r) => [r.worker_id, r.alive]), [['parent', true], ['child', true]]);
  process.kill(forked.child, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (workers(db).find((r) => r.worker_id === 'child')?.alive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(workers(db).map((r) => [r.worker_id, r.alive]), [['parent', true], ['child', false]]);
});

test('lifeline.next_claim_at: at most now + 1 while jobs are in flight and workers registered; unchanged otherwise', (t) => {
  const { db } = freshDb(t);
  const next = (): number => scalar<number>(db, "SELECT honker_queue_next_claim_at('q') - unixepoch()");
  enqueue(db, 'q', 1);
  db.prepare("SELECT honker_claim_batch('q', 'raw', 1, 300)").get();
  t.true(next() >= 299, 'no registered worker: the lapse of the claim');
  t.is(scalar(db, "SELECT honker_worker_register('w')"), 0);
  t.true(next() <= 1, 'registered workers: look again within a second');
  db.prepare("SELECT honker_ack((SELECT id FROM _honker_live), 'raw')").get();
  t.is(scalar(db, "SELECT honker_queue_next_claim_at('q')"), 0, 'an idle queue costs nothing more');
  db.prepare("SELECT honker_enqueue('q', '{}', NULL, 600, 0, 3, NULL)").get();
  t.true(next() >= 599, 'a delayed job and nothing in flight: its run_at');
});

test('lifeline statements: the ones on _honker_live read only in-flight rows (the processing partial index)', (t) => {
  const { db } = freshDb(t);
  const src = readFileSync(path.join(repoRoot, 'ext', 'lifeline.c'), 'utf8');
  const statements = [...src.matchAll(/static const char (\w+_SQL)\[\] =((?:\s*"(?:[^"\\]|\\.)*")+);/g)].map((m) => ({
    name: m[1],
    sql: [...m[2].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => s[1].replace(/\\"/g, '"')).join(''),
  }));
  t.true(statements.length >= 8);
  for (const { name, sql } of statements) {
    const anon = sql.replace(/\?\d+/g, '?');
    const count = (anon.match(/\?/g) ?? []).length;
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${anon}`).all(...Array(count).fill(null)) as Array<{ detail: string }>)
      .map((r) => r.detail)
      .join('; ');
    if (/_honker_live\b/.test(sql)) t.regex(plan, /_honker_live USING INDEX _honker_live_processing_deadline/, `${name}: ${plan}`);
    t.notRegex(plan, /SCAN _honker_(live|dead|job_errors)\b(?! USING INDEX _honker_live_processing_deadline)/, `${name}: ${plan}`);
  }
});
