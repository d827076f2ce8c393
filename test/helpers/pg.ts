/**
 * Postgres in the tests: one throwaway server per test file (pg-server.ts;
 * ava runs each file in a process of its own), started before the file's
 * first test and stopped after its last, and a fresh database per test.
 *
 *   const pg = usePg();                         // at the top of a test file
 *   pgTest('…', async (t) => { const url = await pg.database(t); … });
 *
 * When PostgreSQL is not installed the file's Postgres tests are declared
 * skipped with the reason in their title (test-if.ts); `.ci/run` installs
 * postgresql-15, so CI always runs them. HONKER_PG_URL (a postgres:// URL of
 * a server you run, whose user may CREATE DATABASE) replaces the throwaway
 * server. HONKER_PG_REQUIRED=1 (set by .ci/run) turns a skip into a failure.
 */
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { pgMissingReason, startPgServer, type PgServer } from './pg-server.js';
import test, { unguarded } from './test.js';
import { testIf, type TestIf } from './test-if.js';

export const pgReason = process.env.HONKER_PG_URL ? undefined : pgMissingReason();
if (pgReason !== undefined && process.env.HONKER_PG_REQUIRED) {
  // CI (.ci/run) sets HONKER_PG_REQUIRED: there a Postgres test must run, never skip.
  throw new Error(`HONKER_PG_REQUIRED is set but ${pgReason}`);
}

/** `test` when a Postgres server can be had, else test.skip with the reason. */
export const pgTest: TestIf = testIf(pgReason === undefined, pgReason ?? '');

/** pgTest for a test that must run alone in its file (it restarts the server): ava runs serial tests first. */
export const pgSerial: TestIf =
  pgReason === undefined ? (title, impl) => test.serial(title, impl) : (title, impl) => test.skip(`${title} (skipped: ${pgReason})`, impl);

export interface PgHarness {
  /** The server (undefined with HONKER_PG_URL or before test.before ran). */
  readonly server: PgServer | undefined;
  /** Restart the server (fast shutdown, start on the same port): the new postmaster belongs to the file, not the test. */
  restart(): Promise<void>;
  /** A new, empty database for this test; returns its URL. */
  database(t: ExecutionContext): Promise<string>;
}

let counter = 0;

/** Start a server for this test file (see the header). */
export function usePg(): PgHarness {
  let server: PgServer | undefined;
  if (pgReason === undefined && !process.env.HONKER_PG_URL) {
    test.before(async () => {
      server = await startPgServer();
    });
    test.after.always(async () => {
      await server?.stop();
    });
  }
  return {
    get server() {
      return server;
    },
    restart() {
      if (!server) throw new Error('pg: restart needs the throwaway server (not HONKER_PG_URL)');
      return unguarded(() => server!.restart());
    },
    async database(t) {
      const name = `honker_t${process.pid}_${++counter}`;
      const admin = process.env.HONKER_PG_URL ?? server!.url();
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      const u = new URL(admin);
      u.pathname = `/${name}`;
      t.teardown(async () => {
        const d = new pg.Client({ connectionString: admin });
        await d.connect();
        try {
          await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await d.end();
        }
      });
      return u.toString();
    },
  };
}
