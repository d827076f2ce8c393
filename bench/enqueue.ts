/**
 * Scenario 1 — enqueue, 1 job per transaction and 100 per transaction.
 *   npx tsx bench/enqueue.ts [--quick]
 *
 * Baselines in raw better-sqlite3 on the same kind of file (WAL,
 * synchronous=NORMAL): a single-row INSERT of the same JSON payload into a
 * plain table, per autocommit transaction, and 100 such rows per
 * transaction. honker is measured through the client (`queue.enqueue`, with
 * its argument checks) and through the SQL function (`SELECT
 * honker_enqueue(...)` on a raw connection), next to a plain INSERT of the
 * same row into honker's table (its AUTOINCREMENT and, since schema 4, one
 * partial index of pending rows: what any enqueue on this on-disk format
 * costs at least) and honker 0.4's
 * own enqueue statements. Rounds interleave subject and
 * baseline; the ratio is the median of per-round ratios. Each window ends
 * with a PASSIVE checkpoint of its connection, timed, so WAL work is charged
 * to the case that left it.
 */
import path from 'node:path';
import { load, open } from '../src/index.js';
import { benchDir, checkpointOf, interleaved, rawInserts, median, medianRatio, payload, rate, rawDb } from './lib/measure.js';
import { size, standalone, type BenchOptions } from './lib/options.js';
import { addRow, section, type Section } from './lib/report.js';

