/**
 * How a command opens its database: checked read-only first (never created;
 * it must hold honker's tables), then read through a read-only connection or
 * written through the client (open()). Also what several commands read: the
 * queues' stats, the database's clock, and "unknown queue" for a queue with
 * no job.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { open, type HonkerDatabase } from '../database.js';
import { load } from '../extension.js';
import { CliError } from './errors.js';

/**
 * Check that file is an existing honker database without writing anything
 * (never creates it), and return a read-only connection with the extension loaded.
 */
export function readOnly(file: string): Database.Database {
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);
  let raw: Database.Database;
  try {
    raw = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new CliError(`${file}: cannot open: ${(err as Error).message}`);
  }
  try {
    raw.pragma('busy_timeout = 5000');
    let tables: number;
    try {
      tables = raw
        .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_honker_live', '_honker_dead')")
        .pluck()
        .get() as number;
    } catch (err) {
      throw new CliError(`${file}: not a SQLite database (${(err as Error).message})`);
    }
    if (tables !== 2) throw new CliError(`${file}: not a honker database (it has no _honker_live table)`);
    load(raw);
    return raw;
  } catch (err) {
    raw.close();
    throw err;
  }
}

/** Check file read-only, then open it with the client for writing. */
export function writable(file: string): HonkerDatabase {
  readOnly(file).close();
  return open(file);
}

/** fn on a read-only connection (see readOnly), closed after. */
export function withReadOnly<T>(file: string, fn: (raw: Database.Database) => T): T {
  const raw = readOnly(file);
  try {
    return fn(raw);
  } finally {
    raw.close();
  }
}

/** fn on the client opened for writing (see writable), closed after. */
export function withWritable<T>(file: string, fn: (db: HonkerDatabase) => T): T {
  const db = writable(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export interface QueueStatsRow {
  queue: string;
  pending: number;
  scheduled: number;
  processing: number;
  dead: number;
  oldest_pending_at: number | null;
}

/** Every queue with a live or dead job, and its counts (honker_queues_stats). */
export function queuesStats(raw: Database.Database): QueueStatsRow[] {
  return JSON.parse(raw.prepare('SELECT honker_queues_stats()').pluck().get() as string) as QueueStatsRow[];
}

/** The database's clock, in unix seconds. */
export function now(raw: Database.Database): number {
  return raw.prepare('SELECT unixepoch()').pluck().get() as number;
}

/** Fail with "unknown queue" unless the queue has a live or dead job. */
export function knownQueue(raw: Database.Database, queue: string): QueueStatsRow {
  const all = queuesStats(raw);
  const row = all.find((r) => r.queue === queue);
  if (!row) {
    const names = all.map((r) => r.queue);
    const list = names.length ? `; queues: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}` : '; the database has no queue';
    throw new CliError(`unknown queue '${queue}' (no live or dead job${list})`);
  }
  return row;
}
