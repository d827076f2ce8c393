/**
 * Measuring helpers shared by the bench scenarios: throughput loops that yield
 * to the event loop (so open()'s checkpoint timer runs, as in an application),
 * interleaved rounds (subject and baseline alternate, so machine drift hits
 * both), percentiles, raw better-sqlite3 files and temp directories.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load } from '../../src/index.js';

export type Db = Database.Database;

/** The job payload every scenario and every library uses (~60 bytes of JSON). */
export function payload(i: number): { n: number; email: string; plan: string } {
  return { n: i, email: `user${i}@example.com`, plan: 'pro' };
}

export const clock = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The 2–8 ms random pause before each wake of the wake benches: every wake starts from an idle loop. */
export const idlePause = (): Promise<void> => sleep(2 + Math.random() * 6);
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A temp directory removed when the process exits. */
export function benchDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A raw better-sqlite3 file set up like open() does: WAL, synchronous=NORMAL. */
export function rawDb(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** rawDb with honker's tables: our extension loaded (or the library at lib) and bootstrapped. */
export function honkerDb(file: string, lib?: string): Db {
  const db = rawDb(file);
  if (lib) db.loadExtension(lib);
  else load(db);
  db.prepare('SELECT honker_bootstrap()').get();
  return db;
}

/**
 * The raw baseline: a plain table `table` (id, name, payload, created_at) in
 * db. one(i) inserts payload(i) in its own autocommit transaction; many(base,
 * n) inserts payload(base)..payload(base + n - 1) in one transaction.
 */
export function rawInserts(db: Db, table: string, name: string): { one: (i: number) => void; many: (base: number, n: number) => void } {
  db.exec(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL)`);
  const insert = db.prepare(`INSERT INTO ${table} (name, payload, created_at) VALUES (?, ?, unixepoch())`);
  const many = db.transaction((base: number, n: number) => {
    for (let k = 0; k < n; k++) insert.run(name, JSON.stringify(payload(base + k)));
  });
  return { one: (i) => void insert.run(name, JSON.stringify(payload(i))), many: (base, n) => void many(base, n) };
}

/**
 * Operations per second of `op` (which performs `perCall` operations) over
 * about `ms` milliseconds of wall time, yielding to the event loop every
 * ~5 ms so timers (checkpoints, watchers) run inside the measured time.
 * `op` returns false when it has nothing left to do (the run ends early).
 * `settle` runs at the end, inside the timed window: pass a checkpoint of the
 * connection written to, so WAL work left behind is charged to this case and
 * not to whichever case runs next.
 */
export async function rate(op: () => boolean | void, ms: number, perCall = 1, settle?: () => void): Promise<number> {
  let ops = 0;
  const t0 = performance.now();
  let now = t0;
  outer: while (now - t0 < ms) {
    const slice = now + 5;
    while ((now = performance.now()) < slice) {
      if (op() === false) break outer;
      ops += perCall;
    }
    await yieldToLoop();
    now = performance.now();
  }
  settle?.();
  return (ops * 1000) / (performance.now() - t0);
}

/** A settle step for rate(): a PASSIVE checkpoint of the connection (what open()'s timer runs). */
export const checkpointOf = (db: Db) => (): void => void db.pragma('wal_checkpoint(PASSIVE)');

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The p-th percentile (0–100) of values, nearest rank. */
export function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Run each named case once per round, `rounds` times, in a rotating order
 * (so no case always runs first), and return each case's per-round values.
 */
export async function interleaved<K extends string>(
  rounds: number,
  cases: Record<K, () => Promise<number>>,
): Promise<Record<K, number[]>> {
  const names = Object.keys(cases) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      out[name].push(await cases[name]());
    }
  }
  return out;
}

/** Median over rounds of subject/baseline taken round by round (both measured back to back). */
export function medianRatio(subject: number[], baseline: number[]): number {
  return median(subject.map((s, i) => s / baseline[i]));
}

/**
 * Fill `table` with n rows in one statement, a recursive CTE: `values` is
 * SQL over x = 1..n. Run it inside a transaction for big n (one commit).
 */
export function fillRows(db: Db, table: string, columns: string, values: string, n: number): void {
  if (n === 0) return;
  db.exec(
    `WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < ${n})` +
      ` INSERT INTO ${table} (${columns}) SELECT ${values} FROM s`,
  );
}

/**
 * Where this process's main thread spent its time, from Linux's
 * /proc/self/schedstat (ns-exact): on a CPU, and runnable but waiting for one
 * (the run queue). Wall time minus both is time asleep: in a syscall, the
 * event loop idle, or SQLite's busy handler waiting for the write lock.
 */
export function schedSelf(): { cpuMs: number; runqMs: number } {
  const [cpu, runq] = readFileSync('/proc/self/schedstat', 'utf8').trim().split(/\s+/).map(Number);
  return { cpuMs: cpu / 1e6, runqMs: runq / 1e6 };
}

/** This process's resident memory now and at its peak (VmRSS, VmHWM), in KiB. */
export function rssSelf(): { rssKb: number; peakKb: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), peakKb: kb('VmHWM') };
}
