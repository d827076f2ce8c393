/**
 * Helpers of the client tests of notify/listen, streams and results: a clock
 * shared by processes and latency summaries. (Their fixture children are
 * started with fixtureChild from ./child.ts.)
 */
export { nowMs } from './client.js';

/** p-th percentile (0..100) of values, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** "p50 x ms, p99 y ms, max z ms" of a list of latencies in ms. */
export function summary(values: number[]): string {
  const f = (v: number) => v.toFixed(2);
  return `n=${values.length} p50 ${f(percentile(values, 50))} ms, p99 ${f(percentile(values, 99))} ms, max ${f(Math.max(...values))} ms`;
}
