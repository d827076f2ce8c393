/**
 * Helpers of the watcher tests: build test/c/watcher_wait.c (the C ABI
 * driver) and start the drivers spoken to one line at a time (that program,
 * or test/fixtures/watcher-sql.py for the SQL functions) as LineChild text
 * children: send a command, read the reply line.
 */
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LineChild, owned } from './child.js';
import { extPath, extStem, openDb, repoRoot, systemPython, tempDir, type Db } from './db.js';

let binary: string | undefined;

/** The environment for children: without the ASan preload when `keepPreload` is false. */
function childEnv(keepPreload: boolean): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (!keepPreload) delete env.LD_PRELOAD;
  return env;
}

/** Under the ASan run (LD_PRELOAD has libasan) the driver is built sanitized too. */
const sanitized = (process.env.LD_PRELOAD ?? '').includes('libasan');

/** Compile test/c/watcher_wait.c once per test process; returns the binary's path. */
export function watcherWaitBinary(): string {
  if (binary) return binary;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-watcher-c-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'watcher_wait');
  const flags = ['-std=c11', '-Wall', '-Wextra', '-Werror', '-g'];
  if (sanitized) flags.push('-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer');
  const r = spawnSync(
    'cc',
    [...flags, '-I', path.join(repoRoot, 'ext'), '-o', out, path.join(repoRoot, 'test', 'c', 'watcher_wait.c'), '-ldl', '-lsqlite3', '-lpthread'],
    { encoding: 'utf8', env: childEnv(false) },
  );
  if (r.status !== 0) throw new Error(`cc test/c/watcher_wait.c failed:\n${r.stderr}`);
  binary = out;
  return out;
}

/** The drivers' bound on a reply and on quitting. */
const DRIVER_TIMEOUT_MS = 15_000;

/** Send a driver "quit" and resolve with its exit code (it is SIGKILLed after 15 s). */
export function quit(child: LineChild): Promise<number | null> {
  return child.stop({ say: 'quit', killAfterMs: DRIVER_TIMEOUT_MS });
}

/** Start the C ABI driver on dbFile (the file must exist), killed after the test. `noLoad`: skip load_extension. */
export async function startCDriver(t: ExecutionContext, dbFile: string, opts: { noLoad?: boolean } = {}): Promise<LineChild> {
  const args = [extPath, dbFile];
  if (opts.noLoad) args.push('--no-load');
  return owned(t, LineChild.text(watcherWaitBinary(), args, { env: childEnv(sanitized), label: 'watcher_wait', timeoutMs: DRIVER_TIMEOUT_MS }));
}

/** Start test/fixtures/watcher-sql.py (the SQL functions in /usr/bin/python3) on dbFile, killed after the test. */
export function startSqlDriver(t: ExecutionContext, dbFile: string): LineChild {
  const script = path.join(repoRoot, 'test', 'fixtures', 'watcher-sql.py');
  const env = { ...childEnv(true), DB: dbFile, EXT: extStem };
  return owned(t, LineChild.text(systemPython, [script], { env, label: 'watcher-sql.py', timeoutMs: DRIVER_TIMEOUT_MS }));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bootstrapped database (WAL unless told) with a table to commit into, closed after the test. */
export function fixtureDb(t: ExecutionContext, journalMode = 'WAL'): { db: Db; file: string } {
  const file = path.join(tempDir(t), 'watched.db');
  const db = openDb(file);
  db.pragma(`journal_mode = ${journalMode}`);
  db.exec('CREATE TABLE IF NOT EXISTS events(x)');
  t.teardown(() => {
    if (db.open) db.close();
  });
  return { db, file };
}

/** One commit into the fixture's table. */
export const commit = (db: Db) => db.prepare('INSERT INTO events VALUES (1)').run();

/** A write transaction rolled back: data_version must not move. */
export function rollback(db: Db): void {
  db.exec('BEGIN IMMEDIATE');
  db.prepare('INSERT INTO events VALUES (2)').run();
  db.exec('ROLLBACK');
}

/** Quit the child after the test and fail it on a non-zero exit (e.g. a sanitizer report). */
export function stopAfter(t: ExecutionContext, child: LineChild): LineChild {
  t.teardown(async () => {
    const code = await quit(child);
    if (code !== 0) throw new Error(`child exited ${code}: ${child.stderr}`);
  });
  return child;
}
