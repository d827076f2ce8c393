/**
 * Installing honker's SQL surface into a Postgres database: the files of
 * pg/ in the order pg/install.sql gives (its `\ir` lines; its other lines are
 * SQL run at that point, e.g. `SELECT honker_bootstrap();`), read at run time
 * from the package (they ship in it: package.json "files").
 *
 * install(client) on a current database is one read: honker_install_version()
 * returns the SHA-256 of the text installed, and an equal one means nothing
 * to do but `SELECT honker_bootstrap()` (a read when the schema is current).
 * Otherwise, inside one transaction under an advisory lock (concurrent
 * installers wait, then find it current), it runs the whole text and records
 * the new version. Functions are created in the first schema of the
 * session's search_path (normally public).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type pg from 'pg';

/** The pg/ directory of this package (src/postgres or dist/postgres are two levels below the root). */
export const PG_SQL_DIR = new URL('../../pg/', import.meta.url);

let script: { text: string; version: string } | undefined;

/** The install text (pg/install.sql with its includes inlined) and its version (a hash of it). */
export function installScript(): { text: string; version: string } {
  if (script) return script;
  const order = readFileSync(new URL('install.sql', PG_SQL_DIR), 'utf8');
  const parts: string[] = [];
  for (const line of order.split('\n')) {
    const include = /^\\ir\s+(\S+)\s*$/.exec(line);
    if (include) parts.push(readFileSync(new URL(include[1]!, PG_SQL_DIR), 'utf8'));
    else if (line.trim() && !line.startsWith('--')) parts.push(line);
  }
  const body = parts.join('\n');
  const version = createHash('sha256').update(body).digest('hex').slice(0, 32);
  const text = `${body}\nCREATE OR REPLACE FUNCTION honker_install_version() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '${version}'::text $$;\n`;
  script = { text, version };
  return script;
}

async function installedVersion(client: pg.ClientBase): Promise<string | null> {
  const r = await client.query<{ v: string | null }>(
    "SELECT CASE WHEN to_regprocedure('honker_install_version()') IS NULL THEN NULL ELSE 'x' END AS v",
  );
  if (r.rows[0]?.v === null) return null;
  return (await client.query<{ v: string }>('SELECT honker_install_version() AS v')).rows[0]!.v;
}

/** Whether honker's tables and functions are in the database (any version). */
export async function isInstalled(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>("SELECT to_regclass('_honker_live') IS NOT NULL AND to_regproc('honker_bootstrap') IS NOT NULL AS ok");
  return r.rows[0]!.ok;
}

/** Install or upgrade the functions and bootstrap the tables (see the file header). */
export async function install(client: pg.ClientBase): Promise<void> {
  const { text, version } = installScript();
  if ((await installedVersion(client)) === version) {
    await client.query('SELECT honker_bootstrap()');
    return;
  }
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(1752198763, 1)');
    if ((await installedVersion(client)) !== version) await client.query(text);
    else await client.query('SELECT honker_bootstrap()');
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
