/**
 * cli migrate: `honker migrate app.db postgres://…` as a real child process.
 * A populated file (due, scheduled, unique, claimed and retried jobs, dead
 * letters with their errors, schedules one paused, a stream with a consumer
 * offset, results) reads the same through the SQL surface on both engines
 * after the copy; a worker process on Postgres then finishes the jobs. A
 * second run copies nothing twice; a target holding other data is refused
 * without --force; bad arguments are usage errors before anything is written.
 */
import type { ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import pg from 'pg';
import { open, type HonkerDatabase } from '../../src/index.js';
import { openPostgres } from '../../src/postgres/index.js';
import { fixtureChild } from '../helpers/child.js';
import { runCli } from '../helpers/cli.js';
import { tempDbPath } from '../helpers/db.js';
import { create04File, schemaOf } from '../helpers/honker04.js';
import { pgTest, usePg } from '../helpers/pg.js';

const harness = usePg();

/** A file with a bit of everything; returns the ids of the task jobs a worker can finish. */
function populate(file: string): { workIds: number[] } {
  const db: HonkerDatabase = open(file);
  try {
    const work = db.queue('jobs').task('work', (i: number, _ms: number) => i);
    const workIds = [0, 1, 2, 3, 4].map((i) => work(i, 0).id);
    const emails = db.queue('emails', { maxAttempts: 2 });
    emails.enqueue({ to: 'later' }, { delayS: 3600, priority: 4 });
    emails.enqueue({ to: 'once' }, { key: 'welcome:7', expiresS: 86400 });
    emails.enqueue({ to: 'retried' }, { priority: 9 });
    emails.enqueue({ to: 'dead' }, { priority: 8 });
    const [retried, dead] = emails.claimBatch('old-worker', 2);
    retried!.retry({ delayS: 0, error: 'smtp timeout' });
    dead!.fail(new Error('bad address'));
    db.queue('reports').enqueue({ day: 1 });
    db.queue('reports').claimBatch('old-worker', 1, { visibilityTimeoutS: 600 }); // processing when copied
    const s = db.scheduler();
    s.add({ name: 'nightly', queue: 'backups', schedule: '0 3 * * *', payload: { full: true } });
    s.add({ name: 'often', queue: 'pings', schedule: '@every 1m' });
    s.pause('often');
    const stream = db.stream('events');
    for (let n = 1; n <= 3; n++) stream.publish({ n }, { key: `k${n}` });
    stream.saveOffset('billing', 2);
    db.results.save(4242, { kept: true });
    return { workIds };
  } finally {
    db.close();
  }
}

/** The surface calls whose text must match after the copy. */
const READS: Array<[string, unknown[]]> = [
  ['honker_queues_stats()', []],
  ['honker_job_list(?1, NULL, 100)', ['emails']],
  ['honker_job_list(?1, NULL, 100)', ['jobs']],
  ['honker_job_list(?1, NULL, 100)', ['reports']],
  ['honker_dead_list(?1, 100)', ['emails']],
  ['honker_scheduler_list()', []],
  ['honker_stream_read_since(?1, 0, 100)', ['events']],
  ['honker_stream_get_offset(?1, ?2)', ['billing', 'events']],
  ['honker_result_get(4242)', []],
  ['honker_history(NULL, 0)', []],
];

async function readsOf(file: string, url: string): Promise<{ lite: string[]; pg: string[] }> {
  const lite = open(file);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const a = READS.map(([expr, args]) => String(lite.sql(`SELECT ${expr.replace(/\?\d/g, '?')}`).pluck().get(...args)));
    const b: string[] = [];
    for (const [expr, args] of READS) b.push(String((await c.query(`SELECT ${expr.replace(/\?(\d)/g, (_, n) => `$${n}::text`)} AS v`, args)).rows[0].v));
    return { lite: a, pg: b };
  } finally {
    lite.close();
    await c.end();
  }
}

async function target(t: ExecutionContext) {
  return harness.database(t);
}

