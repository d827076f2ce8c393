/**
 * honker on Postgres next to pg-boss 12 and a raw SQL queue, on one
 * throwaway server (test/helpers/pg-server.ts, fsync and synchronous_commit
 * on) in the same run.
 * Run: npx tsx bench/postgres.ts [--quick] [--rounds N] [--no-fsync]
 *      (needs PostgreSQL: apt-get install postgresql-15)
 * --no-fsync turns fsync and synchronous_commit off, to compare CPU rather than the disk.
 *
 * Three contenders, each in a fresh database per figure and round; rounds
 * rotate who goes first (bench/lib/measure.ts interleaved), and each ratio is
 * the median over rounds of the two figures measured back to back:
 *   honker   the client (src/postgres): queue.enqueue, claimBatch + ackBatch,
 *            the claim() iterator woken by LISTEN;
 *   pg-boss  12: send, fetch + complete (its fastest settings), work() on a
 *            queue created with notify: true and useListenNotify;
 *   raw      the least a durable Postgres queue can do, for scale: one table
 *            (id bigserial, payload, claimed) with a partial index of the
 *            unclaimed ids; enqueue = INSERT + pg_notify in one statement;
 *            claim = UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
 *            RETURNING; ack = DELETE; a waiter LISTENs and claims on a
 *            second connection. No validation, no retries, no JSON.
 * Figures:
 *   enqueue  one job per transaction, one after another from one process; jobs/s.
 *   drain    a backlog inserted in bulk, then claimed and acked by one loop
 *            in batches of 100; jobs/s.
 *   wake     a worker in another process waits; this process enqueues one
 *            job at a time (a random 20–60 ms apart) stamped with
 *            performance.timeOrigin + performance.now() (a clock shared
 *            across processes); a sample is the handler's start minus the
 *            stamp; p50 and p99 per round.
 * Ratios are honker's edge: throughput honker / other, latency other / honker.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { openPostgres } from '../src/postgres/index.js';
import { startPgServer, type PgServer } from '../test/helpers/pg-server.js';
import { clock, interleaved, median, medianRatio, pct, sleep } from './lib/measure.js';

const quick = process.argv.includes('--quick');
const durable = !process.argv.includes('--no-fsync');
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : quick ? 2 : 3;
const N_ENQUEUE = quick ? 500 : 2000;
const N_DRAIN = quick ? 5000 : 20000;
const N_WAKE = quick ? 40 : 100;
const WARMUP = 50;

type Kind = 'honker' | 'pg-boss' | 'raw';
const KINDS: Kind[] = ['honker', 'pg-boss', 'raw'];

/** One contender: a connection to one database, and the three operations the figures time. */
interface Contender {
  /** Add one job ({ t } for the wake figure), in a transaction of its own. */
  send(payload: { t?: number; i?: number }): Promise<unknown>;
  /** Put n jobs on the drain queue in bulk (not timed). */
  fill(n: number): Promise<void>;
  /** Claim up to 100 drain jobs and ack them; resolves with how many. */
  drainBatch(): Promise<number>;
  close(): Promise<void>;
}

const RAW_SCHEMA = `CREATE TABLE IF NOT EXISTS raw_jobs (id bigserial PRIMARY KEY, queue text NOT NULL, payload text NOT NULL,
  claimed boolean NOT NULL DEFAULT false);
  CREATE INDEX IF NOT EXISTS raw_jobs_unclaimed ON raw_jobs (queue, id) WHERE NOT claimed`;
const RAW_SEND = "WITH j AS (INSERT INTO raw_jobs (queue, payload) VALUES ($1, $2) RETURNING id) SELECT id, pg_notify('raw_' || $1, '') FROM j";
const RAW_CLAIM = `UPDATE raw_jobs SET claimed = true WHERE id IN (SELECT id FROM raw_jobs WHERE queue = $1 AND NOT claimed
  ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id, payload`;

