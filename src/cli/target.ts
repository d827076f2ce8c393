/**
 * A command's database: a SQLite file, or a postgres:// URL (the Postgres
 * client is imported only then, so `pg` loads only for Postgres users).
 *
 *   readValues(target, [['honker_queues_stats', []], ['now', []]])
 *     the results of these SQL calls, read in one go: on a file through
 *     open.ts's read-only connection (nothing created or written); on
 *     Postgres after checking the database has honker's tables (a
 *     database without them is "not a honker database", never installed into),
 *     with its functions as installed (never upgraded: openPostgres install: false);
 *   withTarget(target, busyMs, async (db) => …)
 *     the client of either engine (open() or openPostgres()), closed after;
 *     the SQLite file is checked as open.ts's writable() checks it.
 * Commands then use the names both clients share, awaiting every call.
 */
import type { HonkerDatabase } from '../database.js';
import { CliError } from './errors.js';
import { withReadOnly, writable } from './open.js';
import { isPostgresUrl } from '../validate.js';

/** A postgres:// or postgresql:// URL (validate.ts: no import of the Postgres client needed to tell). */
export const isUrl = isPostgresUrl;

/** One SQL function call: its name and arguments ('now' is the database's clock in unix seconds). */
export type Call = [fn: string, args: unknown[]];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PgDb = any;

/** install false: never install or upgrade honker's functions (read-only commands). */
async function openPg(url: string, mustHaveTables: boolean, install = true): Promise<PgDb> {
  const { openPostgres } = await import('../postgres/index.js');
  if (mustHaveTables) {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      const { isInstalled } = await import('../postgres/install.js');
      if (!(await isInstalled(c))) throw new CliError(`${redact(url)}: not a honker database (it has no _honker_live table)`);
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`cannot read ${redact(url)}: ${(err as Error).message}`);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  try {
    return await openPostgres(url, { install });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** Either client, used through the names both share. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTargetDb = any;

/**
 * The Postgres client of url (a honker database: checked first); the caller
 * closes it. readOnly: honker's functions are used as installed, never upgraded.
 */
export function openTarget(url: string, options: { readOnly?: boolean } = {}): Promise<AnyTargetDb> {
  return openPg(url, true, !options.readOnly);
}

/** The results of calls, in order (see the header). */
export async function readValues(target: string, calls: Call[]): Promise<unknown[]> {
  if (!isUrl(target)) {
    return withReadOnly(target, (raw) =>
      calls.map(([fn, args]) =>
        fn === 'now' ? raw.prepare('SELECT unixepoch()').pluck().get() : raw.prepare(`SELECT ${fn}(${args.map(() => '?').join(', ')})`).pluck().get(...args),
      ),
    );
  }
  const db = await openPg(target, true, false);
  try {
    const out: unknown[] = [];
    for (const [fn, args] of calls) {
      const sql = fn === 'now' ? 'SELECT honker_now() AS v' : `SELECT ${fn}(${args.map((_, i) => `$${i + 1}`).join(', ')}) AS v`;
      const v = await db.value(sql, args);
      out.push(typeof v === 'string' && /^-?\d+$/.test(v) && fn !== 'honker_result_get' ? Number(v) : v);
    }
    return out;
  } finally {
    await db.close();
  }
}

/** fn on the client of either engine, closed after (see the header). */
export async function withTarget<T>(target: string, busyTimeoutMs: number, fn: (db: HonkerDatabase | PgDb) => Promise<T> | T): Promise<T> {
  const db = isUrl(target) ? await openPg(target, true) : writable(target, busyTimeoutMs);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
