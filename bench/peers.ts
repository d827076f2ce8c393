/**
 * Scenario 8 — peers: plainjob and liteque (SQLite job queues for Node,
 * installed as devDependencies) against honker on scenarios 1, 3 and 4 with
 * the same payloads and the same kind of file (WAL, synchronous=NORMAL).
 *   npx tsx bench/peers.ts [--quick]
 *
 *   enqueue   1 job per transaction and 100 per transaction, in-process
 *             (honker: queue.enqueue; plainjob: queue.add / addMany;
 *             liteque: await queue.enqueue, 100 inside BEGIN … COMMIT);
 *   drain     one consumer process empties a pre-filled queue (honker:
 *             db.worker; plainjob: defineWorker; liteque: Runner, concurrency 8);
 *   1+2       one producer + two consumer processes (as in scenario 3): flat
 *             out for jobs/s, then paced at 1,000 jobs/s for the delay;
 *   wake      enqueue here → handler start in another process, one-way,
 *             after a random 2–8 ms pause each time.
 * plainjob and liteque find work by polling; they run here with a 10 ms
 * interval (their documented default is 1000 ms, which puts their wake
 * latency near 500 ms on average). The "honker ÷ best peer" rows carry the
 * targets: throughput ≥ 2x the best peer, wake p50 below every peer.
 */
import path from 'node:path';
import { benchChild } from './lib/child.js';
import { benchDir, clock, median, payload, pct, sleep } from './lib/measure.js';
import { size, standalone, type BenchOptions } from './lib/options.js';
import { openQueue, type LibName, type Payload } from './lib/queues.js';
import { addRow, fmtNum, section, type Section, type Target } from './lib/report.js';
import { concurrentRun, drainRate, PACED_PER_S } from './drain.js';

const PEERS = ['plainjob', 'liteque'] as const;
const POLL_MS = 10;

/** Jobs/s of an async-capable op over ms (the peers' enqueue may return a Promise). */
async function asyncRate(op: () => void | Promise<void>, ms: number, perCall: number): Promise<number> {
  let ops = 0;
  const t0 = performance.now();
  let lastYield = t0;
  while (performance.now() - t0 < ms) {
    const r = op();
    if (r) await r;
    ops += perCall;
    if (performance.now() - lastYield > 5) {
      await new Promise((res) => setImmediate(res));
      lastYield = performance.now();
    }
  }
  return (ops * 1000) / (performance.now() - t0);
}

async function enqueueRates(lib: LibName, dir: string, ms: number, rounds: number): Promise<{ one: number; hundred: number }> {
  const q = await openQueue(lib, path.join(dir, `enqueue-${lib}.db`));
  let i = 0;
  const one: number[] = [];
  const hundred: number[] = [];
  for (let r = 0; r < rounds; r++) {
    one.push(await asyncRate(() => q.enqueue(payload(i++)), ms, 1));
    hundred.push(
      await asyncRate(
        () => {
          const batch: Payload[] = [];
          for (let k = 0; k < 100; k++) batch.push(payload(i++));
          return q.enqueueMany(batch);
        },
        ms,
        100,
      ),
    );
  }
  q.close();
  return { one: median(one), hundred: median(hundred) };
}

/** One-way enqueue → handler-start delays: this process enqueues, a serve child consumes. */
async function wakeDelays(lib: LibName, file: string, samples: number): Promise<number[]> {
  const q = await openQueue(lib, file);
  const c = benchChild('lib/queue-child.ts', [lib, file, 'serve', String(POLL_MS)]);
  await c.nextJson();
  await sleep(200); // the consumer reaches its first wait
  for (let i = 0; i < samples; i++) {
    await sleep(2 + Math.random() * 6);
    await q.enqueue({ t: clock(), n: i });
  }
  await sleep(500); // the last ones run (a poller may be mid-interval)
  c.send('stop');
  const { delays } = await c.nextJson<{ delays: number[] }>();
  await c.finish();
  q.close();
  return delays;
}