async function contender(kind: Kind, url: string, queue: string): Promise<Contender> {
  if (kind === 'honker') {
    const db = await openPostgres(url);
    const q = db.queue(queue);
    const d = db.queue('drain');
    return {
      send: (p) => q.enqueue(p),
      fill: async (n) => void (await db.pool.query("SELECT honker_enqueue('drain', '{}', NULL, NULL, 0, 3, NULL) FROM generate_series(1, $1)", [n])),
      drainBatch: async () => {
        const jobs = await d.claimBatch('bench', 100);
        return jobs.length === 0 ? 0 : d.ackBatch(jobs.map((j) => j.id), 'bench');
      },
      close: () => db.close(),
    };
  }
  if (kind === 'pg-boss') {
    const boss = new PgBoss({ connectionString: url, schedule: false, supervise: false, useListenNotify: true });
    boss.on('error', (err) => process.stderr.write(`pg-boss: ${err.message}\n`));
    await boss.start();
    await boss.createQueue(queue, { notify: true } as never);
    await boss.createQueue('drain');
    return {
      send: (p) => boss.send(queue, p),
      fill: async (n) => {
        for (let i = 0; i < n; i += 1000) await boss.insert('drain', Array.from({ length: Math.min(1000, n - i) }, () => ({ data: {} })));
      },
      drainBatch: async () => {
        const jobs = await boss.fetch('drain', { batchSize: 100 });
        if (jobs.length > 0) await boss.complete('drain', jobs.map((j) => j.id));
        return jobs.length;
      },
      close: () => boss.stop({ graceful: false }),
    };
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(RAW_SCHEMA);
  return {
    send: (p) => c.query(RAW_SEND, [queue, JSON.stringify(p)]),
    fill: async (n) => void (await c.query("INSERT INTO raw_jobs (queue, payload) SELECT 'drain', '{}' FROM generate_series(1, $1)", [n])),
    drainBatch: async () => {
      const r = await c.query(RAW_CLAIM, ['drain', 100]);
      if (r.rows.length > 0) await c.query('DELETE FROM raw_jobs WHERE id = ANY($1)', [r.rows.map((row: { id: string }) => row.id)]);
      return r.rows.length;
    },
    close: () => c.end(),
  };
}

// --- the child: a worker that prints each job's wake latency -----------------------------

async function child(kind: Kind, url: string, queue: string): Promise<void> {
  const print = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  const ac = new AbortController();
  process.stdin.on('end', () => ac.abort());
  process.stdin.resume();
  if (kind === 'honker') {
    const db = await openPostgres(url);
    const it = db.queue<{ t: number }>(queue).claim('bench-child', { signal: ac.signal });
    print({ ready: true });
    for await (const job of it) {
      print({ ms: clock() - job.payload.t });
      await job.ack();
    }
    await db.close();
  } else if (kind === 'pg-boss') {
    const boss = new PgBoss({ connectionString: url, schedule: false, supervise: false, useListenNotify: true });
    boss.on('error', (err) => process.stderr.write(`pg-boss: ${err.message}\n`));
    await boss.start();
    await boss.work<{ t: number }>(queue, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
      print({ ms: clock() - job!.data.t });
    });
    print({ ready: true });
    await new Promise((r) => ac.signal.addEventListener('abort', r));
    await boss.stop({ graceful: false });
  } else {
    const listener = new pg.Client({ connectionString: url });
    const worker = new pg.Client({ connectionString: url });
    await Promise.all([listener.connect(), worker.connect()]);
    await worker.query(RAW_SCHEMA);
    let running: Promise<void> | undefined;
    let again = false;
    const drain = async (): Promise<void> => {
      do {
        again = false;
        for (;;) {
          const r = await worker.query(RAW_CLAIM, [queue, 1]);
          if (r.rows.length === 0) break;
          const row = r.rows[0] as { id: string; payload: string };
          print({ ms: clock() - (JSON.parse(row.payload) as { t: number }).t });
          await worker.query('DELETE FROM raw_jobs WHERE id = $1', [row.id]);
        }
      } while (again);
      running = undefined;
    };
    listener.on('notification', () => {
      if (running) again = true;
      else running = drain();
    });
    await listener.query(`LISTEN "raw_${queue}"`);
    print({ ready: true });
    await new Promise((r) => ac.signal.addEventListener('abort', r));
    await running;
    await Promise.all([listener.end(), worker.end()]);
  }
  process.exit(0);
}

// --- the parent: one figure of one contender in a fresh database ---------------------------

async function enqueueRate(kind: Kind, server: PgServer): Promise<number> {
  const c = await contender(kind, await server.createDatabase(), 'enq');
  try {
    for (let i = 0; i < WARMUP; i++) await c.send({ i });
    const t0 = performance.now();
    for (let i = 0; i < N_ENQUEUE; i++) await c.send({ i });
    return N_ENQUEUE / ((performance.now() - t0) / 1000);
  } finally {
    await c.close();
  }
}

