/**
 * Helpers of the task and worker tests: a worker child process
 * (test/fixtures/worker-run.ts) that prints JSON lines and can be signalled.
 */
import type { ExecutionContext } from 'ava';
import { FixtureChild, type Line } from './child.js';

export type { Line };

/** test/fixtures/worker-run.ts: a worker process reporting its jobs as JSON lines. */
export class WorkerChild extends FixtureChild {
  constructor(args: { file: string; concurrency?: number; batchSize?: number; visibilityTimeoutS?: number; graceMs?: number; name: string }) {
    super('worker-run', [
      args.file,
      String(args.concurrency ?? 1),
      String(args.batchSize ?? args.concurrency ?? 1),
      String(args.visibilityTimeoutS ?? 300),
      String(args.graceMs ?? 30_000),
      args.name,
    ]);
  }
}

/** Start a worker child; SIGKILLed after the test if still running. */
export function workerChild(t: ExecutionContext, args: ConstructorParameters<typeof WorkerChild>[0]): WorkerChild {
  const c = new WorkerChild(args);
  t.teardown(() => c.signal('SIGKILL'));
  return c;
}
