/**
 * cli: who may read and write. The read-only commands (stats, jobs, dead,
 * schedule list) create no file: a closed WAL database is read as immutable,
 * so no -wal or -shm appears owned by whoever ran them (which would keep the
 * database's owner from writing), and a read-only directory is no obstacle; an
 * open one is read as usual, WAL included. A writing command that cannot write
 * says so in one line, before anything is created. The user cases run the CLI
 * as nobody on root's database (setpriv; skipped where not root).
 */
import test from './helpers/test.js';
import type { ExecutionContext } from 'ava';
import { chmodSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runCli, runCliAsNobody, setupDb } from './helpers/cli.js';
import { openDb, tempDir } from './helpers/db.js';
import { withReadSnapshot } from '../src/cli/open.js';
import { nobodyMissing, testIf } from './helpers/test-if.js';

const asNobody = testIf(nobodyMissing === undefined, nobodyMissing ?? '');

const readCommands = (file: string): string[][] => [
  ['stats', file, '--json'],
  ['jobs', file, 'emails', '--json'],
  ['dead', file, 'emails', '--json'],
  ['schedule', file, '--json'],
];

/** root's closed honker database a.db (queues and schedules) in a directory of that mode that nobody can reach. */
function rootDb(t: ExecutionContext, mode: number): { dir: string; file: string } {
  const dir = path.join(tempDir(t), 'd');
  mkdirSync(dir);
  chmodSync(path.dirname(dir), 0o755);
  const file = path.join(dir, 'a.db');
  setupDb(file, 'queues');
  setupDb(file, 'schedules');
  chmodSync(dir, mode);
  return { dir, file };
}

/** The JSON a read command printed, without the ages that move with the clock. */
function stable(stdout: string): unknown {
  return JSON.parse(stdout.replace(/"oldest_pending_age_s":\d+/g, '"oldest_pending_age_s":0'));
}

test('cli access: read-only commands on a closed database leave no -wal or -shm behind', async (t) => {
  const { dir, file } = rootDb(t, 0o755);
  for (const args of readCommands(file)) {
    const r = await runCli(args);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(readdirSync(dir).sort(), ['a.db', 'a.db-wake'], args.join(' '));
  }
});

test('cli access: while a writer has the database open, reads see what it committed to the WAL', async (t) => {
  const { file } = rootDb(t, 0o755);
  const writer = openDb(file);
  t.teardown(() => writer.close());
  writer.pragma('wal_autocheckpoint = 0'); // the job stays in a.db-wal
  writer.prepare("SELECT honker_enqueue('fresh', '{}', NULL, NULL, 0, 3, NULL)").get();
  const r = await runCli(['stats', file, '--json']);
  t.is(r.code, 0, r.stderr);
  t.true((stable(r.stdout) as Array<{ queue: string }>).some((q) => q.queue === 'fresh'), r.stdout);
});

test('cli access: a paged read (honker migrate) sees one snapshot, and an idle file written meanwhile is refused before it is acted on', async (t) => {
  const { dir, file } = rootDb(t, 0o755);
  const count = (raw: { prepare(sql: string): { pluck(): { get(): unknown } } }) =>
    raw.prepare('SELECT count(*) FROM _honker_live').pluck().get() as number;
  // Idle (no -wal): read immutable; a write in the middle is caught by unchanged().
  const err = await t.throwsAsync(
    withReadSnapshot(file, async (raw, unchanged) => {
      count(raw);
      const writer = openDb(file);
      writer.prepare("SELECT honker_enqueue('late', '{}', NULL, NULL, 0, 3, NULL)").get();
      writer.close();
      await new Promise((r) => setTimeout(r, 5));
      unchanged();
    }),
  );
  t.regex(err!.message, /a\.db was written while it was read: stop the processes that write it, then run again$/);
  // Open by a writer (a -wal exists): a read transaction holds the snapshot across awaits.
  const writer = openDb(file);
  t.teardown(() => writer.close());
  writer.pragma('wal_autocheckpoint = 0');
  writer.prepare("SELECT honker_enqueue('x', '{}', NULL, NULL, 0, 3, NULL)").get();
  const seen = await withReadSnapshot(file, async (raw, unchanged) => {
    const before = count(raw);
    writer.prepare("SELECT honker_enqueue('x', '{}', NULL, NULL, 0, 3, NULL)").get();
    await new Promise((r) => setTimeout(r, 5));
    unchanged(); // a WAL file: nothing to refuse, the snapshot held
    return [before, count(raw)];
  });
  t.is(seen[0], seen[1]);
  t.true(readdirSync(dir).includes('a.db-wal'));
});