async function drainRate(kind: Kind, server: PgServer): Promise<number> {
  const c = await contender(kind, await server.createDatabase(), 'enq');
  try {
    await c.fill(N_DRAIN);
    const t0 = performance.now();
    let done = 0;
    for (let n = await c.drainBatch(); n > 0; n = await c.drainBatch()) done += n;
    if (done !== N_DRAIN) throw new Error(`${kind} drained ${done} of ${N_DRAIN}`);
    return done / ((performance.now() - t0) / 1000);
  } finally {
    await c.close();
  }
}

async function wakeSamples(kind: Kind, server: PgServer): Promise<number[]> {
  const url = await server.createDatabase();
  const c = await contender(kind, url, 'wake');
  const me = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, ['--import=tsx', me, '--child', kind, url, 'wake'], { stdio: ['pipe', 'pipe', 'inherit'] });
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
  try {
    await isReady;
    await sleep(500); // its LISTEN is established
    for (let i = 0; i < N_WAKE; i++) {
      await sleep(20 + Math.random() * 40);
      const waiting = next;
      await c.send({ t: clock() });
      await Promise.race([waiting, sleep(10_000).then(() => Promise.reject(new Error(`${kind}: job ${i} not seen in 10 s`)))]);
      next = new Promise<void>((r) => (got = r));
    }
  } finally {
    proc.stdin!.end();
    await new Promise((r) => proc.once('exit', r));
    await c.close();
  }
  return samples;
}

// --- the report ------------------------------------------------------------------------------

type PerKind = Record<Kind, number[]>;

async function main(): Promise<void> {
  const server = await startPgServer({ durable });
  try {
    const per = <T>(f: (kind: Kind) => Promise<T>) => Object.fromEntries(KINDS.map((k) => [k, () => f(k)])) as Record<Kind, () => Promise<T>>;
    const enqueue = await interleaved(ROUNDS, per((k) => enqueueRate(k, server)));
    const drain = await interleaved(ROUNDS, per((k) => drainRate(k, server)));
    const wakes: Record<Kind, number[][]> = { honker: [], 'pg-boss': [], raw: [] };
    await interleaved(
      ROUNDS,
      per(async (k) => {
        wakes[k].push(await wakeSamples(k, server));
        return 0;
      }),
    );
    const p = (q: number): PerKind => Object.fromEntries(KINDS.map((k) => [k, wakes[k].map((s) => pct(s, q))])) as PerKind;
    const wake50 = p(50);
    const wake99 = p(99);

    console.log(`PostgreSQL on port ${server.port} (fsync ${durable ? 'on' : 'off'}), ${ROUNDS} rounds of ${N_ENQUEUE} enqueues, ${N_DRAIN} drained, ${N_WAKE} wakes`);
    console.log(`${'figure'.padEnd(10)} ${'honker'.padStart(9)} ${'pg-boss'.padStart(9)} ${'raw'.padStart(9)}  ${'unit'.padEnd(7)} ${'vs pg-boss'.padStart(10)} ${'vs raw'.padStart(7)}   per round vs pg-boss`);
    const row = (name: string, v: PerKind, unit: string, higherBetter: boolean) => {
      const edge = (other: Kind) => (higherBetter ? medianRatio(v.honker, v[other]) : medianRatio(v[other], v.honker));
      const rounds = v.honker.map((h, i) => (higherBetter ? h / v['pg-boss'][i]! : v['pg-boss'][i]! / h).toFixed(2)).join(' ');
      const fmt = (x: number) => x.toFixed(unit === 'ms' ? 2 : 0).padStart(9);
      console.log(
        `${name.padEnd(10)} ${fmt(median(v.honker))} ${fmt(median(v['pg-boss']))} ${fmt(median(v.raw))}  ${unit.padEnd(7)} ${(edge('pg-boss').toFixed(2) + 'x').padStart(10)} ${(edge('raw').toFixed(2) + 'x').padStart(7)}   ${rounds}`,
      );
    };
    row('enqueue', enqueue, 'jobs/s', true);
    row('drain', drain, 'jobs/s', true);
    row('wake p50', wake50, 'ms', false);
    row('wake p99', wake99, 'ms', false);
  } finally {
    await server.stop();
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Kind, process.argv[4]!, process.argv[5]!);
else await main();
