/**
 * Helpers of the hostile-input scenarios (test/reliability/hostile.*.test.ts):
 * a seeded PRNG, the SQL surface, hostile strings, the "honker tables are
 * intact" check and the figures report.
 */
import type { ExecutionContext } from 'ava';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, type Db } from '../helpers/db.js';

/** Log the figures and append them as one JSON line to $HONKER_RELIABILITY_REPORT. */
export function report(t: ExecutionContext, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ scenario: t.title, ...figures });
  t.log(line);
  const file = process.env.HONKER_RELIABILITY_REPORT;
  if (file) appendFileSync(file, line + '\n');
}

/** The run's seed: HONKER_FUZZ_SEED when set (to reproduce a failure), else a random one. */
export function fuzzSeed(t: ExecutionContext): number {
  const env = process.env.HONKER_FUZZ_SEED;
  const seed = env ? Number(env) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  t.log(`seed ${seed} (reproduce with HONKER_FUZZ_SEED=${seed})`);
  return seed;
}

/** A small deterministic PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let x = this.s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** One SQL function of test/extension.surface.txt. */
export interface SurfaceFn {
  name: string;
  arity: number;
}

/** Every SQL function honker_ext registers, from test/extension.surface.txt. */
export function surface(): SurfaceFn[] {
  return readFileSync(path.join(repoRoot, 'test', 'extension.surface.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [name, arity] = l.trim().split(/\s+/)[0].split('/'); // "name/arity flags"
      return { name, arity: Number(arity) };
    });
}

/** Names that are data: quotes, SQL, format strings, NULs, unicode, 10,000 characters. */
export const HOSTILE_NAMES: readonly string[] = [
  "q'uote",
  '"double"',
  'semi;colon',
  'dash--dash',
  "'); DROP TABLE _honker_live;--",
  '"; DELETE FROM _honker_locks; --',
  '%s%n%s%n%x',
  'a\0b',
  '\0',
  'nul-at-end\0',
  'naïve 名前 🐦 \u202e',
  '\\back\\slash',
  ' spaces ',
  '*/ /* x',
  'x'.repeat(10_000),
];

/** Every table honker_bootstrap creates. */
export const HONKER_TABLES: readonly string[] = [
  '_honker_live',
  '_honker_dead',
  '_honker_notifications',
  '_honker_locks',
  '_honker_rate_limits',
  '_honker_scheduler_tasks',
  '_honker_results',
  '_honker_stream',
  '_honker_stream_consumers',
  '_honker_meta',
  '_honker_job_errors',
  '_honker_workers',
];

/** Every index honker_bootstrap creates. */
export const HONKER_INDEXES: readonly string[] = [
  '_honker_live_processing_deadline',
  '_honker_notifications_recent',
  '_honker_stream_topic',
  '_honker_dead_queue',
  '_honker_live_ready',
  '_honker_live_unique',
];

/** Every character JavaScript's \\s matches, as SQL (for trim's character set). */
const WHITESPACE_SQL = `char(${[0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, ...Array.from({ length: 11 }, (_, i) => 0x2000 + i), 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff].join(', ')})`;

/** SQL: column holds a blank (only whitespace, non-empty) name. */
const blank = (column: string): string => `(${column} <> '' AND trim(${column}, ${WHITESPACE_SQL}) = '')`;

/** Queries that must each yield 0 on a consistent database (the invariants of ext/queue*.c). */
const CONSISTENCY: readonly [string, string][] = [
  ['a job both live and dead', 'SELECT count(*) FROM _honker_live l JOIN _honker_dead d ON d.id = l.id'],
  ['a live job in an unknown state', "SELECT count(*) FROM _honker_live WHERE state NOT IN ('pending', 'processing')"],
  [
    'a pending job with a claim',
    "SELECT count(*) FROM _honker_live WHERE state = 'pending' AND (worker_id IS NOT NULL OR claim_expires_at IS NOT NULL)",
  ],
  [
    'a processing job without a claim',
    "SELECT count(*) FROM _honker_live WHERE state = 'processing' AND (worker_id IS NULL OR claim_expires_at IS NULL)",
  ],
  [
    'a job error without its job',
    'SELECT count(*) FROM _honker_job_errors e WHERE NOT EXISTS (SELECT 1 FROM _honker_live WHERE id = e.job_id)' +
      ' AND NOT EXISTS (SELECT 1 FROM _honker_dead WHERE id = e.job_id)',
  ],
  ['a rate-limit window with count < 1', 'SELECT count(*) FROM _honker_rate_limits WHERE count < 1'],
  ['a live job with attempts < 0', 'SELECT count(*) FROM _honker_live WHERE attempts < 0'],
  // ext/util.h HONKER_MAX_UNIX: no function stores a time past 9999-12-31T23:59:59Z
  [
    'a time past 9999-12-31T23:59:59Z',
    'SELECT (SELECT count(*) FROM _honker_live WHERE max(run_at, coalesce(claim_expires_at, 0), coalesce(expires_at, 0)) > 253402300799)' +
      ' + (SELECT count(*) FROM _honker_locks WHERE expires_at > 253402300799)' +
      ' + (SELECT count(*) FROM _honker_results WHERE expires_at > 253402300799)' +
      ' + (SELECT count(*) FROM _honker_scheduler_tasks WHERE next_fire_at > 253402300799)',
  ],
  // ext/util.c honker_arg_new_name: no function stores a row under a blank name (whitespace as JavaScript's \s)
  [
    'a row stored under a blank name',
    `SELECT (SELECT count(*) FROM _honker_live WHERE ${blank('queue')} OR ${blank('worker_id')} OR ${blank('unique_key')})` +
      ` + (SELECT count(*) FROM _honker_notifications WHERE ${blank('channel')})` +
      ` + (SELECT count(*) FROM _honker_stream WHERE ${blank('topic')})` +
      ` + (SELECT count(*) FROM _honker_stream_consumers WHERE ${blank('name')})` +
      ` + (SELECT count(*) FROM _honker_locks WHERE ${blank('name')} OR ${blank('owner')})` +
      ` + (SELECT count(*) FROM _honker_rate_limits WHERE ${blank('name')})` +
      ` + (SELECT count(*) FROM _honker_scheduler_tasks WHERE ${blank('name')} OR ${blank('queue')})`,
  ],
];

/**
 * Assert the file is sound: integrity_check ok, every honker table and index
 * still there, and the queue invariants hold. Returns the problems (empty when ok).
 */
export function intactProblems(db: Db): string[] {
  const problems: string[] = [];
  const integrity = db.prepare('PRAGMA integrity_check').pluck().all() as string[];
  if (integrity.length !== 1 || integrity[0] !== 'ok') problems.push(`integrity_check: ${integrity.join('; ')}`);
  const tables = new Set(
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[],
  );
  for (const name of HONKER_TABLES) if (!tables.has(name)) problems.push(`table ${name} is missing`);
  const indexes = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").pluck().all() as string[]);
  for (const name of HONKER_INDEXES) if (!indexes.has(name)) problems.push(`index ${name} is missing`);
  for (const [what, sql] of CONSISTENCY) {
    const n = db.prepare(sql).pluck().get() as number;
    if (n !== 0) problems.push(`${what}: ${n} rows`);
  }
  return problems;
}

/** The row count of every honker table (to compare before/after). */
export function tableCounts(db: Db): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of HONKER_TABLES) out[name] = db.prepare(`SELECT count(*) FROM ${name}`).pluck().get() as number;
  return out;
}
