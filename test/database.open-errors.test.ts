/**
 * database.open / database.attach: a file that cannot be opened for writing is a CANNOT_OPEN
 * HonkerError naming the file and the cause (src/access.ts), thrown before SQLite creates
 * anything: a directory, a missing directory, a directory this user cannot write (a new file;
 * the -wal and -shm files of an existing one), a file or -wal this user cannot write. Root
 * passes every permission check, so those cases run test/fixtures/database-open.ts as the
 * user nobody (skipped where that is not possible).
 */
import test from './helpers/test.js';
import type { ExecutionContext } from 'ava';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HonkerError, open } from '../src/index.js';
import { runFixture, tempDir } from './helpers/db.js';
import { AS_NOBODY, nobodyMissing, testIf } from './helpers/test-if.js';

const asNobody = testIf(nobodyMissing === undefined, nobodyMissing ?? '');
const ADVICE =
  "; run as a user who may write there, or change the owner or mode (honker writes even to read: its tables, and WAL's -wal and -shm files)";

/** What database-open.ts printed for `how file`, run as nobody. */
async function openAsNobody(how: 'open' | 'attach', file: string): Promise<Record<string, unknown>> {
  const r = await runFixture('database-open', [how, file], { prefix: AS_NOBODY });
  if (r.code !== 0) throw new Error(`database-open exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** A directory nobody can enter (mode), holding a closed honker database a.db (root's, 0644) when seeded. */
function place(t: ExecutionContext, mode: number, seeded: boolean): { dir: string; file: string } {
  const dir = path.join(tempDir(t), 'd');
  mkdirSync(dir);
  chmodSync(path.dirname(dir), 0o755);
  const file = path.join(dir, 'a.db');
  if (seeded) {
    const db = open(file);
    db.queue('q').enqueue({ seeded: true });
    db.close();
  }
  chmodSync(dir, mode);
  return { dir, file };
}

function thrownBy(t: ExecutionContext, fn: () => unknown): HonkerError {
  const err = t.throws(fn);
  t.true(err instanceof HonkerError, String(err));
  return err as HonkerError;
}

test('database.open: a directory is refused by name, untouched', (t) => {
  const dir = path.join(tempDir(t), 'app.db');
  mkdirSync(dir);
  const err = thrownBy(t, () => open(dir));
  t.is(err.code, 'CANNOT_OPEN');
  t.is(err.message, `open: ${dir} is a directory, not a database file`);
  t.deepEqual(readdirSync(dir), []);
  t.deepEqual(readdirSync(path.dirname(dir)), ['app.db']);
});

test('database.open: a missing directory says so and is not created', (t) => {
  const base = tempDir(t);
  const file = path.join(base, 'missing', 'sub', 'app.db');
  const err = thrownBy(t, () => open(file));
  t.is(err.code, 'CANNOT_OPEN');
  t.is(err.message, `open: cannot create ${file}: the directory ${path.dirname(file)} does not exist; create the directory first`);
  t.deepEqual(readdirSync(base), []);
});

asNobody('database.open: a new file in a directory this user cannot write names the directory and its owner', async (t) => {
  const { dir, file } = place(t, 0o755, false);
  t.deepEqual(await openAsNobody('open', file), {
    name: 'HonkerError',
    code: 'CANNOT_OPEN',
    message: `open: cannot create ${file} in ${dir}: permission denied (owned by root, mode 0755)${ADVICE}`,
  });
  t.deepEqual(readdirSync(dir), []);
});

asNobody("database.open: a file this user may write, in a directory it cannot: WAL's -wal and -shm cannot be created", async (t) => {
  const { dir, file } = place(t, 0o755, true);
  chownSync(file, 65534, 65534);
  const before = readFileSync(file);
  t.deepEqual(await openAsNobody('open', file), {
    name: 'HonkerError',
    code: 'CANNOT_OPEN',
    message:
      `open: cannot write ${file}: WAL mode needs a.db-wal and a.db-shm beside it, and cannot create them in ${dir}: ` +
      `permission denied (owned by root, mode 0755)${ADVICE}`,
  });
  t.deepEqual(readdirSync(dir).sort(), ['a.db', 'a.db-wake']);
  t.true(readFileSync(file).equals(before));
});

asNobody('database.open: a file this user cannot write is refused before SQLite opens it read-only (no -wal or -shm left behind)', async (t) => {
  const { dir, file } = place(t, 0o1777, true);
  const before = readFileSync(file);
  t.deepEqual(await openAsNobody('open', file), {
    name: 'HonkerError',
    code: 'CANNOT_OPEN',
    message: `open: cannot write ${file}: permission denied (owned by root, mode 0644)${ADVICE}`,
  });
  t.deepEqual(readdirSync(dir).sort(), ['a.db', 'a.db-wake']);
  t.true(readFileSync(file).equals(before));
});

asNobody("database.open: another user's -wal file (the database open elsewhere) is named, not the database", async (t) => {
  const { dir, file } = place(t, 0o1777, true);
  chownSync(file, 65534, 65534);
  const holder = open(file); // root keeps it open, so a.db-wal and a.db-shm exist
  t.teardown(() => holder.close());
  holder.queue('q').enqueue({ more: true });
  // SQLite run by root gives them the database's owner; as left by an older root process:
  for (const side of ['-wal', '-shm']) chownSync(file + side, 0, 0);
  t.deepEqual(await openAsNobody('open', file), {
    name: 'HonkerError',
    code: 'CANNOT_OPEN',
    message: `open: cannot write ${file}-wal: permission denied (owned by root, mode 0644)${ADVICE}`,
  });
  t.deepEqual(readdirSync(dir).sort(), ['a.db', 'a.db-shm', 'a.db-wake', 'a.db-wal']);
  t.deepEqual(holder.queue('q').stats(), { pending: 2, scheduled: 0, processing: 0, dead: 0 });
});

asNobody("database.attach: SQLite's failure on the application's connection is explained the same way, with the cause kept", async (t) => {
  const { dir, file } = place(t, 0o755, true);
  chownSync(file, 65534, 65534);
  t.deepEqual(await openAsNobody('attach', file), {
    name: 'HonkerError',
    code: 'CANNOT_OPEN',
    message:
      `attach: cannot write ${file}: WAL mode needs a.db-wal and a.db-shm beside it, and cannot create them in ${dir}: ` +
      `permission denied (owned by root, mode 0755)${ADVICE}`,
    cause: 'SQLITE_READONLY_DIRECTORY',
  });
  t.deepEqual(readdirSync(dir).sort(), ['a.db', 'a.db-wake']);
});
