/**
 * What waiting costs: CPU and event-loop delay of a process whose iterators
 * wait on the watcher. Run: npx tsx bench/idle-cost.ts
 * (HONKER_BENCH_SECONDS sets each idle CPU window, default 10;
 * HONKER_BENCH_REPEAT the rounds of event-loop delay phases, default 3;
 * HONKER_EXT_PATH picks the library, as everywhere).
 *
 * The measured process is a child (test/fixtures/client-watcher-child.ts
 * serve) holding one open database; this process reads the child's
 * utime + stime from /proc/<pid>/stat and drives it over stdin:
 *   idle CPU      no iterator (no watcher yet) vs 100 waiting iterators
 *                 (listen, claim, subscribe, results.wait in turn) — the
 *                 target is <= 0.5% of one core for the 100;
 *   loop delay    monitorEventLoopDelay (1 ms resolution) in the child:
 *                 idle with 0 vs 100 waiting iterators, and while this
 *                 process commits a notification on another channel every
 *                 20 ms (each commit wakes every waiter, which looks and
 *                 waits again) with 0, 1 and 100 waiting iterators — the
 *                 target is that the watcher adds <= 1 ms to p99.
 * The commit phases also print the child's CPU (which then includes the
 * 1 ms delay monitor itself).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extensionPath, open } from '../src/index.js';
import { repoRoot } from '../test/helpers/db.js';
import { LineProcess } from '../test/helpers/watcher.js';
import { ask, cpuMs, sleep } from '../test/helpers/watcher-client.js';

const SECONDS = Number(process.env.HONKER_BENCH_SECONDS ?? 10);
const ELD_MS = 5000;
const REPEAT = Number(process.env.HONKER_BENCH_REPEAT ?? 3);

const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'idle.db');
const db = open(file);
const child = await startChild();
const pid = child.child.pid as number;

/**
 * The child under plain node when esbuild (tsx's own dependency) can bundle
 * it: tsx's loader alone costs ~0.9% of a core in an idle process, which
 * would drown the figure measured here. Otherwise under tsx.
 */
async function startChild(): Promise<LineProcess & { runtime?: string }> {
  const fixture = path.join(repoRoot, 'test', 'fixtures', 'client-watcher-child.ts');
  const env = { ...process.env, HONKER_EXT_PATH: extensionPath() };
  try {
    const esbuild = await import('esbuild');
    // Inside node_modules so the bundle still resolves better-sqlite3 (kept external: a native module).
    const outDir = path.join(repoRoot, 'node_modules', '.cache', `honker-bench-${process.pid}`);
    mkdirSync(outDir, { recursive: true });
    process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));
    const outfile = path.join(outDir, 'client-watcher-child.mjs');
    await esbuild.build({
      entryPoints: [fixture],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['better-sqlite3'],
      logLevel: 'silent',
    });
    return Object.assign(new LineProcess(process.execPath, [outfile, 'serve', file], env), { runtime: 'node (bundled by esbuild)' });
  } catch {
    const proc = new LineProcess(process.execPath, ['--import=tsx', fixture, 'serve', file], env);
    return Object.assign(proc, { runtime: 'node --import=tsx (includes tsx idle cost ~0.9%)' });
  }
}

async function cpuPercent(ms: number): Promise<number> {
  const before = cpuMs(pid);
  const t0 = performance.now();
  await sleep(ms);
  return (100 * (cpuMs(pid) - before)) / (performance.now() - t0);
}

/** Commit a notification on an unrelated channel every 20 ms until stopped. */
function commitStream(): { stop: () => Promise<number> } {
  let running = true;
  let n = 0;
  const done = (async () => {
    while (running) {
      db.notify('elsewhere', { n: n++ });
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return n;
    },
  };
}

type Eld = { p50: number; p99: number; max: number; mean: number };
const f = (x: number) => x.toFixed(3).padStart(7);

/** Event-loop delay of the child over ELD_MS with `waiters` iterators, optionally under a commit stream. */
async function eldPhase(waiters: number, commits: boolean): Promise<Eld & { cpu: number }> {
  if (waiters > 0) await ask(child, `start ${waiters}`);
  const stream = commits ? commitStream() : undefined;
  const before = cpuMs(pid);
  const t0 = performance.now();
  const e = await ask<Eld>(child, `eld ${ELD_MS}`, ELD_MS + 30_000);
  const cpu = (100 * (cpuMs(pid) - before)) / (performance.now() - t0);
  await stream?.stop();
  if (waiters > 0) await ask(child, 'abort');
  return { ...e, cpu };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`idle cost (node ${process.version}, ${os.cpus().length} cores); child runs under ${child.runtime}`);
await ask(child, 'eld 10', 30_000); // the child is up (its database open, no watcher yet)
await sleep(3000); // start-up work (module compilation, GC) dies down

console.log(`\nCPU of the child over ${SECONDS} s, % of one core`);
const cpuNone = await cpuPercent(SECONDS * 1000);
console.log(`  open database, no watcher                   ${cpuNone.toFixed(3)}%`);
await ask(child, 'start 100');
await sleep(1000);
const cpu100 = await cpuPercent(SECONDS * 1000);
console.log(`  open database, 100 waiting iterators        ${cpu100.toFixed(3)}%  (target <= 0.5%)`);
await ask(child, 'abort');
await sleep(1000);
const cpuAfter = await cpuPercent(SECONDS * 1000);
console.log(`  after aborting them (watcher idle)          ${cpuAfter.toFixed(3)}%`);
console.log(`  added by the 100 iterators                  ${(cpu100 - cpuNone).toFixed(3)}%`);

const phases: Array<[string, number, boolean]> = [
  ['idle, 0 waiting iterators', 0, false],
  ['idle, 100 waiting iterators', 100, false],
  ['commits every 20 ms, 0 waiting iterators', 0, true],
  ['commits every 20 ms, 1 waiting iterator', 1, true],
  ['commits every 20 ms, 100 waiting iterators', 100, true],
];
console.log(
  `\nevent-loop delay in the child, ms: ${REPEAT} rounds of ${ELD_MS / 1000} s per case (phases interleaved);` +
    `\nmedian of the rounds' p50 and p99, worst max; child CPU incl. the 1 ms monitor`,
);
console.log(`${'case'.padEnd(44)}     p50     p99     max    CPU%`);
const results = phases.map(() => [] as Array<Eld & { cpu: number }>);
for (let round = 0; round < REPEAT; round++) {
  for (const [i, [, waiters, commits]] of phases.entries()) results[i].push(await eldPhase(waiters, commits));
}
const p99 = results.map((r) => median(r.map((e) => e.p99)));
for (const [i, [label]] of phases.entries()) {
  const r = results[i];
  const cpu = median(r.map((e) => e.cpu));
  console.log(`${label.padEnd(44)} ${f(median(r.map((e) => e.p50)))} ${f(p99[i])} ${f(Math.max(...r.map((e) => e.max)))} ${f(cpu)}`);
}
console.log(`p99 added by waiting iterators (target <= 1 ms): idle 100 vs 0 ${(p99[1] - p99[0]).toFixed(3)} ms;`);
console.log(`  under commits: 1 vs 0 ${(p99[3] - p99[2]).toFixed(3)} ms, 100 vs 0 ${(p99[4] - p99[2]).toFixed(3)} ms`);

await child.quit();
db.close();
