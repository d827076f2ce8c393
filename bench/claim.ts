/**
 * Scenario 2 — claim + ack: one job per transaction each, and batches of 8,
 * 32 and 128 (one claim transaction and one ack transaction per batch).
 *   npx tsx bench/claim.ts [--quick]
 *
 * Every case drains a queue topped up (untimed) to the same backlog before
 * each window, so each claim sees the same number of waiting jobs.
 * Baseline: a naive raw queue on a plain indexed table, claim by
 * `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING`, ack by `DELETE`, each
 * its own autocommit transaction. honker runs through the client
 * (`claimOne`/`claimBatch` + `ack`/`ackBatch`) and through the SQL functions;
 * honker 0.4's claim statements (its exhausted-row pre-pass walks the whole
 * backlog on every claim) are replayed on the same tables for reference.
 * Batch rows are compared with our own single claim+ack (target: 32 ≥ 5x).
 */
import path from 'node:path';
import { load, open, type HonkerDatabase } from '../src/index.js';
import { benchDir, checkpointOf, interleaved, median, medianRatio, payload, rate, rawDb, type Db } from './lib/measure.js';
import { honker04Queue, naiveQueue, type ReferenceQueue } from './lib/reference-queues.js';
import { size, standalone, type BenchOptions } from './lib/options.js';
import { addRow, section, type Section } from './lib/report.js';

/** Drain one job of q (claim, parse its payload, ack); false when none was due. */
function claimAckOne(q: ReferenceQueue): boolean {
  const row = q.claim();
  if (!row) return false;
  JSON.parse(row.payload);
  return q.ack(row.id);
}

function topUpHonker(db: HonkerDatabase, queue: string, n: number): void {
  const q = db.queue(queue);
  db.transaction(() => {
    for (let k = q.stats().pending; k < n; k++) q.enqueue(payload(k));
  });
}

export async function claimBench(o: BenchOptions): Promise<Section> {
  const s = section('claim', '2. Claim + ack (jobs/s)');
  const dir = benchDir();
  const ms = size(o, 300, 1000);
  const rounds = size(o, 3, 5);
  const backlog = size(o, 20_000, 50_000);

  const naiveDb = rawDb(path.join(dir, 'naive.db'));
  const naive = naiveQueue(naiveDb, 300);
  const naivePending = naiveDb.prepare("SELECT count(*) FROM jobs WHERE queue = 'q' AND state = 'pending'").pluck();
  const topUpNaive = naiveDb.transaction((n: number) => {
    for (let k = naivePending.get() as number; k < n; k++) naive.enqueue(JSON.stringify(payload(k)));
  });

  const db = open(path.join(dir, 'honker.db'));
  const q = db.queue('q');
  const batch = (n: number) => (): boolean => {
    const jobs = q.claimBatch('w', n);
    if (jobs.length === 0) return false;
    return q.ackBatch(jobs.map((j) => j.id), 'w') === jobs.length;
  };

  const sqlDb = rawDb(path.join(dir, 'honker-sql.db'));
  load(sqlDb);
  const sqlClient = open(path.join(dir, 'honker-sql.db'));
  const claimSql = sqlDb.prepare("SELECT honker_claim_batch('q', 'w', 1, 300)").pluck();
  const ackSql = sqlDb.prepare("SELECT honker_ack(?, 'w')").pluck();

  const h04Db = rawDb(path.join(dir, 'honker04.db'));
  load(h04Db);
  const h04Client = open(path.join(dir, 'honker04.db'));
  const h04 = honker04Queue(h04Db, 300);

  const window = (topUp: () => void, op: () => boolean, per: number, conn: Db) => async () => {
    topUp();
    return rate(op, ms, per, checkpointOf(conn));
  };
  const r = await interleaved(rounds, {
    naive: window(() => void topUpNaive(backlog), () => claimAckOne(naive), 1, naiveDb),
    client1: window(() => topUpHonker(db, 'q', backlog), () => {
      const job = q.claimOne('w');
      return job !== null && job.ack();
    }, 1, db.raw),
    sql1: window(() => topUpHonker(sqlClient, 'q', backlog), () => {
      const rows = JSON.parse(claimSql.get() as string) as Array<{ id: number; payload: string }>;
      if (rows.length === 0) return false;
      JSON.parse(rows[0].payload);
      return ackSql.get(rows[0].id) === 1;
    }, 1, sqlDb),
    h04: window(() => topUpHonker(h04Client, 'q', backlog), () => claimAckOne(h04), 1, h04Db),
    // the claim iterator, one job at a time (batchSize 1), acked as it comes
    iter1: async () => {
      topUpHonker(db, 'q', backlog);
      const ac = new AbortController();
      let n = 0;
      const t0 = performance.now();
      for await (const job of q.claim('w', { signal: ac.signal, batchSize: 1 })) {
        job.ack();
        n++;
        if (performance.now() - t0 >= ms) ac.abort();
      }
      db.raw.pragma('wal_checkpoint(PASSIVE)');
      return (n * 1000) / (performance.now() - t0);
    },
    b8: window(() => topUpHonker(db, 'q', backlog), batch(8), 8, db.raw),
    b32: window(() => topUpHonker(db, 'q', backlog), batch(32), 32, db.raw),
    b128: window(() => topUpHonker(db, 'q', backlog), batch(128), 128, db.raw),
  });
  const naiveBase = `naive raw queue 1+1 tx/job (${Math.round(median(r.naive)).toLocaleString('en-US')}/s)`;
  const singleBase = `our single claim+ack (${Math.round(median(r.client1)).toLocaleString('en-US')}/s)`;
  const t = { of: 'ratio', op: '>=', bound: 0.5 } as const; // issue 16
  addRow(s, { name: 'claimOne + ack, 1 job/tx each', value: median(r.client1), unit: 'jobs/s', ratio: medianRatio(r.client1, r.naive), baseline: naiveBase, target: t });
  addRow(s, { name: 'honker_claim_batch(…,1,…) + honker_ack', value: median(r.sql1), unit: 'jobs/s', ratio: medianRatio(r.sql1, r.naive), baseline: naiveBase, target: t });
  addRow(s, { name: 'claim iterator (batchSize 1) + ack', value: median(r.iter1), unit: 'jobs/s', ratio: medianRatio(r.iter1, r.naive), baseline: naiveBase, target: { of: 'ratio', op: '>=', bound: 0.5 } });
  addRow(s, { name: "honker 0.4's claim + ack SQL", value: median(r.h04), unit: 'jobs/s', ratio: medianRatio(r.h04, r.naive), baseline: naiveBase });
  for (const [name, key, target] of [
    ['claimBatch(8) + ackBatch', 'b8', undefined],
    ['claimBatch(32) + ackBatch', 'b32', { of: 'ratio', op: '>=', bound: 5 } as const],
    ['claimBatch(128) + ackBatch', 'b128', undefined],
  ] as const) {
    addRow(s, { name, value: median(r[key]), unit: 'jobs/s', ratio: medianRatio(r[key], r.client1), baseline: singleBase, target });
  }
  s.notes.push(`${backlog.toLocaleString('en-US')} jobs waiting at the start of every window; ${rounds} interleaved rounds of ${ms} ms`);
  for (const c of [db, sqlClient, h04Client]) c.close();
  for (const c of [naiveDb, sqlDb, h04Db]) c.close();
  return s;
}

await standalone(import.meta.url, claimBench);
