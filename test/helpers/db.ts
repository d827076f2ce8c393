/**
 * Shared test helpers: a fresh temp database per test, the extension loaded
 * into better-sqlite3, and the other SQLite hosts (sqlite3 CLI, Python).
 */
import Database from 'better-sqlite3';
import type { ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extensionPath } from '../../src/extension.js';

export type Db = Database.Database;
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const extPath = extensionPath();
/** The extension path without its suffix, as `.load` and load_extension take it. */
export const extStem = extPath.replace(/\.(so|dylib)$/, '');
/** Debian's python: it has enable_load_extension (the pyenv one on PATH does not). */
export const systemPython = '/usr/bin/python3';

/** A new temp directory removed after the test. */
export function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Path of a fresh database file for this test (not created yet). */
export function tempDbPath(t: ExecutionContext, name = 'test.db'): string {
  return path.join(tempDir(t), name);
}

/** Open a connection with honker_ext loaded: WAL, busy_timeout, optionally bootstrapped. */
export function openDb(file: string, opts: { bootstrap?: boolean } = {}): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.loadExtension(extPath);
  if (opts.bootstrap !== false) db.prepare('SELECT honker_bootstrap()').get();
  return db;
}

/** A bootstrapped database on a fresh temp file, closed after the test. */
export function freshDb(t: ExecutionContext): { db: Db; file: string } {
  const file = tempDbPath(t);
  const db = openDb(file);
  t.teardown(() => {
    if (db.open) db.close();
  });
  return { db, file };
}

/** Value of a one-column SELECT. */
export function scalar<T = unknown>(db: Db, sql: string, ...params: unknown[]): T {
  return db.prepare(sql).pluck().get(...params) as T;
}

/**
 * The error a function throws (fails the test if it does not throw).
 * ava's t.throws rejects better-sqlite3's SqliteError (not a native Error), hence this.
 */
export function thrown(t: ExecutionContext, fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  t.fail('expected an error, but nothing was thrown');
  return new Error('nothing was thrown');
}

/** The SQL error message a statement raises (fails the test if it succeeds). */
export function sqlError(t: ExecutionContext, db: Db, sql: string, ...params: unknown[]): string {
  return thrown(t, () => db.prepare(sql).get(...params)).message;
}

/** Run SQL through the system sqlite3 CLI with honker_ext loaded; returns stdout. */
export function sqliteCli(file: string, sql: string): { stdout: string; stderr: string; status: number } {
  const script = `.load ${extStem}\n.timeout 10000\n${sql}\n`;
  const r = spawnSync('sqlite3', ['-batch', '-bail', file], { input: script, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** Run a Python script with /usr/bin/python3; DB and EXT are passed in the environment. */
export function python(file: string, code: string): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(systemPython, ['-c', code], {
    encoding: 'utf8',
    env: { ...process.env, DB: file, EXT: extStem },
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** The output of a script run to completion with tsx. */
export interface ScriptResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Run `script` (a path) with tsx from the repository root; rejects after timeoutMs (default 60 s).
 * prefix: a command that runs node (e.g. `setpriv … ` to run it as another user).
 */
export function runTsx(
  script: string,
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; label?: string; prefix?: string[] } = {},
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const [command, ...argv] = [...(opts.prefix ?? []), process.execPath, '--import=tsx', script, ...args];
    const child = spawn(command!, argv, {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${opts.label ?? script} timed out; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

/** Spawn a test fixture (test/fixtures/<name>.ts) with tsx; resolves with its output. */
export function runFixture(name: string, args: string[], opts: { timeoutMs?: number; prefix?: string[] } = {}): Promise<ScriptResult> {
  const fixture = path.join(repoRoot, 'test', 'fixtures', `${name}.ts`);
  return runTsx(fixture, args, { ...opts, label: `fixture ${name}` });
}
