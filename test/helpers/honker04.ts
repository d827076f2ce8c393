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
import { existsSync, readFileSync } from 'node:fs';
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
 * (test/fixtures/honker04-schema.sql, checked against the real library by
 * test/compat.honker04.test.ts).
 */
export const HONKER04_DDL = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'honker04-schema.sql'), 'utf8');

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