pgTest('cli migrate: a populated file reads the same on Postgres; a worker process there finishes its jobs; new ids follow the copied ones', async (t) => {
  const file = tempDbPath(t);
  const { workIds } = populate(file);
  const url = await target(t);
  const r = await runCli(['migrate', file, url]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^live jobs: 9 copied\ndead jobs: 1 copied\nattempt errors: 2 copied\nschedules: 2 copied\nstream events: 3 copied\nstream consumers: 1 copied\nresults: 1 copied\nhistory minutes: [12] copied\nmigrated /);
  const { lite, pg: onPg } = await readsOf(file, url);
  t.deepEqual(onPg, lite);

  const db = await openPostgres(url);
  t.teardown(() => db.close());
  const worker = fixtureChild(t, 'matrix-task-worker', ['postgres', url, 'jobs', '2', 'pg-worker']);
  const work = db.queue('jobs').task('work', (i: number, _ms: number) => i);
  const handles = workIds.map((id) => work.handle(id));
  t.deepEqual(await Promise.all(handles.map((h) => h.get({ timeoutMs: 30_000 }))), [0, 1, 2, 3, 4]);
  await worker.close();
  t.like(await db.queue('jobs').stats(), { pending: 0, processing: 0, dead: 0 });
  // ids and offsets go on after the copied ones (the dead job and the result hold ids too)
  t.is(await db.queue('emails').enqueue({ to: 'new' }), 4243, 'after result 4242 (a job id too)');
  t.is(await db.stream('events').publish({ n: 4 }), 4);
});

pgTest('cli migrate: running again copies nothing twice; another database\'s data is refused without --force', async (t) => {
  const file = tempDbPath(t);
  populate(file);
  const url = await target(t);
  t.is((await runCli(['migrate', file, url])).code, 0);
  const again = await runCli(['migrate', file, url, '--json']);
  t.is(again.code, 0, again.stderr);
  const report = JSON.parse(again.stdout) as { tables: Record<string, { copied: number; skipped: number }> };
  t.deepEqual(report.tables['live jobs'], { copied: 0, skipped: 9 });
  t.true(Object.values(report.tables).every((x) => x.copied === 0));
  const { lite, pg: onPg } = await readsOf(file, url);
  t.deepEqual(onPg, lite);

  // another file into the same database: refused, nothing written
  const other = tempDbPath(t, 'other.db');
  const o = open(other);
  o.queue('emails').enqueue({ to: 'other' });
  o.close();
  const refused = await runCli(['migrate', other, url]);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /already holds honker data \(9 live jobs, 1 dead jobs, 2 attempt errors\), migrated from .*test\.db: give --force/);
  // --force into that data: job id 1 is another job's there, so nothing is copied (not skipped, not renumbered).
  const forced = await runCli(['migrate', other, url, '--force', '--json']);
  t.is(forced.code, 1);
  t.regex(forced.stderr, /1 live jobs of .*other\.db have job ids already used in .*nothing was copied: migrate into a database with no honker jobs yet/);
  const after = await readsOf(file, url);
  t.deepEqual(after.pg, lite, 'the target is as it was');
  // A file whose ids are free there is copied under --force; its schedule named like one there is kept as it is there.
  const third = tempDbPath(t, 'third.db');
  const th = open(third);
  th.raw.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('_honker_live', 1000)").run(); // ids from 1001
  th.queue('emails').enqueue({ to: 'third' });
  th.scheduler().add({ name: 'nightly', queue: 'elsewhere', schedule: '0 4 * * *' });
  th.close();
  const ok = await runCli(['migrate', third, url, '--force', '--json']);
  t.is(ok.code, 0, ok.stderr);
  const tables = JSON.parse(ok.stdout).tables;
  t.deepEqual(tables['live jobs'], { copied: 1, skipped: 0 });
  t.deepEqual(tables['schedules'], { copied: 0, skipped: 1 });
});