export async function enqueueBench(o: BenchOptions): Promise<Section> {
  const s = section('enqueue', '1. Enqueue (jobs/s)');
  const dir = benchDir();
  const ms = size(o, 300, 1200);
  const rounds = size(o, 3, 5);

  const raw = rawDb(path.join(dir, 'raw.db'));
  const rawJobs = rawInserts(raw, 'jobs', 'emails');

  const db = open(path.join(dir, 'honker.db'));
  const q = db.queue('emails');
  const client100 = (base: number) =>
    db.transaction(() => {
      for (let k = 0; k < 100; k++) q.enqueue(payload(base + k));
    });

  const sqlConn = rawDb(path.join(dir, 'honker-sql.db'));
  load(sqlConn);
  sqlConn.prepare('SELECT honker_bootstrap()').get();
  const enqueueSql = sqlConn.prepare("SELECT honker_enqueue('emails', ?, NULL, NULL, 0, 3, NULL)").pluck();
  const sql100 = sqlConn.transaction((base: number) => {
    for (let k = 0; k < 100; k++) enqueueSql.get(JSON.stringify(payload(base + k)));
  });

  // honker 0.4's enqueue, statement for statement (its ops.rs prepares both per call with
  // rusqlite's query_row), on a file with only honker 0.4's indexes.
  const h04 = rawDb(path.join(dir, 'honker04.db'));
  load(h04);
  h04.prepare('SELECT honker_bootstrap()').get();
  h04.exec(`DROP INDEX _honker_live_ready; DROP INDEX _honker_live_unique;
    CREATE INDEX _honker_live_claim ON _honker_live(queue, priority DESC, run_at, id) WHERE state IN ('pending', 'processing');
    CREATE INDEX _honker_live_pending_deadline ON _honker_live(queue, run_at) WHERE state = 'pending';`);
  const h04Enqueue = (text: string) => {
    const now = h04.prepare('SELECT unixepoch()').pluck().get() as number;
    h04
      .prepare('INSERT INTO _honker_live (queue, payload, run_at, priority, max_attempts, expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id')
      .pluck()
      .get('emails', text, now, 0, 3, null);
  };
  const h04x100 = h04.transaction((base: number) => {
    for (let k = 0; k < 100; k++) h04Enqueue(JSON.stringify(payload(base + k)));
  });

  // The format's floor: the same row inserted with plain SQL into honker's table (AUTOINCREMENT
  // and, since schema 4, one partial index of pending rows), no function call.
  const floorDb = rawDb(path.join(dir, 'floor.db'));
  load(floorDb);
  floorDb.prepare('SELECT honker_bootstrap()').get();
  const floorInsert = floorDb.prepare(
    "INSERT INTO _honker_live (queue, payload, run_at, priority, max_attempts) VALUES ('emails', ?, unixepoch(), 0, 3)",
  );
  const floor100 = floorDb.transaction((base: number) => {
    for (let k = 0; k < 100; k++) floorInsert.run(JSON.stringify(payload(base + k)));
  });

  let i = 0;
  const r = await interleaved(rounds, {
    floor1: () => rate(() => void floorInsert.run(JSON.stringify(payload(i++))), ms, 1, checkpointOf(floorDb)),
    floor100: () => rate(() => void floor100((i += 100)), ms, 100, checkpointOf(floorDb)),
    h04x1: () => rate(() => h04Enqueue(JSON.stringify(payload(i++))), ms, 1, checkpointOf(h04)),
    h04x100: () => rate(() => void h04x100((i += 100)), ms, 100, checkpointOf(h04)),
    raw1: () => rate(() => rawJobs.one(i++), ms, 1, checkpointOf(raw)),
    client1: () => rate(() => void q.enqueue(payload(i++)), ms, 1, checkpointOf(db.raw)),
    sql1: () => rate(() => void enqueueSql.get(JSON.stringify(payload(i++))), ms, 1, checkpointOf(sqlConn)),
    raw100: () => rate(() => rawJobs.many((i += 100), 100), ms, 100, checkpointOf(raw)),
    client100: () => rate(() => client100((i += 100)), ms, 100, checkpointOf(db.raw)),
    sql100: () => rate(() => void sql100((i += 100)), ms, 100, checkpointOf(sqlConn)),
  });
  const base1 = `raw INSERT 1/tx (${Math.round(median(r.raw1)).toLocaleString('en-US')}/s)`;
  const base100 = `raw INSERT 100/tx (${Math.round(median(r.raw100)).toLocaleString('en-US')}/s)`;
  const t1 = { of: 'ratio', op: '>=', bound: 0.7 } as const;
  const t100 = { of: 'ratio', op: '>=', bound: 0.5 } as const;
  addRow(s, { name: 'queue.enqueue, 1/tx', value: median(r.client1), unit: 'jobs/s', ratio: medianRatio(r.client1, r.raw1), baseline: base1, target: t1 });
  addRow(s, { name: 'SELECT honker_enqueue, 1/tx', value: median(r.sql1), unit: 'jobs/s', ratio: medianRatio(r.sql1, r.raw1), baseline: base1, target: t1 });
  addRow(s, { name: 'raw INSERT into _honker_live, 1/tx (the format\'s floor)', value: median(r.floor1), unit: 'jobs/s', ratio: medianRatio(r.floor1, r.raw1), baseline: base1 });
  addRow(s, { name: "honker 0.4's enqueue SQL, 1/tx", value: median(r.h04x1), unit: 'jobs/s', ratio: medianRatio(r.h04x1, r.raw1), baseline: base1 });
  addRow(s, { name: 'queue.enqueue, 100/tx', value: median(r.client100), unit: 'jobs/s', ratio: medianRatio(r.client100, r.raw100), baseline: base100, target: t100 });
  addRow(s, { name: 'SELECT honker_enqueue, 100/tx', value: median(r.sql100), unit: 'jobs/s', ratio: medianRatio(r.sql100, r.raw100), baseline: base100, target: t100 });
  addRow(s, { name: 'raw INSERT into _honker_live, 100/tx (the format\'s floor)', value: median(r.floor100), unit: 'jobs/s', ratio: medianRatio(r.floor100, r.raw100), baseline: base100 });
  addRow(s, { name: "honker 0.4's enqueue SQL, 100/tx", value: median(r.h04x100), unit: 'jobs/s', ratio: medianRatio(r.h04x100, r.raw100), baseline: base100 });
  s.notes.push(`${rounds} interleaved rounds of ${ms} ms per case; honker 0.4's extension measured 0.32x a raw insert on this machine`);
  db.close();
  raw.close();
  sqlConn.close();
  h04.close();
  floorDb.close();
  return s;
}

await standalone(import.meta.url, enqueueBench);
