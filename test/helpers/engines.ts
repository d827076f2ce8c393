/**
 * The shared behaviour tests run on both engines from one source: each test
 * takes an Engine, opens databases through it, and awaits every call (an
 * `await` on the SQLite client's plain return values is harmless, so the
 * same test code drives the synchronous SQLite client and the async Postgres
 * one). Child processes get `<engine> <target>` and open through
 * openEngine() too (test/fixtures/matrix-*.ts).
 *
 *   const engines = matrix();                     // at the top of the file
 *   for (const e of engines) e.test('queue: …', async (t) => { const db = await e.fresh(t); … });
 */
import type { ExecutionContext } from 'ava';
import { tempDbPath } from './db.js';
import { openEngine, type AnyDb, type EngineName } from './open-engine.js';
import { pgTest, usePg } from './pg.js';
import test from './test.js';
import type { TestIf } from './test-if.js';

export { openEngine, type AnyDb, type EngineName };

export interface Engine {
  readonly name: EngineName;
  /** `test`, or a skip with the reason when the engine is not available here. */
  readonly test: TestIf;
  /** A new empty database for this test: its target (file path or URL). */
  target(t: ExecutionContext): Promise<string>;
  /** A new empty database, opened, closed after the test. */
  fresh(t: ExecutionContext): Promise<{ db: AnyDb; target: string }>;
  /** Open target once more (another client in this process), closed after the test. */
  open(t: ExecutionContext, target: string): Promise<AnyDb>;
}

/** Both engines for this test file (starts this file's Postgres server). */
export function matrix(): Engine[] {
  const pg = usePg();
  const make = (name: EngineName, testFn: TestIf, target: (t: ExecutionContext) => Promise<string>): Engine => {
    const openHere = async (t: ExecutionContext, tgt: string) => {
      const db = await openEngine(name, tgt);
      t.teardown(() => db.close());
      return db;
    };
    return {
      name,
      test: (title, impl) => testFn(`[${name}] ${title}`, impl),
      target,
      async fresh(t) {
        const tgt = await target(t);
        return { db: await openHere(t, tgt), target: tgt };
      },
      open: openHere,
    };
  };
  return [
    make('sqlite', (title, impl) => test(title, impl), async (t) => tempDbPath(t)),
    make('postgres', pgTest, (t) => pg.database(t)),
  ];
}
