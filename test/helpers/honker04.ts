/**
 * honker 0.4 in the tests: its real extension for mixed-fleet tests, and its
 * schema for the tests of an un-migrated 0.4 file that run everywhere.
 *
 * The library is ../shared/ref/honker-0.4/libhonker_ext.so (relative to the
 * repository root; its README says how it was built). A test that needs it
 * is declared with `testWith04`: on a machine without ../shared it is
 * reported as skipped, with the reason. Load one of the two extensions per
 * connection, never both (the function names are the same): honker 0.4 runs
 * in its own process, a SqlHost (/usr/bin/python3, test/fixtures/lifeline-sql.py).
 */
import type { ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './db.js';
import { sqlHost, type SqlHost } from './lifeline.js';
import { testIf } from './test-if.js';

/** honker 0.4's extension, and its stem as load_extension takes it. */
export const HONKER04_LIB = path.resolve(repoRoot, '..', 'shared', 'ref', 'honker-0.4', 'libhonker_ext.so');
export const HONKER04_STEM = HONKER04_LIB.replace(/\.so$/, '');

/** Why honker 0.4's library cannot be used here, or undefined. */
export const honker04Missing: string | undefined = existsSync(HONKER04_LIB)
  ? undefined
  : `honker 0.4's library is not at ${HONKER04_LIB} (no ../shared on this machine)`;

/** `test`, or a skipped test naming the reason when honker 0.4's library is missing. */
export const testWith04 = testIf(honker04Missing === undefined, honker04Missing ?? '');

/** A process running honker 0.4's extension on file (killed after the test). */
export function host04(t: ExecutionContext, file: string, label = 'honker 0.4'): Promise<SqlHost> {
  return sqlHost(t, file, label, HONKER04_STEM);
}

/**
 * What honker 0.4's honker_bootstrap() creates, statement for statement
 * (checked against the real library by test/compat.honker04.test.ts).
 */
export const HONKER04_DDL = `
CREATE TABLE IF NOT EXISTS _honker_notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, payload TEXT NOT NULL,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()));
CREATE INDEX IF NOT EXISTS _honker_notifications_recent ON _honker_notifications(channel, id);
CREATE TABLE IF NOT EXISTS _honker_live (
  id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', priority INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL DEFAULT (unixepoch()), worker_id TEXT, claim_expires_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 3,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()), expires_at INTEGER);
CREATE INDEX IF NOT EXISTS _honker_live_claim ON _honker_live(queue, priority DESC, run_at, id)
  WHERE state IN ('pending', 'processing');
CREATE INDEX IF NOT EXISTS _honker_live_pending_deadline ON _honker_live(queue, run_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS _honker_live_processing_deadline ON _honker_live(queue, claim_expires_at)
  WHERE state = 'processing';
CREATE TABLE IF NOT EXISTS _honker_dead (
  id INTEGER PRIMARY KEY, queue TEXT NOT NULL, payload TEXT NOT NULL, priority INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()), died_at INTEGER NOT NULL DEFAULT (unixepoch()));
CREATE TABLE IF NOT EXISTS _honker_locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS _honker_rate_limits (
  name TEXT NOT NULL, window_start INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (name, window_start));
CREATE TABLE IF NOT EXISTS _honker_scheduler_tasks (
  name TEXT PRIMARY KEY, queue TEXT NOT NULL, cron_expr TEXT NOT NULL, payload TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0, expires_s INTEGER, next_fire_at INTEGER NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1, max_attempts INTEGER NOT NULL DEFAULT 3);
CREATE TABLE IF NOT EXISTS _honker_results (
  job_id INTEGER PRIMARY KEY, value TEXT, created_at INTEGER NOT NULL DEFAULT (unixepoch()), expires_at INTEGER);
CREATE TABLE IF NOT EXISTS _honker_stream (
  offset INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, key TEXT, payload TEXT NOT NULL,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()));
CREATE INDEX IF NOT EXISTS _honker_stream_topic ON _honker_stream(topic, offset);
CREATE TABLE IF NOT EXISTS _honker_stream_consumers (
  name TEXT NOT NULL, topic TEXT NOT NULL, offset INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (name, topic));
`;

/** A WAL file with honker 0.4's tables only, as its honker_bootstrap() leaves it (no extension loaded). */
export function create04File(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(HONKER04_DDL);
  } finally {
    db.close();
  }
}

/** The schema of file, one line per table and index, whitespace removed: what two bootstraps are compared by. */
export function schemaOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
      .all() as { type: string; name: string; sql: string }[];
    return rows.map((r) => `${r.type} ${r.name}: ${r.sql.replace(/\s+/g, '')}`);
  } finally {
    db.close();
  }
}
