/**
 * Scenario 10 — pages written per commit (WAL frames), and the enqueue and
 * claim + ack rates they explain (issue 16).
 *   npx tsx bench/frames.ts [--quick]
 *
 * 1. WAL frames per commit, a figure with no noise: on a file whose WAL was
 *    just truncated (wal_autocheckpoint off), N commits of one kind, then the
 *    -wal size / (page size + 24) / N. One frame is one page a commit wrote
 *    (a page written twice in one commit is one frame). Each subject starts
 *    from 2,000 jobs of another queue, so its inserts land inside a b-tree
 *    as in an application and page splits are counted in their share.
 *    Subjects: a raw rowid table, the same with AUTOINCREMENT, and with one
 *    index too (the floor of a format that keeps AUTOINCREMENT and one index
 *    of pending rows); honker 0.4's real extension (its bootstrap, its
 *    honker_enqueue/claim_batch/ack) when ../shared/ref/honker-0.4 exists;
 *    ours through SQL; the naive raw queue of claim.ts.
 * 2. Rates, interleaved rounds, each case's median of per-round ratios:
 *    SELECT honker_enqueue 1/tx, ours / honker 0.4's extension on identical
 *    calls and ours / a raw single-row INSERT; honker_claim_batch(1) +
 *    honker_ack, ours / the naive raw queue (one job per transaction each).
 * 3. The same three as CPU time per operation (process.cpuUsage over a fixed
 *    number of calls), which a shared machine disturbs far less than wall
 *    time; ratio = the baseline's CPU per call / ours, so >= 1.5 reads as
 *    "1.5x the rate" as in part 2. Also, to say where an enqueue's CPU
 *    goes: the floor of part 1 (AUTOINCREMENT + one index) and a plain
 *    INSERT into honker's own table (its columns and partial indexes, no
 *    function, no signal); ours without the commit signal
 *    (ext/commit_signal.c: SQLite's hook put back), what touching <db>-wake
 *    costs a writer; and the client (queue.enqueue, 1 and 100 jobs a
 *    transaction) next to the SQL path (issue 16: within 10%).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from '../src/index.js';
import { benchDir, checkpointOf, honkerDb, interleaved, median, medianRatio, payload, rate, rawDb, type Db } from './lib/measure.js';
import { size, standalone, type BenchOptions } from './lib/options.js';
import { naiveQueue } from './lib/reference-queues.js';
import { addRow, section, type Section } from './lib/report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** honker 0.4's real extension (test/helpers/honker04.ts), when this machine has it. */
const HONKER04_LIB = path.resolve(root, '..', 'shared', 'ref', 'honker-0.4', 'libhonker_ext.so');
const WARM = 2_000;

/** WAL frames per commit of `commit`, run n times from a truncated WAL. */
function framesPerCommit(db: Db, n: number, commit: (i: number) => unknown): number {
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  for (let i = 0; i < n; i++) commit(i);
  const walBytes = statSync(`${db.name}-wal`).size;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('wal_autocheckpoint = 1000');
  return Math.max(0, walBytes - 32) / (pageSize + 24) / n;
}

const text = (i: number): string => JSON.stringify(payload(i));

/** SQL enqueue / claim / ack of one honker library on db (queue q, worker w). */
function sqlQueue(db: Db) {
  const enq = db.prepare("SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)").pluck();
  const claim = db.prepare("SELECT honker_claim_batch('q', 'w', 1, 300)").pluck();
  const ack = db.prepare("SELECT honker_ack(?, 'w')").pluck();
  const many = db.transaction((base: number) => {
    for (let k = 0; k < 100; k++) enq.get('q', text(base + k));
  });
  const claimOne = (): number | undefined => (JSON.parse(claim.get() as string) as { id: number }[])[0]?.id;
  for (let i = 0; i < WARM; i++) enq.get('warm', text(i));
  return {
    enqueue: (i: number) => void enq.get('q', text(i)),
    enqueue100: (base: number) => void many(base),
    claimOne,
    ack: (id: number) => ack.get(BigInt(id)) === 1,
    claimAck: () => {
      const id = claimOne();
      return id !== undefined && ack.get(BigInt(id)) === 1;
    },
  };
}

