/**
 * Helpers of the crash scenarios (test/reliability/crash.*.test.ts): figures reporting,
 * bounded polling and WAL size. (A child's kill() resolves once the process is gone.)
 */
import type { ExecutionContext } from 'ava';
import { appendFileSync, statSync } from 'node:fs';
import { soak } from './soak.js';

/** Log the figures and append them as one JSON line to $HONKER_RELIABILITY_REPORT. */
export function report(t: ExecutionContext, scenario: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ part: 'crash', scenario, soak, ...figures });
  t.log(line);
  const file = process.env.HONKER_RELIABILITY_REPORT;
  if (file) appendFileSync(file, line + '\n');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll cond every intervalMs until it is true; throws after timeoutMs naming what. */
export async function until(what: string, cond: () => boolean, timeoutMs = 30_000, intervalMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Size of <file>-wal in bytes (0 when absent). */
export function walSize(file: string): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}
