/**
 * What every TypeScript-client test shares: a client database closed after
 * the test, a cross-process clock, bounded waits on async iterators, and
 * synchronous-error capture.
 */
import type { ExecutionContext } from 'ava';
import { HonkerError, open, type HonkerDatabase } from '../../src/index.js';
import { tempDbPath } from './db.js';

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** p's value, or `late` when p takes longer than ms; the timer is cleared either way (nothing left behind). */
export async function orAfter<T, U>(p: Promise<T>, ms: number, late: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => (timer = setTimeout(() => resolve(late), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A client database (on a fresh temp file unless given one), closed after the test. */
export function openClient(t: ExecutionContext, file = tempDbPath(t)): HonkerDatabase {
  const db = open(file);
  t.teardown(() => db.close());
  return db;
}

/**
 * The error fn throws synchronously (fails the test when it does not throw).
 * A promise it returns instead is caught, so an async mistake fails the test
 * rather than the process.
 */
export function syncError(t: ExecutionContext, fn: () => unknown): Error & { code?: string } {
  try {
    const r = fn();
    if (r && typeof (r as Promise<unknown>).catch === 'function') (r as Promise<unknown>).catch(() => undefined);
  } catch (err) {
    return err as Error & { code?: string };
  }
  t.fail('expected a synchronous error, but nothing was thrown');
  return new Error('nothing was thrown');
}

/** Each fn throws, synchronously, an INVALID_ARGUMENT HonkerError with its message (exact, or matching). */
export function invalidArguments(t: ExecutionContext, cases: Array<[() => unknown, string | RegExp]>): void {
  for (const [fn, message] of cases) {
    const err = syncError(t, fn);
    t.true(err instanceof HonkerError);
    t.is(err.code, 'INVALID_ARGUMENT');
    if (typeof message === 'string') t.is(err.message, message);
    else t.regex(err.message, message);
  }
}

/**
 * The next value of it, or 'pending' when none arrives within ms. A pending
 * next() stays queued (an async generator's return() would wait behind it),
 * so such an iterator is left to end by abort or close.
 */
export async function nextOrPending<T>(it: AsyncIterator<T>, ms: number): Promise<IteratorResult<T> | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([it.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The next n values of it (throws after 10 s without one). */
export async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const r = await nextOrPending(it, 10_000);
    if (r === 'pending' || r.done) throw new Error(`expected ${n} values, got ${out.length}`);
    out.push(r.value);
  }
  return out;
}
