/**
 * Scenario 11 — how far one file goes (docs/SCALING.md).
 *   npx tsx bench/scaling.ts [--quick] [--long]
 *
 * a) Drain: 1, 2, 4 and 8 db.worker processes (concurrency 8, batch 32,
 *    no-op handler) share one pre-filled queue (50,000 jobs; 5,000 with
 *    --quick). Jobs/s from "go" to the last handler call of any of them,
 *    against 1 worker in the same run. Each worker reads its main thread's
 *    /proc/self/schedstat: time on a CPU (CPU per job, cores busy), time
 *    runnable but waiting for a CPU (the run queue: more processes than
 *    cores), and the rest, asleep. The queue never runs dry during the
 *    drain, so a worker asleep is mostly a worker in SQLite's busy handler,
 *    waiting for the write lock (the 1-worker run is the floor of that
 *    figure). And each worker's resident memory, once ready and at its peak.
 * b) Mixed load: one producer at 1,000 jobs/s (one job per transaction) and
 *    1, 2, 4, 8 db.worker processes for 10 s (2 s with --quick): enqueue →
 *    handler start p50/p99 against 1 worker.
 * c) Claim at depth: one claim(1) + ack pair (each statement in autocommit,
 *    as scenario 7) against 1,000,000 pending jobs and against 1,000,000
 *    dead jobs (plus one due job fed before each claim), against an empty
 *    queue, rounds interleaved; p50 and p99; then 10,000,000 of each (200,000
 *    only with --quick).
 *    Each file is filled by one INSERT … SELECT from a recursive CTE in one
 *    transaction (the fill time is printed).
 * d) Steady run: a producer at 1,000 jobs/s and 2 workers for 60 s (10 s
 *    with --quick, 10 minutes with --long); the file and its -wal are
 *    sampled every 500 ms while open()'s checkpoints run (src/checkpoint.ts).
 *    Baselines: the first tenth of the same run (bounded means ~1x), and each
 *    worker's memory once ready. Then the same load for up to 60 s next to a
 *    reader that behaves like Litestream (a read transaction held open,
 *    released only for its own checkpoints), against the run without it.
 * e) One file per tenant: one process holding 1, 10 and 100 files (1 and 10
 *    with --quick) in one directory, one waiting claim iterator on each: idle
 *    CPU, CPU while one file takes 20 commits a second, memory and file
 *    descriptors per file; against the same process with no file open.
 * HONKER_SCALING_ONLY=drain,mixed,depth,steady,tenants runs some parts only.
 */
import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { extensionPath } from '../src/extension.js';
import { open } from '../src/index.js';
import { concurrentRun, prefill } from './drain.js';
import { benchChild } from './lib/child.js';
import { benchDir, clock, fillRows, median, pct, rawDb, rssSelf, sleep, type Db } from './lib/measure.js';
import { size, standalone, type BenchOptions } from './lib/options.js';
import { openQueue, QUEUE } from './lib/queues.js';
import { addRow, fmtNum, section, type Section } from './lib/report.js';

const CHILD = 'lib/queue-child.ts';
const WORKERS = [1, 2, 4, 8];
const PACED_PER_S = 1000;
const MB = 1024 * 1024;

interface ShareOut {
  n: number;
  lastAt: number;
  wallMs: number;
  cpuMs: number;
  runqMs: number;
  rss: { ready: number; end: number; peak: number };
}

export interface SharedDrain {
  jobsPerS: number;
  /** Main-thread CPU of all workers per job, µs. */
  cpuUsPerJob: number;
  /** CPU time of all workers over the drain's wall time: how many cores they kept busy. */
  coresBusy: number;
  /** Shares of the workers' summed wall time: waiting for a CPU, asleep (busy handler, mostly). */
  runqShare: number;
  asleepShare: number;
  /** Fewest and most jobs one worker ran, as shares of n/workers. */
  spread: [number, number];
  rss: ShareOut['rss'][];
}

