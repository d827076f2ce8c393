/**
 * Job results on Postgres (src/results.ts is the SQLite twin): a value
 * stored under a job id, and a wait that resolves when some process saves
 * it (honker_result_save wakes 'r:<job id>').
 */
import { abortError, HonkerError } from '../errors.js';
import { parsePayload } from '../payload.js';
import * as validate from '../validate.js';
import { wakeLoop } from '../wake.js';
import type { PgConnection } from './connection.js';
import { wakeKey } from './watcher.js';

export class PgResults {
  /** @internal */
  constructor(private readonly db: PgConnection) {}

  /** Store value for jobId (JSON); ttlS > 0 expires it. */
  save(jobId: number, value: unknown, options?: { ttlS?: number }): Promise<void> {
    validate.int('results.save', 'jobId', jobId, 1);
    const opts = validate.options('results.save', options, ['ttlS']);
    const ttlS = validate.optSeconds('results.save', 'ttlS', opts.ttlS, 0) ?? 0;
    const text = validate.json('results.save', 'value', value);
    this.db.assertOpen('results.save');
    return this.db.value('SELECT honker_result_save($1, $2, $3) AS v', [jobId, text, ttlS]).then(() => undefined);
  }

  /** The stored value, or undefined when there is none (or it expired). */
  get<T = unknown>(jobId: number): Promise<T | undefined> {
    validate.int('results.get', 'jobId', jobId, 1);
    this.db.assertOpen('results.get');
    return this.db
      .value<string | null>('SELECT honker_result_get($1) AS v', [jobId])
      .then((text) => (text === null ? undefined : parsePayload<T>(text)));
  }

  /**
   * Resolve with the value once any process saves it (at once if it is
   * there). Rejects with a TIMEOUT HonkerError after timeoutMs (default:
   * forever), with the signal's reason on abort, and with a CLOSED HonkerError
   * when the database closes.
   */
  wait<T = unknown>(jobId: number, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<T> {
    const where = 'results.wait';
    validate.int(where, 'jobId', jobId, 1);
    const opts = validate.options(where, options, ['timeoutMs', 'signal']);
    const timeoutMs = validate.optInt(where, 'timeoutMs', opts.timeoutMs, 0);
    const signal = validate.signal(where, opts.signal);
    this.db.assertOpen(where);
    const deadlineMs = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    this.db.pgWatcher();
    return this.waitUntil<T>(jobId, timeoutMs, deadlineMs, signal);
  }

  private async waitUntil<T>(jobId: number, timeoutMs: number | undefined, deadlineMs: number | undefined, signal: AbortSignal | undefined): Promise<T> {
    const sub = await this.db.subscribe([wakeKey('r', jobId)]);
    try {
      for (const wake = wakeLoop(sub, { signal, deadlineMs }); wake.look(); await wake.sleep()) {
        const value = await this.get<T>(jobId);
        if (value !== undefined) return value;
      }
    } finally {
      sub.close();
    }
    if (signal?.aborted) throw abortError(signal, 'honker wait');
    throw new HonkerError('TIMEOUT', `results.wait: no result for job ${jobId} within ${timeoutMs} ms`);
  }

  /** Delete expired results; resolves with how many. */
  sweep(): Promise<number> {
    this.db.assertOpen('results.sweep');
    return this.db.int('SELECT honker_result_sweep() AS v');
  }
}
