/**
 * The cost of the per-minute history (ext/history.c): two builds of the
 * extension side by side in one process, the settle paths through SQL.
 *   npx tsx bench/history.ts --before <old honker_ext.node> [--after <new>] [--rounds N] [--ms MS]
 *
 * --before is a build without the history (e.g. one built from the commit
 * before it), --after defaults to build/Release/honker_ext.node. Each build
 * gets its own files (WAL, synchronous=NORMAL, raw better-sqlite3 with the
 * library loaded, as a Python or Go host would), and rounds alternate the
 * builds, so machine drift hits both; a ratio is the median of per-round
 * ratios (after / before).
 *
 * 1. WAL frames per commit, which are noise-free: after a TRUNCATE
 *    checkpoint, N single-job commits of one kind, then the -wal size /
 *    (page size + 24) / N (wal_autocheckpoint is off).
 * 2. Throughput, jobs/s: SELECT honker_enqueue 1/tx; honker_claim_batch(1)
 *    + honker_ack, 1 tx each; claim_batch(32) + ack_batch; claim(1) +
 *    honker_retry (delay 0, attempts never run out). A backlog of 20,000 jobs
 *    is topped up (untimed) before each window.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDir, checkpointOf, median, payload, rate, type Db } from './lib/measure.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const before = arg('before');
const after = arg('after', path.join(root, 'build', 'Release', 'honker_ext.node'))!;
const rounds = Number(arg('rounds', '7'));
const ms = Number(arg('ms', '800'));
if (!before) {
  console.error('usage: npx tsx bench/history.ts --before <honker_ext.node without history> [--after <lib>] [--rounds N] [--ms MS]');
  process.exit(2);
}
const dir = benchDir();
const BACKLOG = 20_000;

function openWith(lib: string, name: string): Db {
  const db = new Database(path.join(dir, name));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.loadExtension(lib);
  db.prepare('SELECT honker_bootstrap()').get();
  if (process.argv.includes('--temp-history') && lib === after) {
    // Diagnostic: the same statements, the counts in a TEMP table (no WAL frame): what the page costs.
    db.exec('DROP TABLE _honker_history; CREATE TEMP TABLE _honker_history (minute INTEGER NOT NULL, queue TEXT NOT NULL, completed INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, dead INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (minute, queue)) WITHOUT ROWID');
  }
  return db;
}

interface Subject {
  db: Db;
  enqueue: (i: number) => void;
  claimAck: () => boolean;
  batch32: () => boolean;
  claimRetry: () => boolean;
  topUp: (queue: string) => void;
}

function subject(lib: string, tag: string, kind: string): Subject {
  const db = openWith(lib, `${tag}-${kind}.db`);
  const enq = db.prepare('SELECT honker_enqueue(?, ?, NULL, NULL, 0, 1000000, NULL)').pluck();
  const claim1 = db.prepare("SELECT honker_claim_batch(?, 'w', 1, 300)").pluck();
  const claim32 = db.prepare("SELECT honker_claim_batch(?, 'w', 32, 300)").pluck();
  const ack = db.prepare("SELECT honker_ack(?, 'w')").pluck();
  const ackBatch = db.prepare("SELECT honker_ack_batch(?, 'w')").pluck();
  const retry = db.prepare("SELECT honker_retry(?, 'w', 0, 'boom')").pluck();
  const pending = db.prepare("SELECT json_extract(honker_queue_stats(?), '$.pending')").pluck();
  const fill = db.transaction((queue: string, n: number) => {
    for (let k = 0; k < n; k++) enq.get(queue, JSON.stringify(payload(k)));
  });
  const ids = (text: string): number[] => (JSON.parse(text) as Array<{ id: number }>).map((r) => r.id);
  return {
    db,
    enqueue: (i) => void enq.get('e', JSON.stringify(payload(i))),
    claimAck: () => {
      const [id] = ids(claim1.get('c') as string);
      return id !== undefined && ack.get(id) === 1;
    },
    batch32: () => {
      const got = ids(claim32.get('b') as string);
      return got.length > 0 && ackBatch.get(JSON.stringify(got)) === got.length;
    },
    claimRetry: () => {
      const [id] = ids(claim1.get('r') as string);
      return id !== undefined && retry.get(id) === 1;
    },
    topUp: (queue) => void fill(queue, Math.max(0, BACKLOG - (pending.get(queue) as number))),
  };
}

/** WAL frames per commit of `commit`, run n times on s's file from a truncated WAL. */
function framesPerCommit(s: Subject, commit: () => unknown, n: number): number {
  s.db.pragma('wal_autocheckpoint = 0');
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = s.db.pragma('page_size', { simple: true }) as number;
  for (let k = 0; k < n; k++) commit();
  const walBytes = statSync(`${s.db.name}-wal`).size;
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  s.db.pragma('wal_autocheckpoint = 1000');
  return (walBytes - 32) / (pageSize + 24) / n;
}

