/**
 * Table-driven error tests: each case is a statement, its parameters and the
 * exact message the extension must raise (spec/sql.md "Arguments").
 */
import test from 'ava';
import { freshDb, sqlError } from './db.js';

export type ErrorCase = [sql: string, params: unknown[], message: string];

/** One ava test per case, named by its message, each on a fresh database. */
export function errorCases(prefix: string, cases: ErrorCase[]): void {
  for (const [sql, params, message] of cases) {
    test(`${prefix}: ${message}`, (t) => {
      const { db } = freshDb(t);
      t.is(sqlError(t, db, sql, ...params), message);
    });
  }
}