/** `workers` db.worker processes drain n jobs pre-filled in `file`. */
export async function sharedDrain(file: string, n: number, workers: number): Promise<SharedDrain> {
  await prefill('honker', file, n);
  const kids = Array.from({ length: workers }, () => benchChild(CHILD, ['honker', file, 'share', '1000']));
  await Promise.all(kids.map((k) => k.nextJson()));
  const probe = new Database(file, { readonly: true });
  const left = probe.prepare('SELECT EXISTS (SELECT 1 FROM _honker_live WHERE queue = ?)').pluck();
  const goAt = clock();
  for (const k of kids) k.send('go');
  while (left.get(QUEUE) === 1) await sleep(20);
  probe.close();
  for (const k of kids) k.send('stop');
  const outs = await Promise.all(kids.map((k) => k.nextJson<ShareOut>()));
  await Promise.all(kids.map((k) => k.finish()));
  const done = outs.reduce((a, o) => a + o.n, 0);
  if (done !== n) throw new Error(`scaling: ${workers} workers ran ${done} jobs of ${n}`);
  const wallMs = Math.max(...outs.map((o) => o.lastAt)) - goAt;
  const cpuMs = outs.reduce((a, o) => a + o.cpuMs, 0);
  const runqMs = outs.reduce((a, o) => a + o.runqMs, 0);
  // Each worker's own go → stop window (stop comes ≤ 20 ms after the queue is empty).
  const spanMs = outs.reduce((a, o) => a + o.wallMs, 0);
  const asleepMs = outs.reduce((a, o) => a + Math.max(0, o.wallMs - o.cpuMs - o.runqMs), 0);
  const fair = n / workers;
  return {
    jobsPerS: (n * 1000) / wallMs,
    cpuUsPerJob: (cpuMs * 1000) / n,
    coresBusy: cpuMs / (spanMs / workers),
    runqShare: runqMs / spanMs,
    asleepShare: asleepMs / spanMs,
    spread: [Math.min(...outs.map((o) => o.n)) / fair, Math.max(...outs.map((o) => o.n)) / fair],
    rss: outs.map((o) => o.rss),
  };
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;
const pctOf = (x: number): string => `${(x * 100).toFixed(1)}%`;

async function drainRows(s: Section, o: BenchOptions, dir: string): Promise<void> {
  const n = size(o, 5_000, 50_000);
  const rounds = size(o, 1, 3);
  const runs = new Map<number, SharedDrain[]>(WORKERS.map((w) => [w, []]));
  let f = 0;
  for (let r = 0; r < rounds; r++) {
    for (const w of WORKERS) {
      const file = path.join(dir, `drain-${f++}.db`);
      runs.get(w)!.push(await sharedDrain(file, n, w));
      for (const ext of ['', '-wal', '-shm', '-honker']) rmSync(file + ext, { force: true });
    }
  }
  // The median run of each worker count, by rate; its other figures come from the same run.
  const pick = (w: number): SharedDrain => {
    const rs = [...runs.get(w)!].sort((a, b) => a.jobsPerS - b.jobsPerS);
    return rs[Math.floor(rs.length / 2)];
  };
  const one = pick(1);
  const rate1 = median(runs.get(1)!.map((d) => d.jobsPerS));
  for (const w of WORKERS) {
    const d = pick(w);
    const v = median(runs.get(w)!.map((x) => x.jobsPerS));
    const label = `${w} db.worker process${w > 1 ? 'es' : ''}`;
    addRow(s, { name: `${label} drain ${n.toLocaleString('en-US')} jobs`, value: v, unit: 'jobs/s', ratio: v / rate1, baseline: `1 worker (${fmtNum(rate1)}/s)` });
    addRow(s, { name: `  … CPU per job (all workers)`, value: d.cpuUsPerJob, unit: 'µs', ratio: d.cpuUsPerJob / one.cpuUsPerJob, baseline: `1 worker (${one.cpuUsPerJob.toFixed(1)} µs)` });
    addRow(s, { name: `  … cores kept busy (CPU time ÷ wall time)`, value: d.coresBusy, unit: 'cores' });
    addRow(s, { name: `  … a worker's time runnable, waiting for a CPU`, value: d.runqShare * 100, unit: '%' });
    addRow(s, { name: `  … a worker's time asleep (busy handler, mostly: write-lock waits)`, value: d.asleepShare * 100, unit: '%', ratio: d.asleepShare / one.asleepShare, baseline: `1 worker (${pctOf(one.asleepShare)})` });
  }
  const peaks = (w: number) => pick(w).rss.map((r) => r.peak);
  const readies = (w: number) => pick(w).rss.map((r) => r.ready);
  for (const w of [1, WORKERS[WORKERS.length - 1]]) {
    const peak = median(peaks(w));
    const ready = median(readies(w));
    addRow(s, { name: `memory per worker process, ${w} worker${w > 1 ? 's' : ''}: peak RSS during the drain`, value: peak / 1024, unit: 'MB', ratio: peak / ready, baseline: `the same process once ready (${mb(ready)})` });
  }
  s.notes.push(
    `drain: ${rounds} run(s) per worker count, median by rate; a worker's time is split by /proc/self/schedstat of its main thread: on a CPU, runnable but waiting for one, asleep (the queue never runs dry, so mostly SQLite's busy handler waiting for the write lock); jobs per worker ${WORKERS.map((w) => `${w}: ${pick(w).spread.map((x) => x.toFixed(2)).join('–')}x`).join(', ')} of an even share`,
  );
}

async function mixedRows(s: Section, o: BenchOptions, dir: string): Promise<void> {
  const ms = size(o, 2000, 10_000);
  const rounds = size(o, 1, 3);
  const p50s = new Map<number, number[]>(WORKERS.map((w) => [w, []]));
  const p99s = new Map<number, number[]>(WORKERS.map((w) => [w, []]));
  let short = 0;
  let f = 0;
  for (let r = 0; r < rounds; r++) {
    for (const w of WORKERS) {
      const run = await concurrentRun('honker', path.join(dir, `mixed-${f++}.db`), ms, 1000, PACED_PER_S, w);
      p50s.get(w)!.push(run.p50);
      p99s.get(w)!.push(run.p99);
      short = Math.max(short, run.produced - run.done);
    }
  }
  const b50 = median(p50s.get(1)!);
  const b99 = median(p99s.get(1)!);
  for (const w of WORKERS) {
    const v50 = median(p50s.get(w)!);
    const v99 = median(p99s.get(w)!);
    const label = `1 producer at ${PACED_PER_S.toLocaleString('en-US')} jobs/s + ${w} worker${w > 1 ? 's' : ''}: enqueue → start`;
    addRow(s, { name: `${label} p50`, value: v50, unit: 'ms', ratio: v50 / b50, baseline: `1 worker (${b50.toFixed(2)} ms)` });
    addRow(s, { name: `${label} p99`, value: v99, unit: 'ms', ratio: v99 / b99, baseline: `1 worker (${b99.toFixed(2)} ms)` });
  }
  s.notes.push(`mixed: ${ms / 1000} s per run, ${rounds} run(s) per worker count, medians; at most ${short} job(s) of a run were still waiting when its producer stopped`);
}

/** A bootstrapped file holding `pending` due jobs and `dead` dead jobs of queue q; the fill's seconds. */
function depthFile(file: string, pending: number, dead: number): { db: Db; fillS: number; sizeMb: number } {
  const db = rawDb(file);
  db.loadExtension(extensionPath());
  db.prepare('SELECT honker_bootstrap()').get();
  db.pragma('cache_size = -262144'); // 256 MB while filling
  const t0 = performance.now();
  db.transaction(() => {
    fillRows(db, '_honker_live', 'queue, payload, state, priority, run_at, attempts, max_attempts', `'q', '{"n":' || x || ',"email":"user' || x || '@example.com"}', 'pending', 0, unixepoch() - 10, 0, 3`, pending);
    fillRows(db, '_honker_dead', 'queue, payload, priority, run_at, attempts, max_attempts, last_error, died_at', `'q', '{"n":' || x || ',"email":"user' || x || '@example.com"}', 0, unixepoch() - 10, 3, 3, 'boom', unixepoch() - x % 86400`, dead);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const fillS = (performance.now() - t0) / 1000;
  db.pragma('cache_size = -2000'); // SQLite's default again for the timing
  return { db, fillS, sizeMb: statSync(file).size / MB };
}

/** Microseconds of `iter` claim(1) + ack pairs on db; feed enqueues one due job (untimed) before each claim. */
function claimPairs(db: Db, feed: boolean, iter: number): number[] {
  const enqueue = db.prepare("SELECT honker_enqueue('q', '{}', NULL, NULL, 0, 3, NULL)");
  const claim = db.prepare("SELECT honker_claim_batch('q', 'w', 1, 30)").pluck();
  const ack = db.prepare("SELECT honker_ack(?, 'w')").pluck();
  const out: number[] = [];
  for (let i = 0; i < iter + 50; i++) {
    if (feed) enqueue.get();
    const t0 = process.hrtime.bigint();
    const jobs = JSON.parse(claim.get() as string) as Array<{ id: number }>;
    if (jobs.length !== 1 || ack.get(jobs[0].id) !== 1) throw new Error('scaling: claim/ack failed');
    if (i >= 50) out.push(Number(process.hrtime.bigint() - t0) / 1000); // the first 50 warm the cache
  }
  return out;
}

function depthRows(s: Section, o: BenchOptions, dir: string): void {
  const depths = size(o, [200_000], [1_000_000, 10_000_000]);
  const rounds = size(o, 3, 5);
  const iter = size(o, 300, 1000);
  const fmt = (x: number) => (x >= 1e6 ? `${x / 1e6}M` : `${x / 1e3}k`);
  const cases = [{ name: 'empty queue', pending: 0, dead: 0 }];
  for (const d of depths) cases.push({ name: `${fmt(d)} pending`, pending: d, dead: 0 }, { name: `${fmt(d)} dead (1 due job fed)`, pending: 0, dead: d });
  const files = cases.map((c, i) => ({ c, ...depthFile(path.join(dir, `depth-${i}.db`), c.pending, c.dead) }));
  const p50 = files.map(() => [] as number[]);
  const p99 = files.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < files.length; k++) {
      const i = (k + r) % files.length;
      const us = claimPairs(files[i].db, files[i].c.pending === 0, iter);
      p50[i].push(pct(us, 50));
      p99[i].push(pct(us, 99));
    }
  }
  const ratios = (xs: number[][], i: number) => median(xs[i].map((x, r) => x / xs[0][r]));
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    const tag = `claim(1) + ack, ${f.c.name}`;
    addRow(s, { name: `${tag}: p50`, value: median(p50[i]), unit: 'µs', ratio: ratios(p50, i), baseline: `empty queue (${median(p50[0]).toFixed(1)} µs)`, target: i ? { of: 'ratio', op: '<=', bound: 2 } : undefined });
    addRow(s, { name: `${tag}: p99`, value: median(p99[i]), unit: 'µs', ratio: ratios(p99, i), baseline: `empty queue (${median(p99[0]).toFixed(1)} µs)`, target: i ? { of: 'ratio', op: '<=', bound: 2 } : undefined });
    f.db.close();
  }
  s.notes.push(
    `depth: ${rounds} interleaved rounds of ${iter} pairs per case, medians of the per-round p50/p99, ratio per round; fills (one INSERT … SELECT per table, one transaction): ${files.slice(1).map((f) => `${f.c.name.split(' (')[0]} ${f.fillS.toFixed(1)} s, ${f.sizeMb.toFixed(0)} MB`).join('; ')}`,
  );
}

