/**
 * `honker migrate <file> <postgres-url>`: copy a honker SQLite file into a
 * Postgres database, so an app moves to Postgres with its work in flight.
 *
 * What is copied, ids kept: live jobs (state, attempts, run_at, priority,
 * expiry, unique key, claim), dead letters with their error, each attempt's
 * error, schedules (with their next boundary and paused state), streams with
 * their consumers' offsets, results and the dashboard's history (per queue
 * and minute). Not copied: notifications (a listener of the old file has
 * nothing to resume on the new database), locks, rate-limit windows and the
 * worker registry.
 *
 * This is a copy of storage, not of behaviour, so it reads and writes the
 * tables themselves (the one place in src/ that names them): the SQL surface
 * has no call that writes a job's attempts or a claim as they are. The file is
 * read in one snapshot (open.ts's withReadSnapshot: a read-only connection,
 * nothing written), in pages of BATCH rows by key, so memory stays flat
 * however large the file; the target gets honker installed (openPostgres)
 * and everything in one transaction, so a failed run leaves it as it was.
 *
 * Safety: a target that holds honker rows is refused unless it holds a
 * previous migration of the same file (re-run) or --force is given. A re-run
 * copies nothing twice: a row whose key is already there is skipped and
 * counted as such. Under --force a row keyed by a name already there
 * (schedule, consumer, history minute) is skipped the same way, but a job id
 * or stream offset already there belongs to another job or event: the copy
 * stops and nothing is written (ids are handles; a new id would break them).
 * Identity sequences are moved past every copied id so the next enqueue,
 * publish or dead letter cannot collide. Queues, the scheduler
 * and streams are woken after the commit, so workers already waiting on
 * Postgres start at once.
 */
import path from 'node:path';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { out, parse, type Command } from './args.js';
import { CliError, UsageError } from './errors.js';
import * as fmt from './format.js';
import { withReadSnapshot } from './open.js';
import { isUrl, redact } from './target.js';

type Row = Record<string, unknown>;

/**
 * A copied table: its name on both engines, its key (read in that order; rows whose key exists
 * are skipped) and its columns; `constants` are columns only the Postgres table has, with the
 * value every copied row gets (then `conflict` is the Postgres key).
 */
interface Table {
  name: string;
  label: string;
  key: string[];
  columns: string[];
  constants?: Record<string, number>;
  conflict?: string[];
  /** Keyed by a handle the app holds (job ids, stream offsets): a row whose key is taken by another row cannot be copied. */
  ids?: 'job ids' | 'offsets';
}

const TABLES: Table[] = [
  {
    name: '_honker_live',
    label: 'live jobs',
    key: ['id'],
    ids: 'job ids',
    columns: ['id', 'queue', 'payload', 'state', 'priority', 'run_at', 'worker_id', 'claim_expires_at', 'attempts', 'max_attempts', 'created_at', 'expires_at', 'unique_key', 'last_error'],
  },
  {
    name: '_honker_dead',
    label: 'dead jobs',
    key: ['id'],
    ids: 'job ids',
    columns: ['id', 'queue', 'payload', 'priority', 'run_at', 'attempts', 'max_attempts', 'last_error', 'created_at', 'died_at'],
  },
  { name: '_honker_job_errors', label: 'attempt errors', key: ['job_id', 'attempt'], columns: ['job_id', 'attempt', 'error', 'created_at'], ids: 'job ids' },
  {
    name: '_honker_scheduler_tasks',
    label: 'schedules',
    key: ['name'],
    columns: ['name', 'queue', 'cron_expr', 'payload', 'priority', 'expires_s', 'next_fire_at', 'enabled', 'max_attempts'],
  },
  { name: '_honker_stream', label: 'stream events', key: ['offset'], columns: ['offset', 'topic', 'key', 'payload', 'created_at'], ids: 'offsets' },
  { name: '_honker_stream_consumers', label: 'stream consumers', key: ['name', 'topic'], columns: ['name', 'topic', 'offset'] },
  { name: '_honker_results', label: 'results', key: ['job_id'], columns: ['job_id', 'value', 'created_at', 'expires_at'], ids: 'job ids' },
  {
    // Postgres shards a queue's minute over rows (pg/history.sql); reads sum them, so one row is the copy.
    name: '_honker_history',
    label: 'history minutes',
    key: ['minute', 'queue'],
    columns: ['minute', 'queue', 'completed', 'failed', 'dead'],
    constants: { shard: 0 },
    conflict: ['minute', 'queue', 'shard'],
  },
];

/** Rows per INSERT statement. */
const BATCH = 1000;
/** _honker_meta key that marks a target as holding a migration of one file. */
const MARK = 'migrated_from';

