/**
 * Helpers of the worker liveness tests (test/lifeline.*.test.ts,
 * test/reliability/crash.reclaim.test.ts): a SQL host in another process
 * (/usr/bin/python3 running test/fixtures/lifeline-sql.py) and reading
 * honker_workers().
 */
import type { ExecutionContext } from 'ava';
import path from 'node:path';
import { LineChild, owned, type Line } from './child.js';
import { extStem, repoRoot, systemPython, type Db } from './db.js';

/** One row of honker_workers(). */
export interface WorkerRow {
  worker_id: string;
  slot: number;
  pid: number;
  host: string;
  registered_at: number;
  alive: boolean;
  claims: number;
}

/** honker_workers() on db. */
export function workers(db: Db): WorkerRow[] {
  return JSON.parse(db.prepare('SELECT honker_workers()').pluck().get() as string) as WorkerRow[];
}

/** A Python process with its own connection to file (killed after the test). */
export class SqlHost {
  readonly child: LineChild<Line>;
  pid = -1;

  /** ext: the library the host loads (default ours; test/helpers/honker04.ts passes honker 0.4's). */
  constructor(t: ExecutionContext, file: string, label = 'lifeline-sql.py', ext = extStem) {
    this.child = owned(
      t,
      LineChild.json(systemPython, [path.join(repoRoot, 'test', 'fixtures', 'lifeline-sql.py')], {
        env: { ...process.env, DB: file, EXT: ext },
        label,
      }),
    );
  }

  /** Wait until connected. */
  async ready(): Promise<this> {
    this.pid = (await this.child.next<{ ready: number }>()).ready;
    return this;
  }

  /** The first column of the first row of sql; throws the SQL error. */
  async sql<T = unknown>(sql: string): Promise<T> {
    const r = await this.child.ask(sql);
    if ('error' in r) throw new Error(String(r.error));
    return r.value as T;
  }

  /** The error message sql raises (throws when it succeeds). */
  async sqlError(sql: string): Promise<string> {
    const r = await this.child.ask(sql);
    if (!('error' in r)) throw new Error(`expected an error from ${sql}, got ${JSON.stringify(r)}`);
    return String(r.error);
  }

  /** Send a dot command (.close, .open, .fork …) and return its answer. */
  command(line: string): Promise<Line> {
    return this.child.ask(line);
  }

  /** SIGKILL, resolving once the process is gone. */
  async kill(): Promise<void> {
    await this.child.kill('SIGKILL');
  }
}

/** Start a SqlHost and wait until it is connected. */
export function sqlHost(t: ExecutionContext, file: string, label?: string, ext?: string): Promise<SqlHost> {
  return new SqlHost(t, file, label, ext).ready();
}
