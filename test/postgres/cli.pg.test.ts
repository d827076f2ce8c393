/**
 * cli on Postgres: every command that takes a file takes a postgres:// URL,
 * run as real child processes against the throwaway server; effects are
 * checked through openPostgres. A database without honker's tables is
 * refused (never installed into) and the URL's password never printed.
 */
import path from 'node:path';
import pg from 'pg';
import { openPostgres } from '../../src/postgres/index.js';
import { cliChild, runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/db.js';
import { pgTest, usePg } from '../helpers/pg.js';

const harness = usePg();
const tasksModule = path.join(repoRoot, 'test', 'fixtures', 'cli-worker-pg-tasks.ts');

async function honkerDb(t: Parameters<typeof harness.database>[0]) {
  const url = await harness.database(t);
  const db = await openPostgres(url);
  t.teardown(() => db.close());
  return { url, db };
}

pgTest('cli on postgres: enqueue, stats, jobs, dead list and requeue, purge', async (t) => {
  const { url, db } = await honkerDb(t);
  t.deepEqual(await runCli(['enqueue', url, 'emails', '{"to":"alice"}']), { stdout: '1\n', stderr: '', code: 0 });
  t.deepEqual(await runCli(['enqueue', url, 'emails', '"later"', '--delay', '60', '--priority=-3', '--json']), { stdout: '{"id":2}\n', stderr: '', code: 0 });
  const q = db.queue('emails', { maxAttempts: 1 });
  t.like(await q.getJob(1), { payload: { to: 'alice' }, priority: 0 });
  t.like(await q.getJob(2), { payload: 'later', priority: -3 });
  await q.enqueue({ to: 'bob' });
  const [job] = await q.claimBatch('w1', 1);
  await job!.fail(new Error('smtp down'));

  const stats = await runCli(['stats', url, '--json']);
  t.is(stats.code, 0, stats.stderr);
  t.like(JSON.parse(stats.stdout)[0], { queue: 'emails', pending: 1, scheduled: 1, processing: 0, dead: 1 });
  const jobs = await runCli(['jobs', url, 'emails', '--state', 'scheduled', '--json']);
  t.is(jobs.code, 0, jobs.stderr);
  t.deepEqual(JSON.parse(jobs.stdout).map((j: { id: number }) => j.id), [2]);
  const dead = await runCli(['dead', url, 'emails', '--json']);
  t.is(dead.code, 0, dead.stderr);
  t.like(JSON.parse(dead.stdout)[0], { id: 1, last_error: 'smtp down' });
  t.deepEqual(await runCli(['jobs', url, 'nope']), { stdout: '', stderr: "honker jobs: unknown queue 'nope' (no live or dead job; queues: emails)\n", code: 1 });

  t.deepEqual(await runCli(['dead', url, 'emails', '--requeue', '1']), { stdout: "requeued dead job 1 of queue 'emails'\n", stderr: '', code: 0 });
  t.like(await q.stats(), { pending: 2, dead: 0 });
  const [again] = await q.claimBatch('w1', 1);
  await again!.fail('gone');
  t.deepEqual(await runCli(['dead', url, 'emails', '--purge', '--json']), { stdout: '{"purged":1}\n', stderr: '', code: 0 });
  t.like(await q.stats(), { dead: 0 });
});

pgTest('cli on postgres: notify reaches a listen child; tail prints a stream with a saved consumer offset', async (t) => {
  const { url, db } = await honkerDb(t);
  const listener = cliChild(t, ['listen', url, 'orders', '--json']);
  await listener.until('the listening line', () => listener.stderr.includes('listening'));
  t.deepEqual(await runCli(['notify', url, 'orders', '{"id":42}']), { stdout: '1\n', stderr: '', code: 0 });
  const line = await listener.next(20_000);
  t.like(JSON.parse(line), { id: 1, channel: 'orders', payload: { id: 42 } });
  listener.signal('SIGINT');
  t.is(await listener.exited, 0);

  const stream = db.stream('events');
  await stream.publish({ n: 1 });
  const tail = cliChild(t, ['tail', url, 'events', '--consumer', 'c1', '--from', '0', '--json']);
  t.like(JSON.parse(await tail.next(20_000)), { offset: 1, payload: { n: 1 } });
  await stream.publish({ n: 2 });
  t.like(JSON.parse(await tail.next(20_000)), { offset: 2, payload: { n: 2 } });
  tail.signal('SIGINT');
  t.is(await tail.exited, 0);
  t.is(await stream.offset('c1'), 2);
});

pgTest('cli on postgres: schedule list, pause and resume', async (t) => {
  const { url, db } = await honkerDb(t);
  await db.scheduler().add({ name: 'nightly', queue: 'backups', schedule: '0 3 * * *', payload: { full: true } });
  const list = await runCli(['schedule', url, '--json']);
  t.is(list.code, 0, list.stderr);
  t.like(JSON.parse(list.stdout)[0], { name: 'nightly', queue: 'backups', schedule: '0 3 * * *' });
  t.deepEqual(await runCli(['schedule', url, 'pause', 'nightly']), { stdout: 'nightly: paused\n', stderr: '', code: 0 });
  t.deepEqual(await runCli(['schedule', url, 'pause', 'nightly']), { stdout: 'nightly: already paused\n', stderr: '', code: 0 });
  t.deepEqual(await runCli(['schedule', url, 'resume', 'nightly']), { stdout: 'nightly: active\n', stderr: '', code: 0 });
  t.deepEqual(await runCli(['schedule', url, 'pause', 'nope']), { stdout: '', stderr: "honker schedule: no schedule named 'nope'\n", code: 1 });
});

pgTest('cli on postgres: honker worker runs a module whose tasks are on Postgres; SIGTERM stops it', async (t) => {
  const { url, db } = await honkerDb(t);
  const add = db.queue('math').task('add', (a: number, b: number) => a + b);
  const first = await add(2, 3);
  const worker = cliChild(t, ['worker', tasksModule], { HONKER_TEST_PG: url });
  t.is(await first.get({ timeoutMs: 30_000 }), 5);
  t.is(await (await add(10, 20)).get({ timeoutMs: 30_000 }), 30);
  await worker.until('the started line', () => worker.stderr.includes('started'));
  worker.signal('SIGTERM');
  t.is(await worker.exited, 0);
  t.regex(worker.stderr, /claimed 2, completed 2, failed 0/);
  t.like(await db.queue('math').stats(), { pending: 0, processing: 0, dead: 0 });
});

pgTest('cli on postgres: a database without honker is refused and left empty; the password is not printed', async (t) => {
  const url = await harness.database(t);
  const u = new URL(url);
  u.password = 'sekret';
  const r = await runCli(['stats', u.toString()]);
  t.is(r.code, 1);
  t.false(r.stderr.includes('sekret'), r.stderr);
  const plain = await runCli(['enqueue', url, 'emails', '1']);
  t.deepEqual(plain, { stdout: '', stderr: `honker enqueue: ${url}: not a honker database (it has no _honker_live table)\n`, code: 1 });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  const tables = await c.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
  t.is(tables.rows[0].n, 0);
});

pgTest('cli on postgres: read commands and the read-only dashboard use the functions as installed; a writing command upgrades them', async (t) => {
  const { url, db } = await honkerDb(t);
  await db.queue('emails').enqueue({ to: 'a' });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  // What an older honker left: another install version.
  await c.query("CREATE OR REPLACE FUNCTION honker_install_version() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'older'::text $$");
  const version = async () => (await c.query('SELECT honker_install_version() AS v')).rows[0].v as string;
  const stats = await runCli(['stats', url, '--json']);
  t.is(stats.code, 0, stats.stderr);
  t.like(JSON.parse(stats.stdout)[0], { queue: 'emails', pending: 1 });
  t.is((await runCli(['jobs', url, 'emails', '--json'])).code, 0);
  t.is(await version(), 'older', 'stats and jobs changed nothing');
  const dash = cliChild(t, ['dashboard', url, '--port', '0', '--read-only']);
  t.regex(await dash.nextMatching((l) => l.startsWith('honker dashboard:'), 20_000), /\(read-only\)/);
  t.is(await version(), 'older', 'the read-only dashboard changed nothing');
  dash.proc.kill('SIGINT');
  t.is(await new Promise<number | null>((resolve) => dash.proc.once('exit', (code) => resolve(code))), 0);
  t.is((await runCli(['enqueue', url, 'emails', '{"to":"b"}'])).code, 0);
  t.not(await version(), 'older', 'a writing command brought the functions up to date');

  const empty = await harness.database(t);
  const err = await t.throwsAsync(openPostgres(empty, { install: false }));
  t.regex(err!.message, /honker is not installed there .*install: false never installs it/);
  const e = new pg.Client({ connectionString: empty });
  await e.connect();
  t.teardown(() => e.end());
  t.is((await e.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n, 0, 'nothing installed');
});

pgTest('cli on postgres: the dashboard on a URL it cannot reach fails with one line, without the password', async (t) => {
  const r = await runCli(['dashboard', 'postgres://nobody:secret@127.0.0.1:1/none', '--port', '0']);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.regex(r.stderr, /^honker dashboard: cannot read postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none: .+\n$/);
  t.false(r.stderr.includes('secret'));
});
