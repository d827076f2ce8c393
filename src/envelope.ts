/**
 * The task wire format: what a task call stores as a job payload and what a
 * worker stores as its result. Stable; any language can write and read it
 * with raw SQL through the extension.
 *
 * Job payload (the envelope):  {"task":"<name>","args":[<JSON values>],"v":1}
 *   e.g. SELECT honker_enqueue('emails', '{"task":"send_email","args":["alice","hi"],"v":1}',
 *                              NULL, NULL, 0, 4, NULL);
 *   "args" may be omitted (= []); "v" is required and must be 1. A worker
 *   dead-letters at once (the handler never runs) a payload that is not such
 *   an object, whose "v" is not 1, or whose task is not registered for its queue.
 *
 * Result (honker_result_get(job_id)), saved by the worker:
 *   success: {"ok":true,"value":<the handler's return value, JSON>}
 *     (undefined is stored as null; a value JSON cannot hold or would change,
 *     e.g. a BigInt, NaN or a Map, fails the attempt) — saved and acked in
 *     ONE transaction;
 *   death:   {"ok":false,"error":"<last error text>","attempts":<n>}
 *     — saved in the same transaction that dead-letters the job.
 *   Results expire after the task's resultTtlS (default DEFAULT_RESULT_TTL_S;
 *   0 = kept forever).
 */
import * as validate from './validate.js';

export const ENVELOPE_VERSION = 1;
/** How long a task result is kept unless the task says otherwise (1 day). */
export const DEFAULT_RESULT_TTL_S = 86400;

export interface TaskEnvelope {
  task: string;
  args: unknown[];
  v: number;
}

export type TaskResultEnvelope = { ok: true; value: unknown } | { ok: false; error: string; attempts: number };

/** A job payload read as an envelope: the task and its arguments, or why it is not one. */
export type ReadEnvelope = { task: string; args: unknown[]; problem?: undefined } | { task: string | undefined; problem: string };

/** The envelope text of a call (throws INVALID_ARGUMENT for an argument JSON cannot hold). */
export function envelopeText(where: string, taskName: string, args: unknown[]): string {
  args.forEach((arg, i) => {
    if (arg === undefined) throw validate.invalid(where, `args[${i}]`, 'be JSON-serialisable', arg);
    validate.json(where, `args[${i}]`, arg);
  });
  const envelope: TaskEnvelope = { task: taskName, args, v: ENVELOPE_VERSION };
  return JSON.stringify(envelope);
}

/** Read a job's payload (already parsed) as an envelope. */
export function readEnvelope(payload: unknown): ReadEnvelope {
  const p = payload as { task?: unknown; args?: unknown; v?: unknown } | null;
  if (p === null || typeof p !== 'object' || Array.isArray(p) || typeof p.task !== 'string') {
    return {
      task: undefined,
      problem: `payload is not a task envelope {"task":<name>,"args":[...],"v":${ENVELOPE_VERSION}} (got ${JSON.stringify(payload)?.slice(0, 80)})`,
    };
  }
  if (p.v !== ENVELOPE_VERSION) {
    return {
      task: p.task,
      problem: `task envelope version ${JSON.stringify(p.v)} is not supported (this worker reads v ${ENVELOPE_VERSION})`,
    };
  }
  if (p.args !== undefined && !Array.isArray(p.args)) {
    return { task: p.task, problem: `task envelope "args" must be an array (task ${JSON.stringify(p.task)})` };
  }
  return { task: p.task, args: (p.args as unknown[] | undefined) ?? [] };
}

/**
 * The stored text of a result envelope; throws INVALID_ARGUMENT when its value
 * is not JSON or JSON would change it (validate.json: the message names the
 * value's own path, `value.items[2]`, not the envelope's).
 */
export function resultEnvelopeText(result: TaskResultEnvelope): string {
  if (!result.ok) return validate.json('results.save', 'value', result);
  return `{"ok":true,"value":${validate.json('results.save', 'value', result.value)}}`;
}

/** Parse a stored result envelope; a value that is not one is handed over as a success. */
export function parseResultEnvelope(value: unknown): TaskResultEnvelope {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { ok?: unknown }).ok === 'boolean') {
    const v = value as { ok: boolean; value?: unknown; error?: unknown; attempts?: unknown };
    if (v.ok) return { ok: true, value: v.value ?? null };
    return { ok: false, error: String(v.error ?? 'failed'), attempts: typeof v.attempts === 'number' ? v.attempts : 0 };
  }
  return { ok: true, value };
}
