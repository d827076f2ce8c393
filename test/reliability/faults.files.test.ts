/**
 * Faults (issue 6): a read-only database file, a read-only directory (root
 * bypasses permission bits: chattr +i, else a read-only bind mount; reported
 * as skipped where neither works), a missing directory, a file that is not a
 * database (text, random bytes). Each runs in a child with a bounded wait:
 * open() throws an error whose code and message name the problem (a
 * CANNOT_OPEN HonkerError for the first three, src/access.ts; SQLITE_NOTADB
 * for the last), the child exits (nothing hangs), and nothing is created or
 * changed where it should not be.
 */
import test, { type ExecutionContext } from '../helpers/test.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { open } from '../../src/index.js';
import { tempDir } from '../helpers/db.js';
import { testIf } from '../helpers/test-if.js';
import { report } from './contention-helpers.js';
import { canMakeReadOnly, errorsOf, makeReadOnly, runFaultChild, type ChildResult, type Line } from './faults-helpers.js';

const BOUND_MS = 30_000; // measured: ~0.5-1 s per child (tsx start-up); the wait is bounded at 30 s

/** The one error the child reported, after checking it exited by itself. */
function oneError(t: ExecutionContext, r: ChildResult, scenario: string): Line {
  t.false(r.timedOut, `the child hung; stderr: ${r.stderr}`);
  t.is(r.code, 0, r.stderr);
  t.is(r.lines.at(-1)?.kind, 'end');
  const errors = errorsOf(r);
  t.is(errors.length, 1, JSON.stringify(r.lines));
  t.is(r.lines.filter((l) => l.kind === 'enqueued').length, 0, 'an enqueue succeeded');
  const e = errors[0] ?? {};
  const figures = { scenario: `faults.${scenario}`, stage: e.stage, code: e.code, message: e.message, ms: r.ms };
  t.log(JSON.stringify(figures));
  report(figures);
  return e;
}

/** A honker database with one job, closed (no -wal / -shm left). */
function seeded(file: string): void {
  const db = open(file);
  db.queue('q').enqueue({ seeded: true });
  db.close();
}

const withReadOnlyFile = testIf(canMakeReadOnly(false), 'cannot make a file read-only for root here (no chattr +i)');
const withReadOnlyDir = testIf(canMakeReadOnly(true), 'cannot make a directory read-only for root here (no chattr +i, no bind mount)');

withReadOnlyFile('a read-only database file (chattr +i): open() throws CANNOT_OPEN naming it, the file is unchanged', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'ro.db');
  seeded(file);
  const before = readFileSync(file);
  const how = makeReadOnly(t, file, false);
  if (!how) return t.fail('the probe made a file read-only, this one could not be');
  const r = await runFaultChild(t, ['open', file], { timeoutMs: BOUND_MS });
  const e = oneError(t, r, 'read-only-file');
  t.is(e.stage, 'open');
  t.is(e.code, 'CANNOT_OPEN');
  t.true(String(e.message).startsWith(`open: cannot write ${file}: `), String(e.message));
  t.deepEqual(readdirSync(dir).sort(), ['ro.db', 'ro.db-wake'], 'no -wal or -shm beside it (the seeding commits left -wake)');
  t.true(readFileSync(file).equals(before), 'the read-only file changed');
});

withReadOnlyDir('a read-only directory: open() of an existing database throws CANNOT_OPEN naming the WAL files, nothing is created', async (t) => {
  const dir = path.join(tempDir(t), 'ro');
  mkdirSync(dir);
  const file = path.join(dir, 'x.db');
  seeded(file);
  const before = readFileSync(file);
  const how = makeReadOnly(t, dir, true);
  if (!how) return t.fail('the probe made a directory read-only, this one could not be');
  t.log(`read-only through ${how}`);
  const r = await runFaultChild(t, ['open', file], { timeoutMs: BOUND_MS });
  const e = oneError(t, r, 'read-only-dir');
  t.is(e.code, 'CANNOT_OPEN');
  t.true(String(e.message).startsWith(`open: cannot write ${file}: WAL mode needs x.db-wal and x.db-shm beside it, and cannot create them in ${dir}: `), String(e.message));
  t.deepEqual(readdirSync(dir).sort(), ['x.db', 'x.db-wake'], 'files created in the read-only directory (the seeding commits left -wake)');
  t.true(readFileSync(file).equals(before));
  // A new database there: the same, and no file appears.
  const r2 = await runFaultChild(t, ['open', path.join(dir, 'new.db')], { timeoutMs: BOUND_MS });
  const e2 = oneError(t, r2, 'read-only-dir-new');
  t.is(e2.code, 'CANNOT_OPEN');
  t.true(String(e2.message).startsWith(`open: cannot create ${path.join(dir, 'new.db')} in ${dir}: `), String(e2.message));
  t.deepEqual(readdirSync(dir).sort(), ['x.db', 'x.db-wake']);
});

test('a missing directory: open() throws CANNOT_OPEN "the directory … does not exist", nothing is created', async (t) => {
  const base = tempDir(t);
  const file = path.join(base, 'missing', 'sub', 'x.db');
  const r = await runFaultChild(t, ['open', file], { timeoutMs: BOUND_MS });
  const e = oneError(t, r, 'missing-dir');
  t.is(e.stage, 'open');
  t.is(e.code, 'CANNOT_OPEN');
  t.is(e.message, `open: cannot create ${file}: the directory ${path.dirname(file)} does not exist; create the directory first`);
  t.false(existsSync(path.join(base, 'missing')), 'the missing directory was created');
  t.deepEqual(readdirSync(base), []);
});

for (const [name, content] of [
  ['a text file', Buffer.from('this is not a database\n'.repeat(200))],
  ['random bytes', randomBytes(16384)],
] as const) {
  test(`a file that is not a database (${name}): open() throws SQLITE_NOTADB, the file is unchanged`, async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'junk.db');
    writeFileSync(file, content);
    const r = await runFaultChild(t, ['open', file], { timeoutMs: BOUND_MS });
    const e = oneError(t, r, `not-a-database-${name.replace(/ /g, '-')}`);
    t.is(e.stage, 'open');
    t.is(e.code, 'SQLITE_NOTADB');
    t.regex(String(e.message), /not a database/);
    t.true(readFileSync(file).equals(content), 'the file was changed');
    t.deepEqual(readdirSync(dir), ['junk.db'], 'files created next to it');
  });
}

// Found here: open()'s errors did not say which file, which matters in a process that
// opens several. open() now prefixes them with `open: <path>: ` (class and code kept).
test('open() errors name the database file', (t) => {
  const dir = tempDir(t);
  const junk = path.join(dir, 'junk.db');
  writeFileSync(junk, 'not a database\n'.repeat(100));
  for (const file of [junk, path.join(dir, 'missing', 'x.db')]) {
    let message = '';
    try {
      open(file).close();
    } catch (err) {
      message = (err as Error).message;
    }
    t.true(message.includes(file), `"${message}" does not name ${file}`);
  }
});