asNobody("cli access: another user's read-only commands create no file, in a world-writable directory", async (t) => {
  const { dir, file } = rootDb(t, 0o1777);
  for (const args of readCommands(file)) {
    const mine = await runCli(args);
    const theirs = await runCliAsNobody(args);
    t.is(theirs.code, 0, theirs.stderr);
    t.deepEqual(stable(theirs.stdout), stable(mine.stdout), args.join(' '));
    t.deepEqual(readdirSync(dir).sort(), ['a.db', 'a.db-wake'], args.join(' '));
  }
});

asNobody('cli access: read-only commands work in a directory the user cannot write', async (t) => {
  const { dir, file } = rootDb(t, 0o755);
  for (const args of readCommands(file)) {
    const r = await runCliAsNobody(args);
    t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  t.deepEqual(readdirSync(dir).sort(), ['a.db', 'a.db-wake']);
});

asNobody('cli access: a writing command on a database the user cannot write says so in one line and creates nothing', async (t) => {
  const { dir, file } = rootDb(t, 0o1777);
  const before = readFileSync(file); // (a snapshot would leave root's -wal and -shm)
  const line = `cannot write ${file}: permission denied (owned by root, mode 0644); run as a user who can write it, or use a read-only command (stats, jobs, dead, schedule list)`;
  for (const args of [
    ['enqueue', file, 'emails', '{}'],
    ['notify', file, 'ch', '1'],
    ['dead', file, 'emails', '--purge'],
    ['dead', file, 'emails', '--requeue-all'],
    ['schedule', file, 'pause', 'nightly'],
    ['listen', file, 'ch'],
    ['tail', file, 'events'],
  ]) {
    t.deepEqual(await runCliAsNobody(args), { stdout: '', stderr: `honker ${args[0]}: ${line}\n`, code: 1 }, args.join(' '));
  }
  t.deepEqual(readdirSync(dir).sort(), ['a.db', 'a.db-wake']);
  t.true(readFileSync(file).equals(before));
});

asNobody("cli access: a writable database in a directory the user cannot write: WAL's files are named", async (t) => {
  const { dir, file } = rootDb(t, 0o755);
  chmodSync(file, 0o666);
  const r = await runCliAsNobody(['enqueue', file, 'emails', '{}']);
  t.deepEqual(r, {
    stdout: '',
    stderr:
      `honker enqueue: cannot write ${file}: WAL mode needs a.db-wal and a.db-shm beside it, and cannot create them in ${dir}: ` +
      'permission denied (owned by root, mode 0755); run as a user who can write it, or use a read-only command (stats, jobs, dead, schedule list)\n',
    code: 1,
  });
  t.deepEqual(readdirSync(dir).sort(), ['a.db', 'a.db-wake']);
});

asNobody('cli access: a database the user cannot read is named with its owner and mode', async (t) => {
  const { dir, file } = rootDb(t, 0o755);
  chmodSync(file, 0o600);
  t.deepEqual(await runCliAsNobody(['stats', file]), {
    stdout: '',
    stderr: `honker stats: cannot read ${file}: permission denied (owned by root, mode 0600)\n`,
    code: 1,
  });
  t.deepEqual(readdirSync(dir).sort(), ['a.db', 'a.db-wake']);
});