const sizeOf = (p: string): number => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

/**
 * A reader that behaves like Litestream's replication (its db.go): one read
 * transaction held open to keep anyone else's checkpoint from passing it,
 * released only for its own PASSIVE checkpoint, which it takes once the WAL
 * holds 1,000 pages (checked every second), then taken again at once.
 */
function litestreamLikeReader(file: string): { stop: () => number } {
  const db = new Database(file);
  db.pragma('busy_timeout = 1000');
  db.pragma('wal_autocheckpoint = 0');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.exec('CREATE TABLE IF NOT EXISTS _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)');
  const bump = db.prepare('INSERT INTO _litestream_seq (id, seq) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET seq = seq + 1');
  const hold = () => {
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // the read snapshot starts here
  };
  let checkpoints = 0;
  hold();
  const timer = setInterval(() => {
    if (sizeOf(`${file}-wal`) < 1000 * pageSize) return;
    db.exec('ROLLBACK');
    db.pragma('wal_checkpoint(PASSIVE)');
    // As Litestream does: a write right after its checkpoint, before it reads again, so that
    // a WAL the checkpoint copied completely starts over instead of growing.
    bump.run();
    checkpoints++;
    hold();
  }, 1000);
  return {
    stop: () => {
      clearInterval(timer);
      db.exec('ROLLBACK');
      db.close();
      return checkpoints;
    },
  };
}

