/**
 * Scenario 7 — claim cost against the backlog (spec/sql.md "Fixes": claim
 * cost does not grow with the backlog). Run: npx tsx bench/claim-backlog.ts [--quick]
 * (HONKER_EXT_PATH picks the library, as everywhere; HONKER_BENCH_ITER sets
 * the iterations per case, default 3000, 600 with --quick).
 *
 * Each case times one `honker_claim_batch(q, w, 1, 30)` + `honker_ack` pair,
 * each statement in autocommit, on a WAL file:
 *   empty        one due job is enqueued (untimed) before each claim
 *   20k due      20,000 due jobs waiting
 *   100k due     100,000 due jobs waiting
 *   1M due       1,000,000 due jobs waiting (not run with honker 0.4's SQL)
 *   in-flight    40,000 jobs claimed by another worker (long timeout) and
 *                20,000 future jobs of higher priority; one due job is
 *                enqueued (untimed) before each claim
 * and prints median/p90 per pair and the ratio to the empty case (the fix
 * wants every ratio within 2x; the exit code is 1 otherwise).
 *
 * For comparison, the same cases run against
 *   - a naive raw-SQL queue on a plain table with a (queue, state, priority
 *     DESC, run_at, id) index: claim by UPDATE ... WHERE id = (SELECT ...
 *     ORDER BY ... LIMIT 1) RETURNING, ack by DELETE;
 *   - honker 0.4's own claim statements (its exhausted-row DELETE pre-pass and
 *     its claim UPDATE, from honker's ops.rs) on the same honker tables.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extensionPath } from '../src/extension.js';
import { fillRows } from './lib/measure.js';
import { honker04Queue, NAIVE_COLUMNS, naiveQueue } from './lib/reference-queues.js';
import { size, standalone, type BenchOptions } from './lib/options.js';
import { addRow, section, type Section } from './lib/report.js';

type Db = Database.Database;
type Case = { name: string; due: number; inFlight: number; future: number; feed: boolean; no04?: boolean };

let ITER = 3000;
/** honker 0.4 takes milliseconds per claim on a backlog: fewer pairs keep the run short. */
let ITER_0_4 = 200;
const cases: Case[] = [
  { name: 'empty', due: 0, inFlight: 0, future: 0, feed: true },
  { name: '20k due', due: 20_000, inFlight: 0, future: 0, feed: false },
  { name: '100k due', due: 100_000, inFlight: 0, future: 0, feed: false },
  // issue 16: flat at 1,000,000 due jobs (honker 0.4's SQL takes ~0.1 s a claim there: left out)
  { name: '1M due', due: 1_000_000, inFlight: 0, future: 0, feed: false, no04: true },
  { name: '40k in-flight + 20k future hi-prio', due: 0, inFlight: 40_000, future: 20_000, feed: true },
];

