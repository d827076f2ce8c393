/**
 * Helpers of the queue and transaction client tests: an open client database
 * closed after the test, child processes that talk JSON lines, and bounded
 * waits on async iterators.
 */
import type { ExecutionContext } from 'ava';
import { open, type HonkerDatabase, type OpenOptions } from '../../src/index.js';
import { tempDbPath } from './db.js';

export { nowMs, sleep, syncError } from './client.js';

/** A client database on a fresh temp file, closed after the test. */
export function openTemp(t: ExecutionContext, options?: OpenOptions): { db: HonkerDatabase; file: string } {
  const file = tempDbPath(t);
  const db = open(file, options);
  t.teardown(() => db.close());
  return { db, file };
}

/** Outcome of an iterator's next() raced against a timer. */
export type Raced<T> =
  | { kind: 'value'; value: T; ms: number }
  | { kind: 'done'; ms: number }
  | { kind: 'error'; error: Error & { code?: string }; ms: number }
  | { kind: 'timeout'; ms: number };

/** it.next() or a timeout after ms; `ms` in the result is how long it took. */
export async function nextWithin<T>(it: AsyncIterator<T>, ms: number, pending?: Promise<IteratorResult<T>>): Promise<Raced<T>> {
  const started = performance.now();
  const p = pending ?? it.next();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    const r = await Promise.race([p.then((v) => ({ v }), (e: unknown) => ({ e })), timeout]);
    const took = performance.now() - started;
    if (r === 'timeout') return { kind: 'timeout', ms: took };
    if ('e' in r) return { kind: 'error', error: r.e as Error, ms: took };
    return r.v.done ? { kind: 'done', ms: took } : { kind: 'value', value: r.v.value, ms: took };
  } finally {
    clearTimeout(timer);
  }
}

export { fixtureChild as child } from './child.js';

/** p50/p99/max of a list of numbers. */
export function percentiles(values: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1], n: s.length };
}