export const migrate: Command = {
  usage: `usage: honker migrate <db> <postgres-url> [--force] [--json]

Copies a honker SQLite file into a Postgres database (honker is installed
there if missing): live jobs with their state, attempts, run_at, priority,
expiry and unique key; dead jobs with their errors; schedules; streams with
their consumers' offsets; results; the dashboard's history. Ids are kept.
Notifications, locks and rate-limit windows are not copied. Stop the file's
workers first: a job acked on the file after the copy is still live on
Postgres, and a job claimed when copied is taken on Postgres once its
visibility timeout lapses.

A target that already holds honker data is refused unless it holds an
earlier migration of the same file (running again copies only what is new)
or --force is given: then schedules, stream consumers and history minutes
already there are kept as they are, and a job id or stream offset already
used there stops the copy (nothing is written).
Everything is written in one transaction; on a terminal, progress goes to
stderr; the counts per table are printed at the end (--json: as JSON).`,
  async run(args) {
    const p = parse(migrate, args, { force: { type: 'boolean' } }, [2, 2]);
    if (!p) return 0;
    const o = out(p);
    const [file, url] = p.positionals as [string, string];
    if (isUrl(file)) throw new UsageError(`the source must be a SQLite file (got a URL: ${redact(file)})`, true);
    if (!isUrl(url)) throw new UsageError(`the target must be a postgres:// or postgresql:// URL (got '${url}')`, true);
    const source = path.resolve(file);

    const report = await copy(url, file, source, p.values.force === true);
    if (o.json) fmt.writeJson(report);
    else {
      for (const t of TABLES) {
        const r = report.tables[t.label]!;
        fmt.write(`${t.label}: ${r.copied} copied${r.skipped ? `, ${r.skipped} already there` : ''}`);
      }
      fmt.write(`migrated ${source} to ${redact(url)}`);
    }
    return 0;
  },
};

