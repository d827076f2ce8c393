/**
 * Shared by test/reliability/contention.*.test.ts and its fixtures
 * (test/fixtures/reliability-contention-*.ts): the ledger tables, the error
 * report of a child, and the one-line JSON summary of a scenario.
 */
import { appendFileSync } from 'node:fs';

export const QUEUE = 'contention';
/** Attempts per job: a job whose payload asks for this many failures dies. */
export const MAX_ATTEMPTS = 3;

/**
 * produced: one row per enqueue, written in the enqueue's transaction (so a
 * row exists exactly when the job was committed). consumed: one row per
 * settle (ack or retry), written in the settle's transaction.
 */
export const LEDGER_DDL = `
  CREATE TABLE IF NOT EXISTS produced (
    job_id INTEGER PRIMARY KEY, producer TEXT NOT NULL, seq INTEGER NOT NULL,
    priority INTEGER NOT NULL, run_at INTEGER NOT NULL, delayed INTEGER NOT NULL, fails INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS consumed (
    job_id INTEGER NOT NULL, consumer TEXT NOT NULL, attempt INTEGER NOT NULL,
    outcome TEXT NOT NULL, at_s INTEGER NOT NULL DEFAULT (unixepoch()));
`;

/** The payload of a contention job. */
export interface ContentionJob {
  p: string;
  seq: number;
  /** The handler fails the first `fails` attempts (>= MAX_ATTEMPTS: the job dies). */
  fails: number;
}

/** An error a child caught: what reached user code. */
export interface CaughtError {
  kind: 'error';
  where: string;
  name: string;
  code: string | null;
  message: string;
}

export function caught(where: string, err: unknown): CaughtError {
  const e = err as { name?: string; code?: unknown; message?: string };
  return {
    kind: 'error',
    where,
    name: String(e?.name ?? typeof err),
    code: typeof e?.code === 'string' ? e.code : null,
    message: String(e?.message ?? err),
  };
}

/** In a contention child: one JSON line per stdout write. */
export const out = (o: object): void => void process.stdout.write(JSON.stringify(o) + '\n');

/**
 * In a contention child: print every error it catches (and every uncaught
 * one or process warning) as {"kind":"error",...}; `count()` is how many.
 */
export function errorReporter(): { report: (where: string, err: unknown) => void; count: () => number } {
  let errors = 0;
  const report = (where: string, err: unknown): void => {
    errors++;
    out(caught(where, err));
  };
  process.on('uncaughtException', (err) => report('uncaughtException', err));
  process.on('unhandledRejection', (err) => report('unhandledRejection', err));
  process.on('warning', (w) => report('warning', w));
  return { report, count: () => errors };
}

/** Append the scenario's summary to HONKER_RELIABILITY_REPORT when it names a file. */
export function report(summary: Record<string, unknown>): void {
  const file = process.env.HONKER_RELIABILITY_REPORT;
  if (file) appendFileSync(file, JSON.stringify(summary) + '\n');
}