type Figures = { enq1: number; enq100: number; drain: number; concurrent: number; concP50: number; wakeP50: number; wakeP99: number };

export async function peersBench(o: BenchOptions): Promise<Section> {
  const s = section('peers', '8. Peers: plainjob and liteque (same payloads, same machine, same run)');
  const dir = benchDir();
  const ms = size(o, 300, 1000);
  const rounds = size(o, 3, 5);
  const n = size(o, 5_000, 20_000); // liteque drains ~300 jobs/s here
  const concMs = size(o, 2000, 10_000);
  const samples = size(o, 60, 300);
  const libs: LibName[] = ['honker', ...PEERS];
  const fig = {} as Record<LibName, Figures>;
  for (const lib of libs) {
    // honker's enqueue rows use plain payloads (queue.enqueue), like the peers'.
    const e = await enqueueRates(lib === 'honker' ? 'honker-iterator' : lib, dir, ms, rounds);
    const drain = await drainRate(lib, path.join(dir, `drain-${lib}.db`), n, POLL_MS);
    const conc = await concurrentRun(lib, path.join(dir, `conc-${lib}.db`), concMs, POLL_MS);
    const paced = await concurrentRun(lib, path.join(dir, `paced-${lib}.db`), concMs, POLL_MS, PACED_PER_S);
    const wake = await wakeDelays(lib, path.join(dir, `wake-${lib}.db`), samples);
    fig[lib] = { enq1: e.one, enq100: e.hundred, drain, concurrent: conc.jobsPerS, concP50: paced.p50, wakeP50: pct(wake, 50), wakeP99: pct(wake, 99) };
  }
  const rows: Array<[string, keyof Figures, string, 'higher' | 'lower']> = [
    ['enqueue 1/tx', 'enq1', 'jobs/s', 'higher'],
    ['enqueue 100/tx', 'enq100', 'jobs/s', 'higher'],
    [`one consumer process drains ${n.toLocaleString('en-US')} jobs`, 'drain', 'jobs/s', 'higher'],
    [`1 producer (flat out) + 2 consumer processes, ${concMs / 1000} s: done`, 'concurrent', 'jobs/s', 'higher'],
    [`1 producer at ${PACED_PER_S} jobs/s + 2 consumers: enqueue → handler start p50`, 'concP50', 'ms', 'lower'],
    ['wake: enqueue → handler start p50 (idle consumer)', 'wakeP50', 'ms', 'lower'],
    ['wake: enqueue → handler start p99 (idle consumer)', 'wakeP99', 'ms', 'lower'],
  ];
  for (const [label, key, unit, better] of rows) {
    const h = fig.honker[key];
    for (const lib of libs) {
      addRow(s, { name: `${label} — ${lib}`, value: fig[lib][key], unit, ratio: lib === 'honker' ? undefined : fig[lib][key] / h, baseline: lib === 'honker' ? undefined : `honker (${fmtNum(h, unit)} ${unit})` });
    }
    const best = better === 'higher' ? Math.max(...PEERS.map((p) => fig[p][key])) : Math.min(...PEERS.map((p) => fig[p][key]));
    const isTarget = key !== 'concP50' && key !== 'wakeP99';
    const target: Target | undefined = !isTarget ? undefined : better === 'higher' ? { of: 'ratio', op: '>=', bound: 2 } : { of: 'ratio', op: '<=', bound: 1 };
    addRow(s, {
      name: `${label} — honker ÷ best peer`,
      value: h,
      unit,
      ratio: h / best,
      baseline: `best peer (${fmtNum(best, unit)} ${unit})`,
      target,
    });
  }
  s.notes.push(`peers poll every ${POLL_MS} ms here (default 1000 ms); honker wakes on commits. Consumers: honker db.worker (concurrency 8, batch 32), plainjob one job at a time (its only mode), liteque Runner concurrency 8`);
  return s;
}

await standalone(import.meta.url, peersBench);