interface Steady {
  run: Awaited<ReturnType<typeof concurrentRun>>;
  samples: Array<{ at: number; wal: number; db: number }>;
  t0: number;
  truncations: number;
  readerCheckpoints?: number;
}

/** A producer at 1,000 jobs/s and 2 workers on `file` for `seconds`, the file and its -wal sampled every 500 ms. */
export async function steadyRun(file: string, seconds: number, litestream: boolean): Promise<Steady> {
  const samples: Steady['samples'] = [];
  const timer = setInterval(() => samples.push({ at: clock(), wal: sizeOf(`${file}-wal`), db: sizeOf(file) }), 500);
  const t0 = clock();
  let reader: ReturnType<typeof litestreamLikeReader> | undefined;
  if (litestream) {
    (await openQueue('honker', file)).close(); // the schema, before the reader's snapshot
    reader = litestreamLikeReader(file);
  }
  const run = await concurrentRun('honker', file, seconds * 1000, 1000, PACED_PER_S, 2);
  clearInterval(timer);
  const readerCheckpoints = reader?.stop();
  const truncations = samples.filter((x, i) => i > 0 && x.wal < samples[i - 1].wal).length;
  return { run, samples, t0, truncations, readerCheckpoints };
}

async function steadyRows(s: Section, o: BenchOptions, dir: string): Promise<void> {
  const seconds = o.long ? 600 : size(o, 10, 60);
  const plain = await steadyRun(path.join(dir, 'steady.db'), seconds, false);
  const { run, samples } = plain;
  const tenth = plain.t0 + (seconds * 1000) / 10;
  const early = samples.filter((x) => x.at <= tenth);
  const maxWal = (xs: Steady['samples']) => Math.max(0, ...xs.map((x) => x.wal));
  const last = samples[samples.length - 1];
  const earlyDb = Math.max(1, ...early.map((x) => x.db));
  addRow(s, { name: `steady ${PACED_PER_S.toLocaleString('en-US')} jobs/s + 2 workers, ${seconds} s: done`, value: run.jobsPerS, unit: 'jobs/s', ratio: run.done / run.produced, baseline: `jobs produced (${run.produced.toLocaleString('en-US')}); ratio = done / produced` });
  addRow(s, { name: `  … -wal size, largest seen`, value: maxWal(samples) / MB, unit: 'MB', ratio: maxWal(samples) / Math.max(1, maxWal(early)), baseline: `largest in the first tenth (${(maxWal(early) / MB).toFixed(1)} MB)` });
  addRow(s, { name: `  … -wal size, median sample`, value: median(samples.map((x) => x.wal)) / MB, unit: 'MB' });
  addRow(s, { name: `  … database file at the end`, value: last.db / MB, unit: 'MB', ratio: last.db / earlyDb, baseline: `at the end of the first tenth (${(earlyDb / MB).toFixed(2)} MB)` });
  const ready = median(run.rss.map((r) => r.ready));
  const end = median(run.rss.map((r) => r.end));
  addRow(s, { name: `  … memory per worker process at the end (RSS)`, value: end / 1024, unit: 'MB', ratio: end / ready, baseline: `the same process once ready (${mb(ready)})` });
  addRow(s, { name: `  … enqueue → start p99`, value: run.p99, unit: 'ms' });

  // The same load next to a Litestream-like reader, 60 s at most.
  const lsSeconds = Math.min(seconds, 60);
  const ls = await steadyRun(path.join(dir, 'steady-litestream.db'), lsSeconds, true);
  addRow(s, { name: `with a Litestream-like reader, ${lsSeconds} s: -wal size, largest seen`, value: maxWal(ls.samples) / MB, unit: 'MB', ratio: maxWal(ls.samples) / Math.max(1, maxWal(samples)), baseline: `without it (${(maxWal(samples) / MB).toFixed(1)} MB)` });
  addRow(s, { name: `  … enqueue → start p50`, value: ls.run.p50, unit: 'ms', ratio: ls.run.p50 / run.p50, baseline: `without it (${run.p50.toFixed(2)} ms)` });
  addRow(s, { name: `  … enqueue → start p99`, value: ls.run.p99, unit: 'ms', ratio: ls.run.p99 / run.p99, baseline: `without it (${run.p99.toFixed(2)} ms)` });
  s.notes.push(
    `steady: the file and its -wal sampled every 500 ms (${samples.length} samples); the -wal shrank ${plain.truncations} time(s) (open()'s TRUNCATE checkpoint past 4,000 pages), ${ls.truncations} time(s) next to the reader, which took ${ls.readerCheckpoints} checkpoint(s) of its own`,
    'Litestream-like reader: a read transaction held open, released only for its own PASSIVE checkpoint once the -wal holds 1,000 pages (checked every second), followed by a write to its own _litestream_seq table before it reads again, as Litestream\'s db.go does',
  );
}

