/**
 * How a command opens its database: checked read-only first (never created;
 * it must hold honker's tables), then read through a read-only connection or
 * written through the client (open()). Also what several commands read: the
 * queues' stats, the database's clock, and "unknown queue" for a queue with
 * no job.
 *
 * Reading creates no file. A read-only connection to a WAL database creates
 * its -wal and -shm files when they are missing (owned by whoever runs the
 * command, so the database's owner may then be unable to write), and fails
 * where it cannot create them. When the -wal file is missing no connection
 * has the database open, so it is read as an immutable file instead (SQLite's
 * `immutable=1`: no locks, no -shm); if a writer came meanwhile (a -wal
 * appeared, or the file changed), what was read may mix two states and is
 * read again.
 */
import Database from 'better-sqlite3';
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readProblem, writeProblem } from '../access.js';
import { open, type HonkerDatabase } from '../database.js';
import { load } from '../extension.js';
import type { QueueStatsRecord } from '../queue.js';
import { CliError } from './errors.js';

/** How many times a read whose file changed under it is tried as immutable before reading as usual. */
const IMMUTABLE_TRIES = 3;

/** Fail unless file exists and this user may read it (it is never created). */
function mustExist(file: string): void {
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);
  const problem = readProblem(file);
  if (problem) throw new CliError(problem.message);
}

/**
 * A read-only connection with the extension loaded, to a file that must be a honker
 * database: immutable (no locks, no -wal or -shm files) or as usual.
 */
function readOnly(file: string, immutable: boolean): Database.Database {
  let raw: Database.Database | undefined;
  try {
    raw = (immutable ? openImmutable(file) : undefined) ?? new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
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
      const { code, message } = err as { code?: string; message: string };
      if (code === 'SQLITE_NOTADB') throw new CliError(`${file}: not a SQLite database (${message})`);
      throw new CliError(`cannot read ${file}: ${message}`);
    }
    if (tables !== 2) throw new CliError(`${file}: not a honker database (it has no _honker_live table)`);
    load(raw);
    return raw;
  } catch (err) {
    raw.close();
    throw err;
  }
}

/**
 * file opened read-only with `immutable=1`, or undefined when this process cannot: better-sqlite3
 * takes `file:` URIs only when SQLITE_USE_URI=1 was set at its first connection (the CLI opens
 * none before this; the variable is not left set for anything else). A URI it does not take is
 * a name that does not exist, which a read-only open never creates.
 */
function openImmutable(file: string): Database.Database | undefined {
  const was = process.env.SQLITE_USE_URI;
  if (was === undefined) process.env.SQLITE_USE_URI = '1';
  try {
    return new Database(`${pathToFileURL(path.resolve(file)).href}?immutable=1`, { readonly: true, fileMustExist: true });
  } catch {
    return undefined;
  } finally {
    if (was === undefined) delete process.env.SQLITE_USE_URI;
  }
}

/**
 * While file is a WAL database with no -wal file (so no connection has it open), a stamp
 * that changes when anything writes it; undefined otherwise (rollback-journal databases are
 * read as usual: that creates no file).
 */
function idleStamp(file: string): string | undefined {
  if (existsSync(`${file}-wal`)) return undefined;
  const header = Buffer.alloc(20);
  try {
    const fd = openSync(file, 'r');
    try {
      readSync(fd, header, 0, 20, 0);
    } finally {
      closeSync(fd);
    }
    // The header's bytes 18 and 19 (file format write and read versions) are 2 in WAL mode.
    if (header.toString('latin1', 0, 16) !== 'SQLite format 3\0' || header[18] !== 2) return undefined;
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return undefined;
  }
}

/** fn on a read-only connection to the honker database file (see the header), closed after. */
export function withReadOnly<T>(file: string, fn: (raw: Database.Database) => T): T {
  mustExist(file);
  for (let attempt = 1; ; attempt++) {
    const stamp = attempt <= IMMUTABLE_TRIES ? idleStamp(file) : undefined;
    const raw = readOnly(file, stamp !== undefined);
    let outcome: { value: T } | { error: unknown };
    try {
      outcome = { value: fn(raw) };
    } catch (error) {
      outcome = { error };
    } finally {
      raw.close();
    }
    // A writer came meanwhile (a -wal appeared, or the file changed): what was read may be torn; read again.
    if (stamp !== undefined && idleStamp(file) !== stamp) continue;
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }
}

/**
 * fn on a read-only connection inside one read transaction that stays open across fn's awaits,
 * so a read in pages sees one snapshot (`honker migrate`). An idle file (no -wal) is read
 * immutable, as withReadOnly does; then `unchanged()` throws if a writer came since the open
 * (fn calls it before acting on what it read: the read cannot be retried once acted on).
 */
export async function withReadSnapshot<T>(file: string, fn: (raw: Database.Database, unchanged: () => void) => Promise<T>): Promise<T> {
  mustExist(file);
  const stamp = idleStamp(file);
  const raw = readOnly(file, stamp !== undefined);
  const unchanged = (): void => {
    if (stamp !== undefined && idleStamp(file) !== stamp) throw new CliError(`${file} was written while it was read: stop the processes that write it, then run again`);
  };
  try {
    raw.exec('BEGIN');
    raw.prepare('SELECT count(*) FROM sqlite_master').get(); // a read transaction's snapshot starts at its first read
    return await fn(raw, unchanged);
  } finally {
    raw.close(); // ends the read transaction
  }
}

/**
 * Check file read-only (withReadOnly), then whether this user may write it, then open it with
 * the client; its writes wait busyTimeoutMs for another process's write lock.
 */
export function writable(file: string, busyTimeoutMs: number): HonkerDatabase {
  withReadOnly(file, () => undefined);
  const problem = writeProblem(file);
  if (problem) {
    const who = problem.kind === 'read-only' ? 'no user can write it there' : 'run as a user who can write it';
    throw new CliError(`${problem.message}; ${who}, or use a read-only command (stats, jobs, dead, schedule list)`);
  }
  // A name starting with "file:" would be read as a URI by a process that turned URIs on.
  return open(file.startsWith('file:') ? path.resolve(file) : file, { busyTimeoutMs });
}

/** fn on the client opened for writing (see writable), closed after. */
export function withWritable<T>(file: string, busyTimeoutMs: number, fn: (db: HonkerDatabase) => T): T {
  const db = writable(file, busyTimeoutMs);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export type QueueStatsRow = QueueStatsRecord;

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
  return knownQueueIn(queuesStats(raw), queue);
}

/** knownQueue on rows already read (honker_queues_stats of either engine). */
export function knownQueueIn(all: QueueStatsRow[], queue: string): QueueStatsRow {
  const row = all.find((r) => r.queue === queue);
  if (!row) {
    const names = all.map((r) => r.queue);
    const list = names.length ? `; queues: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}` : '; the database has no queue';
    throw new CliError(`unknown queue '${queue}' (no live or dead job${list})`);
  }
  return row;
}
