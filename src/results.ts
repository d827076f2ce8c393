/**
 * Job results: a value stored under a job id (honker_result_*), and a wait
 * that resolves when some process saves it.
 */
import type { Connection } from './connection.js';
import { abortError, HonkerError } from './errors.js';
import { parsePayload } from './payload.js';
import * as validate from './validate.js';
import { wakeLoop } from './wake.js';

/** @internal store text (already JSON) as job jobId's result; ttlS <= 0 keeps it forever. */
export function saveResultText(db: Connection, jobId: number, text: string, ttlS: number): void {
  db.sql('SELECT honker_result_save(?, ?, ?)').get(jobId, text, ttlS);
}

/** @internal the stored result text of jobId, or null (none, or expired). */
export function storedResult(db: Connection, jobId: number): string | null {
  return db.sql('SELECT honker_result_get(?)').pluck().get(jobId) as string | null;
}

export class Results {
  /** @internal */
  constructor(private readonly db: Connection) {}

  /** Store value for jobId (JSON); ttlS > 0 expires it. */
  save(jobId: number, value: unknown, options?: { ttlS?: number }): void {
    validate.int('results.save', 'jobId', jobId, 1);
    const opts = validate.options('results.save', options, ['ttlS']);
    const ttlS = validate.optSeconds('results.save', 'ttlS', opts.ttlS, 0) ?? 0;
    const text = validate.json('results.save', 'value', value);
    this.db.assertOpen('results.save');
    saveResultText(this.db, jobId, text, ttlS);
  }

  /** The stored value, or undefined when there is none (or it expired). */
  get<T = unknown>(jobId: number): T | undefined {
    validate.int('results.get', 'jobId', jobId, 1);
    this.db.assertOpen('results.get');
    const text = storedResult(this.db, jobId);
    return text === null ? undefined : parsePayload<T>(text);
  }

  /**
   * Resolve with the value once any process saves it (at once if it is
   * there). Rejects with a TIMEOUT HonkerError after timeoutMs (default: wait
   * forever), with the signal's reason on abort, and with a CLOSED
   * HonkerError when the database closes. Argument errors throw synchronously.
   */
  wait<T = unknown>(jobId: number, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<T> {
    const where = 'results.wait';
    validate.int(where, 'jobId', jobId, 1);
    const opts = validate.options(where, options, ['timeoutMs', 'signal']);
    const timeoutMs = validate.optInt(where, 'timeoutMs', opts.timeoutMs, 0);
    const signal = validate.signal(where, opts.signal);
    this.db.assertOpen(where);
    const deadlineMs = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    this.db.watcher(); // subscribe before the first read
    return this.waitUntil<T>(jobId, timeoutMs, deadlineMs, signal);
  }

  private async waitUntil<T>(
    jobId: number,
    timeoutMs: number | undefined,
    deadlineMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    for (const wake = wakeLoop(this.db, { signal, deadlineMs }); wake.look(); await wake.sleep()) {
      const value = this.get<T>(jobId);
      if (value !== undefined) return value;
    }
    if (signal?.aborted) throw abortError(signal, 'honker wait');
    throw new HonkerError('TIMEOUT', `results.wait: no result for job ${jobId} within ${timeoutMs} ms`);
  }

  /** Delete expired results; returns how many. */
  sweep(): number {
    this.db.assertOpen('results.sweep');
    return this.db.sql('SELECT honker_result_sweep()').pluck().get() as number;
  }
}
