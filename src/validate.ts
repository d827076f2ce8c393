/**
 * Argument checks for the public API. Every message has the form
 *   `<method>: <option> must <rule> (got <value>)`
 * and is thrown synchronously, before anything is written.
 */
import { HonkerError } from './errors.js';

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function invalid(where: string, name: string, rule: string, value: unknown): HonkerError {
  return new HonkerError('INVALID_ARGUMENT', `${where}: ${name} must ${rule} (got ${show(value)})`);
}

/** A non-empty string (queue, channel, topic, lock and worker names). */
export function name(where: string, label: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(where, label, 'be a non-empty string', value);
  return value;
}

/** An integer >= min (and <= max when given). */
export function int(where: string, label: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const rule = max === Number.MAX_SAFE_INTEGER ? `be an integer >= ${min}` : `be an integer between ${min} and ${max}`;
    throw invalid(where, label, rule, value);
  }
  return value;
}

/** An optional integer >= min: undefined stays undefined. */
export function optInt(where: string, label: string, value: unknown, min: number): number | undefined {
  return value === undefined ? undefined : int(where, label, value, min);
}

/** Any safe integer (priorities may be negative). */
export function anyInt(where: string, label: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(where, label, 'be an integer', value);
  return value;
}

/**
 * JSON text of a payload. Refuses what JSON.stringify cannot encode (undefined, a function,
 * a BigInt, a cycle); like JSON.stringify, NaN and Infinity inside a value become null.
 */
export function json(where: string, label: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new HonkerError('INVALID_ARGUMENT', `${where}: ${label} must be JSON-serialisable (${(err as Error).message})`);
  }
  if (text === undefined) throw invalid(where, label, 'be JSON-serialisable', value);
  return text;
}

/**
 * Reject unknown option keys, with a hint for a near miss
 * (`queue.enqueue: unknown option "delay" (did you mean "delayS"?)`).
 */
export function options<T extends object>(where: string, value: T | undefined, known: readonly string[]): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(where, 'options', 'be an object', value);
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = closest(key, known);
    throw new HonkerError(
      'INVALID_ARGUMENT',
      `${where}: unknown option ${JSON.stringify(key)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`,
    );
  }
  return value;
}

/** The known name nearest to key (a prefix, or at most 2 edits away), for "did you mean" hints. */
export function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    const d = c.startsWith(lower) || lower.startsWith(c) ? 1 : editDistance(lower, c);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= 2 ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** An AbortSignal or undefined. */
export function signal(where: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalid(where, 'signal', 'be an AbortSignal', value);
  return value;
}
