/**
 * Helpers of the task and worker tests: a worker child process
 * (test/fixtures/worker-run.ts) that prints JSON lines and can be signalled.
 */
import type { ExecutionContext } from 'ava';
import { fixtureChild, type LineChild, type Line } from './child.js';

export type { Line };

export interface WorkerArgs {
  file: string;
  concurrency?: number;
  batchSize?: number;
  visibilityTimeoutS?: number;
  graceMs?: number;
  name: string;
}

/** Start test/fixtures/worker-run.ts, a worker process reporting its jobs as JSON lines; killed after the test. */
export function workerChild(t: ExecutionContext, args: WorkerArgs): LineChild<Line> {
  return fixtureChild(t, 'worker-run', [
    args.file,
    String(args.concurrency ?? 1),
    String(args.batchSize ?? args.concurrency ?? 1),
    String(args.visibilityTimeoutS ?? 300),
    String(args.graceMs ?? 30_000),
    args.name,
  ]);
}
