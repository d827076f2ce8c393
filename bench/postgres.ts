/**
 * honker on Postgres next to pg-boss 12, on the same throwaway server in the
 * same run (test/helpers/pg-server.ts, fsync and synchronous_commit on).
 * Run: npx tsx bench/postgres.ts [--quick] [--no-fsync]   (needs PostgreSQL: apt-get install postgresql-15)
 * --no-fsync turns fsync and synchronous_commit off, to compare CPU rather than the disk.
 *
 *   enqueue  one job per transaction, one after another from one process
 *            (honker: await queue.enqueue(); pg-boss: await boss.send()); jobs/s.
 *   drain    a backlog inserted in bulk, then claimed and acked by one loop in
 *            batches of 100 (honker: claimBatch + ackBatch; pg-boss: fetch +
 *            complete, its fastest settings); jobs/s.
 *   wake     a worker in another process waits; this process enqueues one job
 *            at a time (a random 20–60 ms apart) stamped with
 *            performance.timeOrigin + performance.now() (a clock shared across
 *            processes); a sample is the handler's start minus the stamp
 *            (honker: queue.claim() woken by LISTEN; pg-boss: work() on a queue
 *            created with notify: true, its LISTEN/NOTIFY mode); p50 and p99.
 * Prints a table and each figure's ratio honker / pg-boss (for wake, pg-boss
 * / honker: higher is better for honker throughout).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PgBoss } from 'pg-boss';
import { openPostgres } from '../src/postgres/index.js';
import { startPgServer } from '../test/helpers/pg-server.js';

const stamp = () => performance.timeOrigin + performance.now();
const quick = process.argv.includes('--quick');
const durable = !process.argv.includes('--no-fsync');
const N_ENQUEUE = quick ? 500 : 2000;
const N_DRAIN = quick ? 5000 : 20000;
const N_WAKE = quick ? 60 : 200;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

// --- the child: a worker that prints each job's wake latency -----------------------------

async function child(kind: string, url: string, queue: string): Promise<void> {
  const print = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  const ac = new AbortController();
  process.stdin.on('end', () => ac.abort());
  process.stdin.resume();
  if (kind === 'honker') {
    const db = await openPostgres(url);
    const q = db.queue<{ t: number }>(queue);
    const it = q.claim('bench-child', { signal: ac.signal });
    print({ ready: true });
    for await (const job of it) {
      print({ ms: stamp() - job.payload.t });
      await job.ack();
    }
    await db.close();
  } else {
    const boss = new PgBoss({ connectionString: url, schedule: false, supervise: false, useListenNotify: true });
    boss.on('error', (err) => process.stderr.write(`pg-boss: ${err.message}\n`));
    await boss.start();
    await boss.work<{ t: number }>(queue, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
      print({ ms: stamp() - job!.data.t });
    });
    print({ ready: true });
    await new Promise((r) => ac.signal.addEventListener('abort', r));
    await boss.stop({ graceful: false });
  }
  process.exit(0);
}

// --- the parent -------------------------------------------------------------------------

async function wake(kind: 'honker' | 'pg-boss', url: string, send: (t: number) => Promise<unknown>, queue: string): Promise<number[]> {
  const me = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, ['--import=tsx', me, '--child', kind, url, queue], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const samples: number[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  let got!: () => void;
  let next = new Promise<void>((r) => (got = r));
  lines.on('line', (line) => {
    const o = JSON.parse(line) as { ready?: boolean; ms?: number };
    if (o.ready) ready();
    if (o.ms !== undefined) {
      samples.push(o.ms);
      got();
    }
  });
  await isReady;
  await new Promise((r) => setTimeout(r, 500)); // its LISTEN is established
  for (let i = 0; i < N_WAKE; i++) {
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 40));
    const waiting = next;
    await send(stamp());
    await Promise.race([waiting, new Promise((_, rej) => setTimeout(() => rej(new Error(`${kind}: job ${i} not seen in 10 s`)), 10_000))]);
    next = new Promise<void>((r) => (got = r));
  }
  proc.stdin!.end();
  await new Promise((r) => proc.once('exit', r));
  return samples;
}

async function benchHonker(url: string) {
  const db = await openPostgres(url);
  const q = db.queue('enq');
  let t0 = performance.now();
  for (let i = 0; i < N_ENQUEUE; i++) await q.enqueue({ i });
  const enqueue = N_ENQUEUE / ((performance.now() - t0) / 1000);

  await db.pool.query("SELECT honker_enqueue('drain', '{}', NULL, NULL, 0, 3, NULL) FROM generate_series(1, $1)", [N_DRAIN]);
  const d = db.queue('drain');
  t0 = performance.now();
  let done = 0;
  for (;;) {
    const jobs = await d.claimBatch('bench', 100);
    if (jobs.length === 0) break;
    done += await d.ackBatch(jobs.map((j) => j.id), 'bench');
  }
  const drain = done / ((performance.now() - t0) / 1000);
  if (done !== N_DRAIN) throw new Error(`honker drained ${done} of ${N_DRAIN}`);

  const w = db.queue('wake');
  const samples = await wake('honker', url, (t) => w.enqueue({ t }), 'wake');
  await db.close();
  return { enqueue, drain, samples };
}

async function benchPgBoss(url: string) {
  const boss = new PgBoss({ connectionString: url, schedule: false, supervise: false, useListenNotify: true });
  boss.on('error', (err) => process.stderr.write(`pg-boss: ${err.message}\n`));
  await boss.start();
  for (const name of ['enq', 'drain']) await boss.createQueue(name);
  await boss.createQueue('wake', { notify: true } as never);
  let t0 = performance.now();
  for (let i = 0; i < N_ENQUEUE; i++) await boss.send('enq', { i });
  const enqueue = N_ENQUEUE / ((performance.now() - t0) / 1000);

  for (let i = 0; i < N_DRAIN; i += 1000) await boss.insert('drain', Array.from({ length: Math.min(1000, N_DRAIN - i) }, () => ({ data: {} })));
  t0 = performance.now();
  let done = 0;
  for (;;) {
    const jobs = await boss.fetch('drain', { batchSize: 100 });
    if (jobs.length === 0) break;
    await boss.complete('drain', jobs.map((j) => j.id));
    done += jobs.length;
  }
  const drain = done / ((performance.now() - t0) / 1000);
  if (done !== N_DRAIN) throw new Error(`pg-boss drained ${done} of ${N_DRAIN}`);

  const samples = await wake('pg-boss', url, (t) => boss.send('wake', { t }), 'wake');
  await boss.stop({ graceful: false });
  return { enqueue, drain, samples };
}

async function main(): Promise<void> {
  const server = await startPgServer({ durable });
  try {
    const h = await benchHonker(await server.createDatabase('honker'));
    const b = await benchPgBoss(await server.createDatabase('pgboss'));
    const row = (name: string, hv: number, bv: number, unit: string, higherBetter: boolean) =>
      console.log(
        `${name.padEnd(14)} ${hv.toFixed(unit === 'ms' ? 2 : 0).padStart(9)} ${bv.toFixed(unit === 'ms' ? 2 : 0).padStart(9)}  ${unit.padEnd(7)} ${(higherBetter ? hv / bv : bv / hv).toFixed(1)}x`,
      );
    console.log(`PostgreSQL on port ${server.port} (fsync ${durable ? 'on' : 'off'}), ${N_ENQUEUE} enqueues, ${N_DRAIN} drained, ${N_WAKE} wakes`);
    console.log(`${'figure'.padEnd(14)} ${'honker'.padStart(9)} ${'pg-boss'.padStart(9)}  ${'unit'.padEnd(7)} honker's edge`);
    row('enqueue', h.enqueue, b.enqueue, 'jobs/s', true);
    row('drain', h.drain, b.drain, 'jobs/s', true);
    row('wake p50', percentile(h.samples, 50), percentile(b.samples, 50), 'ms', false);
    row('wake p99', percentile(h.samples, 99), percentile(b.samples, 99), 'ms', false);
  } finally {
    await server.stop();
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
else await main();