/** CPU of this process (% of one core) over about ms, with `during` called every 50 ms. */
async function cpuPct(ms: number, during?: () => void): Promise<number> {
  const before = process.cpuUsage();
  const t0 = performance.now();
  const timer = during ? setInterval(during, 50) : undefined;
  await sleep(ms);
  if (timer) clearInterval(timer);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100;
}

/**
 * One process, N files (one per tenant) in one directory, one waiting claim
 * iterator on each: idle CPU, CPU while one of the files takes 20 commits a
 * second, and memory and descriptors per file; against the same process with
 * no file open, measured first.
 */
async function tenantRows(s: Section, o: BenchOptions, dir: string): Promise<void> {
  const ms = size(o, 3000, 10_000);
  const counts = size(o, [1, 10], [1, 10, 100]);
  const fds = () => readdirSync('/proc/self/fd').length;
  const base = await cpuPct(ms);
  const baseline = `this process, no file open (${base.toFixed(2)}%)`;
  for (const n of counts) {
    const tdir = path.join(dir, `tenants-${n}`);
    mkdirSync(tdir);
    const rss0 = rssSelf().rssKb;
    const fd0 = fds();
    const ac = new AbortController();
    const dbs = Array.from({ length: n }, (_, i) => open(path.join(tdir, `tenant-${i}.db`)));
    const loops = dbs.map(async (db) => {
      try {
        for await (const job of db.queue('q').claim('w', { signal: ac.signal })) job.ack();
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      }
    });
    await sleep(1000);
    const perFileKb = (rssSelf().rssKb - rss0) / n;
    const perFileFds = (fds() - fd0) / n;
    const idle = await cpuPct(ms);
    const writer = rawDb(path.join(tdir, 'tenant-0.db'));
    writer.exec('CREATE TABLE IF NOT EXISTS t (x)');
    const insert = writer.prepare('INSERT INTO t VALUES (1)');
    const busy = await cpuPct(ms, () => void insert.run());
    writer.close();
    ac.abort();
    await Promise.all(loops);
    for (const db of dbs) db.close();
    const label = `${n} file${n > 1 ? 's' : ''}, one waiting claim iterator each`;
    addRow(s, { name: `${label}: idle CPU`, value: idle, unit: '%', ratio: idle / base, baseline });
    addRow(s, { name: `  … while one of them takes 20 commits/s`, value: busy, unit: '%', ratio: busy / base, baseline });
    addRow(s, { name: `  … memory per file (RSS)`, value: perFileKb / 1024, unit: 'MB' });
    addRow(s, { name: `  … file descriptors per file`, value: perFileFds, unit: 'fds' });
  }
  s.notes.push(`tenants: one process (under tsx, whose own idle cost is in the baseline), files in one directory, CPU from process.cpuUsage over ${ms / 1000} s windows; the commits are INSERTs into a plain table of tenant 0 from another connection of the same process`);
}

export async function scalingBench(o: BenchOptions): Promise<Section> {
  const s = section('scaling', '11. How far one file goes');
  const dir = benchDir();
  const only = (process.env.HONKER_SCALING_ONLY ?? 'drain,mixed,depth,steady,tenants').split(',');
  if (only.includes('drain')) await drainRows(s, o, dir);
  if (only.includes('mixed')) await mixedRows(s, o, dir);
  if (only.includes('depth')) depthRows(s, o, dir);
  if (only.includes('steady')) await steadyRows(s, o, dir);
  if (only.includes('tenants')) await tenantRows(s, o, dir);
  if (o.long) s.notes.push('--long: a 10-minute steady run');
  return s;
}

await standalone(import.meta.url, scalingBench);
