/**
 * What the Postgres history counters (pg/history.sql) cost the settle path:
 * two installs of pg/ on one throwaway server (fsync on), the current one
 * and another checkout's (--base <dir>: a directory holding pg/install.sql
 * and its files, e.g. `git archive <rev> pg | tar -x -C /tmp/base`), driven
 * by raw SQL in alternating rounds so the machine's load hits both alike.
 * Run: npx tsx bench/postgres-history.ts --base /tmp/base/pg [--rounds 3] [--jobs 5000] [--workers 4]
 *
 *   enqueue    one session, one honker_enqueue per transaction (what 'honker:*' costs:
 *              honker_wake notifies it besides the queue's own channel);
 *   drain      one session: claim_batch(100) + ack_batch, the drain of bench/postgres.ts;
 *   single xW  W sessions at once, each claim_batch(1) + ack, one job per
 *              transaction: where sessions settling one queue could wait on
 *              each other's counter row.
 * Prints each round and the median ratio current / base per figure.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { installScript } from '../src/postgres/install.js';
import { startPgServer } from '../test/helpers/pg-server.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

const baseDir = arg('base', '');
if (!baseDir) throw new Error('bench/postgres-history: --base <dir with pg/install.sql> is required');
const ROUNDS = Number(arg('rounds', '3'));
const JOBS = Number(arg('jobs', '5000'));
const WORKERS = Number(arg('workers', '4'));

/** install.sql of dir with its \ir files inlined (as src/postgres/install.ts does). */
function installText(dir: string): string {
  const parts: string[] = [];
  for (const line of readFileSync(path.join(dir, 'install.sql'), 'utf8').split('\n')) {
    const include = /^\\ir\s+(\S+)\s*$/.exec(line);
    if (include) parts.push(readFileSync(path.join(dir, include[1]!), 'utf8'));
    else if (line.trim() && !line.startsWith('--')) parts.push(line);
  }
  return parts.join('\n');
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

async function fill(c: pg.Client, queue: string, n: number): Promise<void> {
  await c.query("SELECT honker_enqueue($1, '{}', NULL, NULL, 0, 3, NULL) FROM generate_series(1, $2)", [queue, n]);
}

async function enqueue(url: string, queue: string): Promise<number> {
  const c = await connect(url);
  try {
    const n = Math.floor(JOBS / 10);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await c.query("SELECT honker_enqueue($1, '{}', NULL, NULL, 0, 3, NULL)", [queue]);
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await c.end();
  }
}

async function drain(url: string, queue: string): Promise<number> {
  const c = await connect(url);
  try {
    await fill(c, queue, JOBS);
    const t0 = performance.now();
    let done = 0;
    for (;;) {
      const text = (await c.query('SELECT honker_claim_batch($1, $2, 100, 30) AS v', [queue, 'bench'])).rows[0].v as string;
      const ids = (JSON.parse(text) as Array<{ id: number }>).map((j) => j.id);
      if (ids.length === 0) break;
      done += (await c.query('SELECT honker_ack_batch($1, $2) AS v', [JSON.stringify(ids), 'bench'])).rows[0].v as number;
    }
    if (done !== JOBS) throw new Error(`drained ${done} of ${JOBS}`);
    return done / ((performance.now() - t0) / 1000);
  } finally {
    await c.end();
  }
}

async function single(url: string, queue: string): Promise<number> {
  const clients = await Promise.all(Array.from({ length: WORKERS }, () => connect(url)));
  try {
    const n = Math.floor(JOBS / 5);
    await fill(clients[0]!, queue, n);
    const t0 = performance.now();
    const counts = await Promise.all(
      clients.map(async (c, w) => {
        let done = 0;
        for (;;) {
          const text = (await c.query('SELECT honker_claim_batch($1, $2, 1, 30) AS v', [queue, `w${w}`])).rows[0].v as string;
          const [job] = JSON.parse(text) as Array<{ id: number }>;
          if (!job) return done;
          done += (await c.query('SELECT honker_ack($1, $2) AS v', [job.id, `w${w}`])).rows[0].v as number;
        }
      }),
    );
    const done = counts.reduce((a, b) => a + b, 0);
    if (done !== n) throw new Error(`settled ${done} of ${n}`);
    return done / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const server = await startPgServer({ durable: true });
try {
  const urls = { base: await server.createDatabase('base'), current: await server.createDatabase('current') };
  const texts = { base: installText(baseDir), current: installScript().text };
  for (const k of ['base', 'current'] as const) {
    const c = await connect(urls[k]);
    await c.query(texts[k]);
    await c.end();
  }
  const ratios: Record<string, number[]> = { enqueue: [], drain: [], single: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    const got: Record<string, Record<string, number>> = { base: {}, current: {} };
    // Alternate which install goes first, so a trend in the machine's load favours neither.
    const order = r % 2 ? (['base', 'current'] as const) : (['current', 'base'] as const);
    for (const k of order) got[k]!.enqueue = await enqueue(urls[k], `enqueue${r}`);
    for (const k of order) got[k]!.drain = await drain(urls[k], `drain${r}`);
    for (const k of order) got[k]!.single = await single(urls[k], `single${r}`);
    for (const f of ['enqueue', 'drain', 'single']) ratios[f]!.push(got.current![f]! / got.base![f]!);
    console.log(
      `round ${r}: enqueue ${got.base!.enqueue!.toFixed(0)} -> ${got.current!.enqueue!.toFixed(0)} jobs/s; drain ${got.base!.drain!.toFixed(0)} -> ${got.current!.drain!.toFixed(0)} jobs/s; ` +
        `single x${WORKERS} ${got.base!.single!.toFixed(0)} -> ${got.current!.single!.toFixed(0)} jobs/s`,
    );
  }
  console.log(`median current/base: enqueue ${median(ratios.enqueue!).toFixed(3)}, drain ${median(ratios.drain!).toFixed(3)}, single x${WORKERS} ${median(ratios.single!).toFixed(3)}`);
} finally {
  await server.stop();
}
