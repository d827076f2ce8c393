/**
 * cli: `honker stats`, `honker jobs`, `honker dead` (listing) and
 * `honker schedule`, run as real child processes on real databases, table
 * and --json output. Read-only commands leave the database unchanged.
 */
import test from './helpers/test.js';
import { runCli, setupDb, snapshot } from './helpers/cli.js';
import { extPath, tempDbPath } from './helpers/db.js';
import { spawnSync } from 'node:child_process';

/** A table's rows split into cells (two or more spaces separate columns). */
function cells(stdout: string): string[][] {
  return stdout.trimEnd().split('\n').map((l) => l.split(/ {2,}/));
}

test('cli stats: a table of every queue, then --json with ages', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  const before = snapshot(file);
  const r = await runCli(['stats', file]);
  t.is(r.stderr, '');
  t.is(r.code, 0);
  const rows = cells(r.stdout);
  t.deepEqual(rows[0], ['QUEUE', 'PENDING', 'SCHEDULED', 'PROCESSING', 'DEAD', 'OLDEST PENDING']);
  t.deepEqual(rows.slice(1).map((c) => c.slice(0, 5)), [
    ['emails', '2', '1', '1', '2'],
    ['reports', '1', '0', '0', '0'],
  ]);
  t.regex(rows[1]![5]!, /^(\d+s|\d+m \d+s)$/); // alice waits since 30 s before setup
  t.regex(rows[2]![5]!, /^(\d+s|\d+m \d+s)$/);

  const j = await runCli(['stats', file, '--json']);
  t.is(j.code, 0);
  const stats = JSON.parse(j.stdout) as Array<Record<string, unknown>>;
  t.deepEqual(stats.map((s) => Object.keys(s)), Array(2).fill(['queue', 'pending', 'scheduled', 'processing', 'dead', 'oldest_pending_at', 'oldest_pending_age_s']));
  t.like(stats[0], { queue: 'emails', pending: 2, scheduled: 1, processing: 1, dead: 2 });
  t.true((stats[0]!.oldest_pending_age_s as number) >= 30);
  t.is(stats[0]!.oldest_pending_at as number, (stats[0]!.oldest_pending_at as number) | 0);
  t.is(snapshot(file), before);
});

test('cli stats: an empty database says so; --json is []', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'empty');
  t.deepEqual(await runCli(['stats', file]), { stdout: 'no queues\n', stderr: '', code: 0 });
  t.deepEqual(await runCli(['stats', '--json', file]), { stdout: '[]\n', stderr: '', code: 0 });
});

test('cli jobs: every live job by id, with state, attempts and worker', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  const r = await runCli(['jobs', file, 'emails']);
  t.is(r.code, 0);
  const rows = cells(r.stdout);
  t.deepEqual(rows[0], ['ID', 'STATE', 'PRIORITY', 'RUN AT', 'ATTEMPTS', 'WORKER', 'PAYLOAD']);
  t.deepEqual(
    rows.slice(1).map((c) => [c[0], c[1], c[2], c[4], c[5], c[6]]),
    [
      ['1', 'pending', '0', '0/1', '-', '{"to":"alice"}'],
      ['2', 'pending', '5', '0/1', '-', '{"to":"bob"}'],
      ['3', 'scheduled', '0', '0/1', '-', '{"to":"carol"}'],
      ['4', 'processing', '9', '1/1', 'worker-1', '{"to":"dave"}'],
    ],
  );
  t.regex(rows[1]![3]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
});

test('cli jobs --state: pending in claim order, scheduled, processing, dead; --limit; --json', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  const ids = async (state: string, ...more: string[]) => {
    const r = await runCli(['jobs', file, 'emails', '--state', state, '--json', ...more]);
    t.is(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Array<{ id: number }>).map((j) => j.id);
  };
  t.deepEqual(await ids('pending'), [2, 1]);
  t.deepEqual(await ids('scheduled'), [3]);
  t.deepEqual(await ids('processing'), [4]);
  t.deepEqual((await ids('dead')).sort(), [5, 6]);
  t.deepEqual(await ids('pending', '--limit', '1'), [2]);
  const r = await runCli(['jobs', file, 'emails', '--state', 'processing', '--json']);
  t.like(JSON.parse(r.stdout)[0], { id: 4, queue: 'emails', payload: { to: 'dave' }, state: 'processing', worker_id: 'worker-1', attempts: 1 });
  const s = await runCli(['jobs', file, 'emails', '--state', 'scheduled', '--json']);
  t.is(JSON.parse(s.stdout)[0].state, 'scheduled');
  t.deepEqual(await runCli(['jobs', file, 'reports', '--state', 'processing']), { stdout: 'no processing jobs\n', stderr: '', code: 0 });
});