const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function open(name: string): Db {
  const db = new Database(path.join(dir, `${name}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

/** Median and p90 in microseconds. */
function stats(samples: bigint[]): { median: number; p90: number } {
  const us = samples.map((ns) => Number(ns) / 1000).sort((a, b) => a - b);
  return { median: us[Math.floor(us.length / 2)], p90: us[Math.floor(us.length * 0.9)] };
}

/** Time `iterations` claim+ack pairs; feed() runs untimed before each claim. */
function timePairs(feed: (() => void) | null, claimAck: () => void, iterations = ITER): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < iterations + 50; i++) {
    if (feed) feed();
    const t0 = process.hrtime.bigint();
    claimAck();
    const dt = process.hrtime.bigint() - t0;
    if (i >= 50) out.push(dt); // the first 50 warm the cache
  }
  return out;
}

/** A bootstrapped honker database holding case c's backlog. */
function openWithBacklog(name: string, c: Case): Db {
  const db = open(name);
  db.loadExtension(extensionPath());
  db.prepare('SELECT honker_bootstrap()').get();
  const cols = 'queue, payload, state, priority, run_at, worker_id, claim_expires_at, attempts';
  db.transaction(() => {
    fillRows(db, '_honker_live', cols, "'q', '{\"n\":' || x || '}', 'pending', 0, unixepoch() - 10, NULL, NULL, 0", c.due);
    fillRows(db, '_honker_live', cols, "'q', 'x', 'processing', 0, unixepoch() - 10, 'other', unixepoch() + 3600, 1", c.inFlight);
    fillRows(db, '_honker_live', cols, "'q', 'x', 'pending', 10, unixepoch() + 3600, NULL, NULL, 0", c.future);
  })();
  return db;
}

function benchHonker(c: Case, i: number): bigint[] {
  const db = openWithBacklog(`honker-${i}`, c);
  const enqueue = db.prepare("SELECT honker_enqueue('q', '{}', NULL, NULL, 0, 3, NULL)");
  const claim = db.prepare("SELECT honker_claim_batch('q', 'w', 1, 30)").pluck();
  const ack = db.prepare("SELECT honker_ack(?, 'w')").pluck();
  const samples = timePairs(c.feed ? () => enqueue.get() : null, () => {
    const jobs = JSON.parse(claim.get() as string) as Array<{ id: number }>;
    if (jobs.length !== 1 || ack.get(jobs[0].id) !== 1) throw new Error(`${c.name}: claim/ack failed`);
  });
  db.close();
  return samples;
}

function benchNaive(c: Case, i: number): bigint[] {
  const db = open(`naive-${i}`);
  const naive = naiveQueue(db, 30);
  db.transaction(() => {
    fillRows(db, 'jobs', NAIVE_COLUMNS, "'q', '{\"n\":' || x || '}', 'pending', 0, unixepoch() - 10, NULL, NULL", c.due);
    fillRows(db, 'jobs', NAIVE_COLUMNS, "'q', 'x', 'processing', 0, unixepoch() - 10, 'other', unixepoch() + 3600", c.inFlight);
    fillRows(db, 'jobs', NAIVE_COLUMNS, "'q', 'x', 'pending', 10, unixepoch() + 3600, NULL, NULL", c.future);
  })();
  const samples = timePairs(c.feed ? () => naive.enqueue('{}') : null, () => {
    const row = naive.claim();
    if (row === undefined || !naive.ack(row.id)) throw new Error(`${c.name}: naive claim/ack failed`);
  });
  db.close();
  return samples;
}

/** honker 0.4's claim path, statement for statement, in one IMMEDIATE transaction. */
function benchHonker04(c: Case, i: number): bigint[] {
  const db = openWithBacklog(`honker04-${i}`, c);
  const enqueue = db.prepare("SELECT honker_enqueue('q', '{}', NULL, NULL, 0, 3, NULL)");
  const h04 = honker04Queue(db, 30);
  const samples = timePairs(c.feed ? () => enqueue.get() : null, () => {
    const row = h04.claim();
    if (row === undefined || !h04.ack(row.id)) throw new Error(`${c.name}: honker 0.4 claim/ack failed`);
  }, ITER_0_4);
  db.close();
  return samples;
}

export async function backlogBench(o: BenchOptions): Promise<Section> {
  ITER = Number(process.env.HONKER_BENCH_ITER ?? size(o, 600, 3000));
  ITER_0_4 = Math.max(30, Math.floor(ITER / 15));
  const s = section('backlog', '7. Claim cost against the backlog (one claim(1) + ack, median µs)');
  const rows = cases.map((c, i) => ({
    c,
    honker: stats(benchHonker(c, i)),
    naive: stats(benchNaive(c, i)),
    h04: c.no04 ? undefined : stats(benchHonker04(c, i)),
  }));
  const base = rows[0];
  for (const r of rows) {
    addRow(s, {
      name: `honker_ext, ${r.c.name}`,
      value: r.honker.median,
      unit: 'µs',
      ratio: r.honker.median / base.honker.median,
      baseline: `same, empty queue (${base.honker.median.toFixed(1)} µs)`,
      target: { of: 'ratio', op: '<=', bound: 2 },
    });
  }
  for (const r of rows.slice(1)) {
    addRow(s, { name: `naive raw queue, ${r.c.name}`, value: r.naive.median, unit: 'µs', ratio: r.naive.median / base.naive.median, baseline: `naive, empty (${base.naive.median.toFixed(1)} µs)` });
  }
  for (const r of rows.slice(1)) {
    if (!r.h04 || !base.h04) continue;
    addRow(s, { name: `honker 0.4's claim SQL, ${r.c.name}`, value: r.h04.median, unit: 'µs', ratio: r.h04.median / base.h04.median, baseline: `0.4 SQL, empty (${base.h04.median.toFixed(1)} µs)` });
  }
  s.notes.push(`${ITER} pairs per case (${ITER_0_4} for honker 0.4's SQL); each statement in autocommit on a WAL file; ratio = case median / empty-queue median`);
  return s;
}

await standalone(import.meta.url, backlogBench);