export async function framesBench(o: BenchOptions): Promise<Section> {
  const s = section('frames', '10. Pages written per commit (WAL frames) and the rates they explain');
  const dir = benchDir();
  const N = size(o, 300, 1000);

  // 1. Frames per commit.
  const frames = (name: string, value: number, baseline?: string, ratio?: number, target?: number) =>
    addRow(s, { name, value, unit: 'frames', baseline, ratio, ...(target !== undefined ? { target: { of: 'value', op: '<=', bound: target } as const } : {}) });
  const rawFloor = (ddl: string, file: string) => {
    const db = rawDb(path.join(dir, file));
    db.exec(ddl);
    const ins = db.prepare("INSERT INTO t (queue, payload, run_at) VALUES (?, ?, unixepoch())");
    for (let i = 0; i < WARM; i++) ins.run('warm', text(i));
    const many = db.transaction((b: number) => {
      for (let k = 0; k < 100; k++) ins.run('q', text(b + k));
    });
    const one = framesPerCommit(db, N, (i) => ins.run('q', text(i)));
    const hundred = framesPerCommit(db, N / 10, (i) => many(i * 100)) / 100;
    db.close();
    return { one, hundred };
  };
  const cols = 'queue TEXT NOT NULL, payload TEXT NOT NULL, run_at INTEGER NOT NULL';
  const raw = rawFloor(`CREATE TABLE t (id INTEGER PRIMARY KEY, ${cols})`, 'raw.db');
  const rawAuto = rawFloor(`CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, ${cols})`, 'raw-auto.db');
  const rawIdx = rawFloor(`CREATE TABLE t (id INTEGER PRIMARY KEY, ${cols}); CREATE INDEX t_ready ON t (queue, run_at, id)`, 'raw-idx.db');
  const rawAutoIdx = rawFloor(
    `CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, ${cols}); CREATE INDEX t_ready ON t (queue, run_at, id)`,
    'raw-auto-idx.db',
  );

  const oursDb = honkerDb(path.join(dir, 'ours-frames.db'));
  const ours = sqlQueue(oursDb);
  const o1 = framesPerCommit(oursDb, N, ours.enqueue);
  const o100 = framesPerCommit(oursDb, N / 10, (i) => ours.enqueue100(i * 100)) / 100;
  const ids: number[] = [];
  const oClaim = framesPerCommit(oursDb, N, () => ids.push(ours.claimOne()!));
  const oAck = framesPerCommit(oursDb, N, (i) => ours.ack(ids[i]!));
  const oPair = framesPerCommit(oursDb, N, () => ours.claimAck());
  oursDb.close();

  const has04 = existsSync(HONKER04_LIB);
  let h1 = NaN, h100 = NaN, hPair = NaN;
  if (has04) {
    const h04Db = honkerDb(path.join(dir, 'h04-frames.db'), HONKER04_LIB);
    const h04 = sqlQueue(h04Db);
    h1 = framesPerCommit(h04Db, N, h04.enqueue);
    h100 = framesPerCommit(h04Db, N / 10, (i) => h04.enqueue100(i * 100)) / 100;
    hPair = framesPerCommit(h04Db, N, () => h04.claimAck());
    h04Db.close();
  }

  const naiveDb = rawDb(path.join(dir, 'naive-frames.db'));
  const naive = naiveQueue(naiveDb, 300);
  for (let i = 0; i < 2 * N + WARM; i++) naive.enqueue(text(i));
  const nPair = framesPerCommit(naiveDb, N, () => {
    const job = naive.claim();
    return job !== undefined && naive.ack(job.id);
  });
  naiveDb.close();

  const per = (x: number) => `${x.toFixed(2)}`;
  frames('raw rowid table, INSERT 1/tx', raw.one);
  frames('raw table with AUTOINCREMENT, 1/tx', rawAuto.one);
  frames('raw rowid table + one index (no AUTOINCREMENT), 1/tx', rawIdx.one);
  frames('raw AUTOINCREMENT + one index, 1/tx (the floor of this format)', rawAutoIdx.one);
  if (has04) frames("honker 0.4's extension, honker_enqueue 1/tx", h1);
  frames('SELECT honker_enqueue, 1/tx', o1, has04 ? `honker 0.4 (${per(h1)})` : undefined, has04 ? o1 / h1 : undefined, 3);
  frames('raw rowid table, per job at 100/tx', raw.hundred);
  frames('raw rowid table + one index, per job at 100/tx', rawIdx.hundred);
  frames('raw AUTOINCREMENT + one index, per job at 100/tx', rawAutoIdx.hundred);
  if (has04) frames("honker 0.4's extension, per job at 100/tx", h100);
  frames('SELECT honker_enqueue, per job at 100/tx', o100, has04 ? `honker 0.4 (${h100.toFixed(3)})` : undefined, has04 ? o100 / h100 : undefined, 0.1);
  frames('honker_claim_batch(…, 1, …), one commit', oClaim);
  frames('honker_ack, one commit (with its history row)', oAck);
  frames('claim + ack, per job (2 commits)', oPair, `naive raw queue (${per(nPair)})`, oPair / nPair);
  if (has04) frames("honker 0.4's extension, claim + ack per job", hPair);

  // 2. Rates in the same run.
  const ms = size(o, 300, 1000);
  const rounds = size(o, 3, 5);
  const rawIns = rawDb(path.join(dir, 'raw-rate.db'));
  rawIns.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, ${cols})`);
  const rawOne = rawIns.prepare("INSERT INTO t (queue, payload, run_at) VALUES ('q', ?, unixepoch())");
  const oursRateDb = honkerDb(path.join(dir, 'ours-rate.db'));
  const oursRate = sqlQueue(oursRateDb);
  // The same without the commit signal (ext/commit_signal.c): SQLite's own auto-checkpoint hook
  // put back, so no <db>-wake is touched; what the signal costs a writer.
  const quietDb = honkerDb(path.join(dir, 'ours-quiet.db'));
  quietDb.pragma('wal_autocheckpoint = 1000');
  const quiet = sqlQueue(quietDb);
  const h04RateDb = has04 ? honkerDb(path.join(dir, 'h04-rate.db'), HONKER04_LIB) : undefined;
  const h04Rate = h04RateDb ? sqlQueue(h04RateDb) : undefined;
  const claimDb = honkerDb(path.join(dir, 'ours-claim.db'));
  const claimQ = sqlQueue(claimDb);
  const naiveRateDb = rawDb(path.join(dir, 'naive-rate.db'));
  const naiveRate = naiveQueue(naiveRateDb, 300);
  // both claim subjects start each window with the same backlog
  const BACKLOG = size(o, 20_000, 50_000);
  const topUp = () => {
    const have = (claimDb.prepare("SELECT count(*) FROM _honker_live WHERE queue = 'q' AND state = 'pending'").pluck().get() as number);
    claimDb.transaction(() => {
      for (let k = have; k < BACKLOG; k++) claimQ.enqueue(k);
    })();
    const haveN = naiveRateDb.prepare("SELECT count(*) FROM jobs WHERE state = 'pending'").pluck().get() as number;
    naiveRateDb.transaction(() => {
      for (let k = haveN; k < BACKLOG; k++) naiveRate.enqueue(text(k));
    })();
  };
  let i = 0;
  const cases: Record<string, () => Promise<number>> = {
    raw1: () => rate(() => void rawOne.run(text(i++)), ms, 1, checkpointOf(rawIns)),
    ours1: () => rate(() => oursRate.enqueue(i++), ms, 1, checkpointOf(oursRateDb)),
    oursCa: () => (topUp(), rate(() => claimQ.claimAck(), ms, 1, checkpointOf(claimDb))),
    naiveCa: () => (topUp(), rate(() => {
      const job = naiveRate.claim();
      return job !== undefined && naiveRate.ack(job.id);
    }, ms, 1, checkpointOf(naiveRateDb))),
  };
  if (h04Rate && h04RateDb) cases.h04x1 = () => rate(() => h04Rate.enqueue(i++), ms, 1, checkpointOf(h04RateDb));
  const r = await interleaved(rounds, cases);
  const med = (xs: number[]) => Math.round(median(xs)).toLocaleString('en-US');
  if (r.h04x1) {
    addRow(s, { name: 'SELECT honker_enqueue 1/tx, ours ÷ honker 0.4 (identical calls)', value: median(r.ours1), unit: 'jobs/s', ratio: medianRatio(r.ours1, r.h04x1), baseline: `honker 0.4's extension (${med(r.h04x1)}/s)`, target: { of: 'ratio', op: '>=', bound: 1.5 } });
  }
  addRow(s, { name: 'SELECT honker_enqueue 1/tx, ours ÷ raw INSERT', value: median(r.ours1), unit: 'jobs/s', ratio: medianRatio(r.ours1, r.raw1), baseline: `raw single-row INSERT (${med(r.raw1)}/s)`, target: { of: 'ratio', op: '>=', bound: 0.6 } });
  addRow(s, { name: 'honker_claim_batch(1) + honker_ack, 1 job/tx each', value: median(r.oursCa), unit: 'jobs/s', ratio: medianRatio(r.oursCa, r.naiveCa), baseline: `naive raw queue (${med(r.naiveCa)}/s)`, target: { of: 'ratio', op: '>=', bound: 0.5 } });

  // 3. CPU time per operation (user + system of this process, which runs nothing else): less
  // noisy than wall time on a shared machine; the same interleaving, ratios of medians.
  const OPS = size(o, 1000, 3000);
  const cpuOver = (calls: number, op: () => unknown) => async () => {
    const t0 = process.cpuUsage();
    for (let k = 0; k < calls; k++) op();
    const c = process.cpuUsage(t0);
    return (c.user + c.system) / calls;
  };
  const cpu = (op: () => unknown) => cpuOver(OPS, op);
  const cpu100 = (op: () => unknown) => cpuOver(OPS / 10, op);
  // The format's floor (a raw AUTOINCREMENT table with one index of pending rows, as in part 1)
  // and the client (queue.enqueue) next to the SQL path, 1 and 100 jobs a transaction.
  const floorDb = rawDb(path.join(dir, 'floor-rate.db'));
  floorDb.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, ${cols}); CREATE INDEX t_ready ON t (queue, run_at, id)`);
  const floorOne = floorDb.prepare("INSERT INTO t (queue, payload, run_at) VALUES ('q', ?, unixepoch())");
  // honker's own table, a plain INSERT (no function, no commit signal): the floor of this format.
  const liveDb = honkerDb(path.join(dir, 'live-rate.db'));
  liveDb.pragma('wal_autocheckpoint = 1000');
  const liveOne = liveDb.prepare(
    "INSERT INTO _honker_live (queue, payload, run_at, priority, max_attempts, expires_at) VALUES ('q', ?, unixepoch(), 0, 3, NULL)",
  );
  const clientDb = open(path.join(dir, 'client-rate.db'));
  const clientQ = clientDb.queue<ReturnType<typeof payload>>('q');
  const client100 = (base: number) => clientDb.transaction(() => {
    for (let k = 0; k < 100; k++) clientQ.enqueue(payload(base + k));
  });
  const cpuCases: Record<string, () => Promise<number>> = {
    raw1: cpu(() => rawOne.run(text(i++))),
    floor1: cpu(() => floorOne.run(text(i++))),
    live1: cpu(() => liveOne.run(text(i++))),
    ours1: cpu(() => oursRate.enqueue(i++)),
    client1: cpu(() => clientQ.enqueue(payload(i++))),
    // per job: 100 jobs a call, so OPS / 10 calls of 100 cost about what OPS single commits do
    ours100: async () => (await cpu100(() => oursRate.enqueue100((i += 100)))()) / 100,
    client100: async () => (await cpu100(() => client100((i += 100)))()) / 100,
    quiet1: cpu(() => quiet.enqueue(i++)),
    oursCa: async () => (topUp(), cpu(() => claimQ.claimAck())()),
    naiveCa: async () => (topUp(), cpu(() => {
      const job = naiveRate.claim();
      return job !== undefined && naiveRate.ack(job.id);
    })()),
  };
  if (h04Rate) cpuCases.h04x1 = cpu(() => h04Rate.enqueue(i++));
  const c = await interleaved(rounds, cpuCases);
  const us = (xs: number[]) => `${median(xs).toFixed(1)} µs`;
  if (c.h04x1) {
    addRow(s, { name: 'CPU per SELECT honker_enqueue 1/tx, honker 0.4 ÷ ours', value: median(c.ours1), unit: 'µs', ratio: medianRatio(c.h04x1, c.ours1), baseline: `honker 0.4's extension (${us(c.h04x1)})`, target: { of: 'ratio', op: '>=', bound: 1.5 } });
  }
  addRow(s, { name: 'CPU per SELECT honker_enqueue 1/tx, raw INSERT ÷ ours', value: median(c.ours1), unit: 'µs', ratio: medianRatio(c.raw1, c.ours1), baseline: `raw single-row INSERT (${us(c.raw1)})`, target: { of: 'ratio', op: '>=', bound: 0.6 } });
  addRow(s, { name: 'CPU per INSERT into the format\'s floor 1/tx, raw INSERT ÷ floor', value: median(c.floor1), unit: 'µs', ratio: medianRatio(c.raw1, c.floor1), baseline: `raw single-row INSERT (${us(c.raw1)}); the floor: AUTOINCREMENT + one index, no honker` });
  addRow(s, { name: 'CPU per plain INSERT into _honker_live 1/tx, raw INSERT ÷ it', value: median(c.live1), unit: 'µs', ratio: medianRatio(c.raw1, c.live1), baseline: `raw single-row INSERT (${us(c.raw1)}); honker's table and indexes, no function, no commit signal` });
  addRow(s, { name: 'CPU per SELECT honker_enqueue 1/tx, the floor ÷ ours', value: median(c.ours1), unit: 'µs', ratio: medianRatio(c.floor1, c.ours1), baseline: `raw AUTOINCREMENT + one index (${us(c.floor1)})` });
  addRow(s, { name: 'CPU per queue.enqueue 1/tx, SQL ÷ client', value: median(c.client1), unit: 'µs', ratio: medianRatio(c.ours1, c.client1), baseline: `SELECT honker_enqueue (${us(c.ours1)})`, target: { of: 'ratio', op: '>=', bound: 0.9 } });
  addRow(s, { name: 'CPU per job, queue.enqueue 100/tx, SQL ÷ client', value: median(c.client100), unit: 'µs', ratio: medianRatio(c.ours100, c.client100), baseline: `SELECT honker_enqueue 100/tx (${us(c.ours100)})`, target: { of: 'ratio', op: '>=', bound: 0.9 } });
  addRow(s, { name: 'CPU per SELECT honker_enqueue 1/tx, plain INSERT into _honker_live ÷ ours', value: median(c.ours1), unit: 'µs', ratio: medianRatio(c.live1, c.ours1), baseline: `plain INSERT into _honker_live (${us(c.live1)})` });
  addRow(s, { name: 'CPU per SELECT honker_enqueue 1/tx, without ÷ with the commit signal', value: median(c.ours1), unit: 'µs', ratio: medianRatio(c.quiet1, c.ours1), baseline: `no <db>-wake touched (${us(c.quiet1)})` });
  addRow(s, { name: 'CPU per claim(1) + ack, naive ÷ ours', value: median(c.oursCa), unit: 'µs', ratio: medianRatio(c.naiveCa, c.oursCa), baseline: `naive raw queue (${us(c.naiveCa)})`, target: { of: 'ratio', op: '>=', bound: 0.5 } });
  s.notes.push(
    `frames: ${N} commits per case from a truncated WAL, ${WARM} jobs of another queue first; rates: ${rounds} interleaved rounds of ${ms} ms, claim windows start at ${BACKLOG.toLocaleString('en-US')} due jobs` +
      `; CPU rows: ${OPS} operations a round, ratio = baseline's CPU per op ÷ ours (a rate ratio)` +
      (has04 ? '' : "; honker 0.4's library not found: its rows are left out"),
  );
  for (const db of [rawIns, floorDb, liveDb, oursRateDb, quietDb, claimDb, naiveRateDb, ...(h04RateDb ? [h04RateDb] : [])]) db.close();
  clientDb.close();
  return s;
}

await standalone(import.meta.url, framesBench);