const libs = { before, after } as const;
type Tag = keyof typeof libs;
const cases = ['enqueue', 'claimAck', 'batch32', 'claimRetry'] as const;
type Case = (typeof cases)[number];
const subjects = Object.fromEntries(
  (Object.keys(libs) as Tag[]).map((tag) => [tag, Object.fromEntries(cases.map((c) => [c, subject(libs[tag], tag, c)]))]),
) as Record<Tag, Record<Case, Subject>>;

// 1. WAL frames per commit (single-job commits; the batch case per batch of 32).
const N = 200;
console.log(`WAL frames per commit (${N} commits each, from a truncated WAL)`);
for (const tag of Object.keys(libs) as Tag[]) {
  const s = subjects[tag];
  s.claimAck.topUp('c');
  s.batch32.topUp('b');
  s.claimRetry.topUp('r');
  let i = 0;
  const enq = framesPerCommit(s.enqueue, () => s.enqueue.enqueue(i++), N);
  // claim and ack are two commits each: frames of the pair / 2 is per commit; report per job.
  const ca = framesPerCommit(s.claimAck, () => s.claimAck.claimAck(), N) * 1;
  const b32 = framesPerCommit(s.batch32, () => s.batch32.batch32(), N / 10);
  const cr = framesPerCommit(s.claimRetry, () => s.claimRetry.claimRetry(), N);
  console.log(`  ${tag.padEnd(6)} enqueue ${enq.toFixed(2)}  claim+ack (2 commits) ${ca.toFixed(2)}  claim32+ack_batch (2 commits) ${b32.toFixed(2)}  claim+retry (2 commits) ${cr.toFixed(2)}`);
}

// 2. Throughput, alternating builds round by round.
const results = Object.fromEntries(
  (Object.keys(libs) as Tag[]).map((tag) => [tag, Object.fromEntries(cases.map((c) => [c, [] as number[]]))]),
) as Record<Tag, Record<Case, number[]>>;
const per: Record<Case, number> = { enqueue: 1, claimAck: 1, batch32: 32, claimRetry: 1 };
let i = 0;
for (let r = 0; r < rounds; r++) {
  for (const c of cases) {
    const order: Tag[] = r % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
    for (const tag of order) {
      const s = subjects[tag][c];
      if (c !== 'enqueue') s.topUp(c === 'claimAck' ? 'c' : c === 'batch32' ? 'b' : 'r');
      const op = c === 'enqueue' ? () => s.enqueue(i++) : c === 'claimAck' ? s.claimAck : c === 'batch32' ? s.batch32 : s.claimRetry;
      results[tag][c].push(await rate(op, ms, per[c], checkpointOf(s.db)));
    }
  }
}
console.log(`\nThroughput, jobs/s (median of ${rounds} alternating rounds of ${ms} ms; ratio = median of per-round after/before)`);
for (const c of cases) {
  const b = results.before[c];
  const a = results.after[c];
  const ratio = median(a.map((x, k) => x / b[k]));
  console.log(`  ${c.padEnd(10)} before ${Math.round(median(b)).toLocaleString('en-US').padStart(7)}  after ${Math.round(median(a)).toLocaleString('en-US').padStart(7)}  ratio ${ratio.toFixed(3)}`);
}
for (const tag of Object.keys(libs) as Tag[]) for (const c of cases) subjects[tag][c].db.close();