test('cli dead: lists dead jobs with their last error, table and --json', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  const r = await runCli(['dead', file, 'emails']);
  t.is(r.code, 0);
  const rows = cells(r.stdout);
  t.deepEqual(rows[0], ['ID', 'DIED', 'ATTEMPTS', 'LAST ERROR', 'PAYLOAD']);
  t.deepEqual(rows.slice(1).map((c) => [c[0], c[2], c[3], c[4]]), [
    ['6', '1/1', 'bad address', '{"to":"frank"}'],
    ['5', '1/1', 'smtp down', '{"to":"erin"}'],
  ]);
  const j = await runCli(['dead', file, 'emails', '--json', '--limit', '1']);
  t.like(JSON.parse(j.stdout), [{ id: 6, queue: 'emails', payload: { to: 'frank' }, last_error: 'bad address' }]);
  t.deepEqual(await runCli(['dead', file, 'reports']), { stdout: 'no dead jobs\n', stderr: '', code: 0 });
});

test('cli schedule: list, pause, resume (table and --json)', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'schedules');
  const r = await runCli(['schedule', file]);
  t.is(r.code, 0, r.stderr);
  const rows = cells(r.stdout);
  t.deepEqual(rows[0], ['NAME', 'QUEUE', 'SCHEDULE', 'NEXT FIRE', 'STATE']);
  t.deepEqual(rows.slice(1).map((c) => [c[0], c[1], c[2], c[4]]), [
    ['nightly', 'backups', '0 3 * * *', 'active'],
    ['often', 'pings', '@every 1m', 'active'],
  ]);
  t.deepEqual(await runCli(['schedule', file, 'pause', 'often']), { stdout: 'often: paused\n', stderr: '', code: 0 });
  t.deepEqual(await runCli(['schedule', file, 'pause', 'often']), { stdout: 'often: already paused\n', stderr: '', code: 0 });
  const list = await runCli(['schedule', file, 'list', '--json']);
  const tasks = JSON.parse(list.stdout) as Array<{ name: string; enabled: boolean; payload: unknown }>;
  t.deepEqual(tasks.map((x) => [x.name, x.enabled]), [['nightly', true], ['often', false]]);
  t.deepEqual(tasks[0]!.payload, { full: true });
  t.deepEqual(cells((await runCli(['schedule', file])).stdout)[2]!.slice(3), ['-', 'paused']);
  t.deepEqual(await runCli(['schedule', file, 'resume', 'often', '--json']), {
    stdout: '{"name":"often","state":"active","changed":true}\n',
    stderr: '',
    code: 0,
  });
});

test('cli --help: every command prints its usage and exits 0', async (t) => {
  for (const cmd of ['stats', 'jobs', 'dead', 'enqueue', 'notify', 'listen', 'tail', 'schedule', 'worker']) {
    const r = await runCli([cmd, '--help']);
    t.is(r.code, 0, cmd);
    t.true(r.stdout.startsWith(`usage: honker ${cmd} `), cmd);
    t.is(r.stderr, '');
  }
  const top = await runCli(['--help']);
  t.is(top.code, 0);
  t.regex(top.stdout, /^usage: honker <command>/);
  t.regex((await runCli(['help', 'tail'])).stdout, /^usage: honker tail /);
});

test('cli extension-path: prints the library the client loads; it loads into the sqlite3 CLI as printed', async (t) => {
  const r = await runCli(['extension-path']);
  t.deepEqual(r, { stdout: `${extPath}\n`, stderr: '', code: 0 });
  t.deepEqual(await runCli(['extension-path', '--json']), { stdout: `${JSON.stringify({ path: extPath })}\n`, stderr: '', code: 0 });
  const file = tempDbPath(t);
  const cli = spawnSync('sqlite3', [file, '-cmd', `.load ${r.stdout.trim()}`, 'SELECT honker_bootstrap()'], { encoding: 'utf8' });
  t.is(cli.stderr, '');
  t.is(cli.stdout, '1\n');
  t.is((await runCli(['extension-path', 'extra'])).code, 2);
});