pgTest('cli migrate: tables longer than a page are copied whole, in key order, across page boundaries', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  const ids: number[] = [];
  db.transaction(() => {
    for (let i = 0; i < 2345; i++) ids.push(db.queue(i % 2 ? 'odd' : 'even').enqueue({ i }));
    for (let i = 0; i < 1001; i++) db.stream('events').publish({ i });
  });
  // Attempt errors keyed (job_id, attempt): 3 attempts each of 400 jobs, 1,200 rows.
  const flaky = db.queue('flaky', { maxAttempts: 4 });
  db.transaction(() => {
    for (let i = 0; i < 400; i++) flaky.enqueue({ i });
  });
  for (let attempt = 1; attempt <= 3; attempt++) for (const j of flaky.claimBatch('w', 400)) j.retry({ delayS: 0, error: `attempt ${attempt}` });
  db.close();
  const url = await target(t);
  const r = await runCli(['migrate', file, url, '--json']);
  t.is(r.code, 0, r.stderr);
  const tables = JSON.parse(r.stdout).tables as Record<string, { copied: number; skipped: number }>;
  t.deepEqual(tables['live jobs'], { copied: 2745, skipped: 0 });
  t.deepEqual(tables['stream events'], { copied: 1001, skipped: 0 });
  t.deepEqual(tables['attempt errors'], { copied: 1200, skipped: 0 });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  const got = (await c.query("SELECT id FROM _honker_live WHERE queue IN ('odd', 'even') ORDER BY id")).rows.map((row) => Number(row.id));
  t.deepEqual(got, ids);
  t.is(Number((await c.query('SELECT count(DISTINCT (job_id, attempt)) AS n FROM _honker_job_errors')).rows[0].n), 1200);
  const { lite, pg: onPg } = await readsOf(file, url);
  t.deepEqual(onPg, lite);
});

pgTest('cli migrate: bad arguments are usage errors; a missing file or a file that is not honker\'s writes nothing', async (t) => {
  const url = await target(t);
  const file = tempDbPath(t);
  populate(file);
  t.like(await runCli(['migrate', url, file]), { code: 2, stdout: '' });
  t.like(await runCli(['migrate', file, file]), { code: 2, stdout: '' });
  t.like(await runCli(['migrate', file]), { code: 2, stdout: '' });
  const missing = await runCli(['migrate', tempDbPath(t, 'nope.db'), url]);
  t.is(missing.code, 1);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  t.is((await c.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n, 0, 'honker not installed by a failed run');
});

pgTest('cli migrate: a honker 0.4 file no process of ours touched is copied (its missing columns read as null) and left unchanged', async (t) => {
  const file = tempDbPath(t);
  create04File(file);
  const raw = new Database(file);
  raw.prepare("INSERT INTO _honker_live (queue, payload, priority, run_at, max_attempts) VALUES ('emails', '{\"to\":\"old\"}', 2, 1700000000, 3)").run();
  raw.prepare("INSERT INTO _honker_dead (id, queue, payload, last_error) VALUES (7, 'emails', '{}', 'from 0.4')").run();
  raw.close();
  const before = schemaOf(file);
  const url = await target(t);
  const r = await runCli(['migrate', file, url, '--json']);
  t.is(r.code, 0, r.stderr);
  t.like(JSON.parse(r.stdout).tables, { 'live jobs': { copied: 1, skipped: 0 }, 'dead jobs': { copied: 1, skipped: 0 }, 'attempt errors': { copied: 0, skipped: 0 } });
  t.deepEqual(schemaOf(file), before, 'the file is not migrated by the copy');
  const db = await openPostgres(url);
  t.teardown(() => db.close());
  t.like(await db.queue('emails').getJob(1), { payload: { to: 'old' }, priority: 2, runAt: 1700000000 });
  t.like((await db.queue('emails').dead.list())[0], { id: 7, lastError: 'from 0.4' });
  t.is(await db.queue('emails').enqueue({ to: 'new' }), 8, 'after the dead job\'s id');
});
