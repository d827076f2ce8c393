/** Helpers of the queue tests and fixtures: a file-based start barrier. */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolve once path exists (polls every 2 ms; rejects after timeoutMs). */
export async function waitForFile(path: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`waitForFile: ${path} did not appear in ${timeoutMs} ms`);
    await sleep(2);
  }
}

/** Resolve once every path exists. */
export async function waitForFiles(paths: string[], timeoutMs = 30_000): Promise<void> {
  for (const p of paths) await waitForFile(p, timeoutMs);
}
