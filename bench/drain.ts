/**
 * Scenario 3 — end to end, in real processes.
 *   npx tsx bench/drain.ts [--quick]
 *
 * a) One worker process drains a pre-filled queue (50,000 jobs; 10,000 with
 *    --quick) with a no-op handler, through db.worker (concurrency 8, batch
 *    32: the result saved and the job acked in one transaction per job) and
 *    through the claim iterator (batch 32, job.ack() per job). Timed inside
 *    the child from "go" to the last handler call. Baseline: the batch-32
 *    claim+ack rate measured in this run (target: ≥ 50% of it).
 * b) One producer process (one job per transaction) and two db.worker
 *    processes for 10 s (3 s with --quick), twice: the producer flat out
 *    (jobs/s done while producing), then paced at 1,000 jobs/s (the
 *    enqueue-to-start delay p50/p99 under a steady load; the payload carries
 *    the enqueue time). Flat out, the delay measures the backlog instead.
 */
import path from 'node:path';
import { open } from '../src/index.js';
import { benchChild } from './lib/child.js';
import { benchDir, checkpointOf, median, payload, pct, rate } from './lib/measure.js';
import { size, standalone, type BenchOptions } from './lib/options.js';
import { openQueue, type LibName, type Payload } from './lib/queues.js';
import { addRow, fmtNum, section, type Section } from './lib/report.js';

const CHILD = 'lib/queue-child.ts';
/** The paced producer's rate: well under every library's capacity, so the delay is the wake, not a backlog. */
export const PACED_PER_S = 1000;

/** Fill `file` with n jobs for `lib` (100 per transaction). */
export async function prefill(lib: LibName, file: string, n: number): Promise<void> {
  const q = await openQueue(lib, file);
  for (let i = 0; i < n; i += 100) {
    const batch: Payload[] = [];
    for (let k = i; k < Math.min(n, i + 100); k++) batch.push(payload(k));
    await q.enqueueMany(batch);
  }
  q.close();
}

/** Jobs/s of one consumer process of `lib` draining n pre-filled jobs. */
export async function drainRate(lib: LibName, file: string, n: number, pollMs = 1000): Promise<number> {
  await prefill(lib, file, n);
  const child = benchChild(CHILD, [lib, file, 'drain', String(n), String(pollMs)]);
  await child.nextJson();
  child.send('go');
  const { ms } = await child.nextJson<{ ms: number }>();
  await child.finish();
  return (n * 1000) / ms;
}

export interface ConcurrentResult {
  produced: number;
  done: number;
  jobsPerS: number;
  p50: number;
  p99: number;
  /** Each consumer's resident memory (KiB): once ready, at the end, at its peak. */
  rss: Array<{ ready: number; end: number; peak: number }>;
}

/** One producer process (flat out, or perS jobs/s) and `consumers` consumer processes of `lib` for `ms`. */
export async function concurrentRun(lib: LibName, file: string, ms: number, pollMs = 1000, perS = 0, consumers = 2): Promise<ConcurrentResult> {
  (await openQueue(lib, file)).close(); // tables exist before the processes race to create them
  const workers = Array.from({ length: consumers }, () => benchChild(CHILD, [lib, file, 'serve', String(pollMs)]));
  const producer = benchChild(CHILD, [lib, file, 'produce', String(ms), String(perS)]);
  await Promise.all([...workers, producer].map((c) => c.nextJson()));
  const t0 = performance.now();
  producer.send('go');
  const { n: produced } = await producer.nextJson<{ n: number }>();
  const elapsed = performance.now() - t0;
  for (const w of workers) w.send('stop');
  const outs = await Promise.all(workers.map((w) => w.nextJson<{ n: number; delays: number[]; rss: ConcurrentResult['rss'][number] }>()));
  await Promise.all([...workers, producer].map((c) => c.finish()));
  const delays = outs.flatMap((o) => o.delays);
  return {
    produced,
    done: delays.length,
    jobsPerS: (delays.length * 1000) / elapsed,
    p50: delays.length ? pct(delays, 50) : NaN,
    p99: delays.length ? pct(delays, 99) : NaN,
    rss: outs.map((o) => o.rss),
  };
}

/** The batch-32 claim+ack rate, measured here for the end-to-end ratio. */
async function batch32Rate(dir: string, backlog: number, rounds: number, ms: number): Promise<number> {
  const db = open(path.join(dir, 'batch32.db'));
  const q = db.queue('q');
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    db.transaction(() => {
      for (let k = q.stats().pending; k < backlog; k++) q.enqueue(payload(k));
    });
    rates.push(
      await rate(
        () => {
          const jobs = q.claimBatch('w', 32);
          return jobs.length > 0 && q.ackBatch(jobs.map((j) => j.id), 'w') === jobs.length;
        },
        ms,
        32,
        checkpointOf(db.raw),
      ),
    );
  }
  db.close();
  return median(rates);
}

export async function drainBench(o: BenchOptions): Promise<Section> {
  const s = section('drain', '3. End to end (real processes)');
  const dir = benchDir();
  const n = size(o, 10_000, 50_000);
  const rounds = size(o, 1, 3);
  const b32 = await batch32Rate(dir, n, 3, size(o, 300, 1000));
  const base = `batch-32 claim+ack in-process (${fmtNum(b32)}/s)`;
  let file = 0;
  for (const [lib, name] of [
    ['honker', 'one db.worker process drains'],
    ['honker-iterator', 'one claim-iterator process drains'],
  ] as const) {
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) rates.push(await drainRate(lib, path.join(dir, `drain-${file++}.db`), n));
    const v = median(rates);
    addRow(s, { name: `${name} ${n.toLocaleString('en-US')} jobs`, value: v, unit: 'jobs/s', ratio: v / b32, baseline: base, target: lib === 'honker' ? { of: 'ratio', op: '>=', bound: 0.5 } : undefined });
  }
  const ms = size(o, 3000, 10_000);
  const c = await concurrentRun('honker', path.join(dir, 'concurrent.db'), ms);
  addRow(s, { name: `1 producer (flat out) + 2 db.worker processes, ${ms / 1000} s: done`, value: c.jobsPerS, unit: 'jobs/s', ratio: c.done / c.produced, baseline: `jobs produced (${c.produced.toLocaleString('en-US')}); ratio = done / produced` });
  const paced = await concurrentRun('honker', path.join(dir, 'paced.db'), ms, 1000, PACED_PER_S);
  addRow(s, { name: `1 producer at ${PACED_PER_S.toLocaleString('en-US')} jobs/s + 2 db.worker processes: enqueue → handler start p50`, value: paced.p50, unit: 'ms' });
  addRow(s, { name: '  … p99', value: paced.p99, unit: 'ms' });
  s.notes.push(`drain: median of ${rounds} run(s); the producer commits one job per transaction, yielding to its event loop between jobs`);
  return s;
}

await standalone(import.meta.url, drainBench);