function hasTable(raw: Database.Database, table: string): boolean {
  return raw.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

/** The file's rows of table t in key order, BATCH at a time (keyset pages); a column an older file lacks reads as null. */
function* pages(raw: Database.Database, t: Table): Generator<Row[]> {
  if (!hasTable(raw, t.name)) return;
  const present = new Set(raw.prepare(`SELECT name FROM pragma_table_info('${t.name}')`).pluck().all() as string[]);
  const cols = t.columns.map((c) => (present.has(c) ? `"${c}"` : `NULL AS "${c}"`)).join(', ');
  const keys = t.key.map((k) => `"${k}"`).join(', ');
  const first = raw.prepare(`SELECT ${cols} FROM ${t.name} ORDER BY ${keys} LIMIT ${BATCH}`);
  const after = raw.prepare(`SELECT ${cols} FROM ${t.name} WHERE (${keys}) > (${t.key.map(() => '?').join(', ')}) ORDER BY ${keys} LIMIT ${BATCH}`);
  for (let rows = first.all() as Row[]; rows.length > 0; ) {
    yield rows;
    if (rows.length < BATCH) return;
    const last = rows[rows.length - 1]!;
    rows = after.all(...t.key.map((k) => last[k])) as Row[];
  }
}

function rowCount(raw: Database.Database, t: Table): number {
  return hasTable(raw, t.name) ? (raw.prepare(`SELECT count(*) FROM ${t.name}`).pluck().get() as number) : 0;
}

/** sqlite_sequence: the highest id AUTOINCREMENT ever gave (a deleted job's id is never reused). */
function autoincrement(raw: Database.Database): Map<string, number> {
  if (!hasTable(raw, 'sqlite_sequence')) return new Map();
  const rows = raw.prepare('SELECT name, seq FROM sqlite_sequence').all() as Array<{ name: string; seq: number }>;
  return new Map(rows.map((r) => [r.name, Number(r.seq)]));
}

interface Report {
  source: string;
  tables: Record<string, { copied: number; skipped: number }>;
}

async function copy(url: string, file: string, source: string, force: boolean): Promise<Report> {
  return withReadSnapshot(file, async (raw, unchanged) => {
    const { openPostgres } = await import('../postgres/index.js');
    let db;
    try {
      db = await openPostgres(url); // installs honker when missing
    } catch (err) {
      throw new CliError(`cannot open ${redact(url)}: ${(err as Error).message}`);
    }
    const progress = process.stderr.isTTY === true;
    const report: Report = { source, tables: {} };
    try {
      await db.transaction(async (view) => {
        const tx = view.client!;
        // One migration at a time into a database: a second waits here, then sees the first's rows.
        await tx.query("SELECT pg_advisory_xact_lock(hashtext('honker migrate'))");
        const mark = (await tx.query('SELECT value FROM _honker_meta WHERE key = $1', [MARK])).rows[0]?.value as string | undefined;
        const held: string[] = [];
        for (const t of TABLES) {
          const n = Number((await tx.query(`SELECT count(*) AS n FROM ${t.name}`)).rows[0].n);
          if (n > 0) held.push(`${n} ${t.label}`);
        }
        if (held.length > 0 && mark !== source && !force) {
          const what = held.slice(0, 3).join(', ');
          throw new CliError(
            `${redact(url)} already holds honker data (${what})${mark ? `, migrated from ${mark}` : ''}: give --force to copy into it anyway`,
          );
        }
        // Into other data (--force), a job id or offset already taken is another job's: copying
        // under a new id would break the handles the app holds, skipping it would lose it.
        const rerun = mark === source;
        const queues = new Set<string>();
        for (const t of TABLES) {
          const total = progress ? rowCount(raw, t) : 0; // counted only to show progress
          let read = 0;
          let copied = 0;
          for (const rows of pages(raw, t)) {
            copied += await insert(tx, t, rows);
            read += rows.length;
            if (t.name === '_honker_live') for (const r of rows) queues.add(r.queue as string);
            if (progress) process.stderr.write(`\r${t.label}: ${read}/${total}`);
          }
          if (progress && read > 0) process.stderr.write('\n');
          if (t.ids && !rerun && copied < read) {
            throw new CliError(
              `${read - copied} ${t.label} of ${file} have ${t.ids} already used in ${redact(url)} (ids are kept: they are the handles results and offsets are read by); nothing was copied: migrate into a database with no honker jobs yet, before the app runs there`,
            );
          }
          report.tables[t.label] = { copied, skipped: read - copied };
        }
        await moveSequences(tx, autoincrement(raw));
        unchanged(); // before the commit: a file written meanwhile is not half copied
        await tx.query('INSERT INTO _honker_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [MARK, source]);
        // Woken at commit: workers and schedulers already waiting on this database look now.
        for (const q of queues) await tx.query("SELECT honker_wake('q', $1)", [q]);
        await tx.query("SELECT honker_wake('c', 'schedule')");
      });
    } finally {
      await db.close();
    }
    return report;
  });
}

/** INSERT the rows, skipping those whose key is there; resolves with the number inserted. */
async function insert(tx: pg.ClientBase, t: Table, rows: Row[]): Promise<number> {
  if (rows.length === 0) return 0;
  const cols = t.columns.map((c) => `"${c}"`).join(', ');
  const typed = t.columns.map((c) => `"${c}" ${/^(payload|queue|state|worker_id|unique_key|last_error|error|name|topic|key|cron_expr|value)$/.test(c) ? 'text' : 'bigint'}`).join(', ');
  const json = JSON.stringify(rows.map((r) => Object.fromEntries(t.columns.map((c) => [c, r[c] ?? null]))));
  const constants = Object.entries(t.constants ?? {});
  const into = [cols, ...constants.map(([c]) => `"${c}"`)].join(', ');
  const values = [cols, ...constants.map(([, v]) => String(Number(v)))].join(', ');
  const conflict = (t.conflict ?? t.key).map((k) => `"${k}"`).join(', ');
  const sql = `INSERT INTO ${t.name} (${into}) OVERRIDING SYSTEM VALUE SELECT ${values} FROM json_to_recordset($1::json) AS r(${typed}) ON CONFLICT (${conflict}) DO NOTHING`;
  return (await tx.query(sql, [json])).rowCount ?? 0;
}

/**
 * Move the identity sequences past every id copied: a job id is used by live, dead, results and
 * attempt errors (and SQLite never reuses one, sqlite_sequence); a stream offset by the stream.
 */
async function moveSequences(tx: pg.ClientBase, seq: Map<string, number>): Promise<void> {
  // setval(s, n, n > 0): the next id is n + 1, or 1 when nothing was ever given; never lower than the target's own.
  const move = (table: string, column: string, highest: string, fromFile: number) =>
    tx.query(
      `WITH s AS (SELECT pg_get_serial_sequence('${table}', '${column}') AS seq),
            n AS (SELECT greatest($1::bigint, coalesce(pg_sequence_last_value(seq::regclass), 0), ${highest}) AS v FROM s)
       SELECT setval(seq, greatest(v, 1), v > 0) FROM s, n`,
      [fromFile],
    );
  await move(
    '_honker_live',
    'id',
    `(SELECT max(id) FROM _honker_live), (SELECT max(id) FROM _honker_dead), (SELECT max(job_id) FROM _honker_results), (SELECT max(job_id) FROM _honker_job_errors)`,
    seq.get('_honker_live') ?? 0,
  );
  await move('_honker_stream', 'offset', `(SELECT max("offset") FROM _honker_stream)`, seq.get('_honker_stream') ?? 0);
}
