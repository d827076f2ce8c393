/**
 * The Postgres install has every function of the SQLite extension's surface
 * (test/extension.surface.txt, name and arity: a PL/pgSQL default argument
 * covers the shorter arity), except the ones listed here with the reason.
 * A function added to the extension fails this test until it is ported or
 * listed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { installScript } from '../../src/postgres/install.js';
import { repoRoot } from '../helpers/db.js';
import { pgTest, usePg } from '../helpers/pg.js';

const harness = usePg();

/** SQLite-only functions and why they are not on Postgres. */
const SQLITE_ONLY: Record<string, string> = {
  'honker_update_watcher_open/2': 'the watcher watches the SQLite file; Postgres wakes through LISTEN (src/postgres/watcher.ts)',
  'honker_update_watcher_open/3': 'the same',
  'honker_update_watcher_close/1': 'the same',
  'honker_update_watcher_wait/2': 'the same',
  'honker_wal_autocheckpoint/1': 'the WAL hook that signals commits to file watchers (ext/commit_signal.c); Postgres has no WAL hook to set, and commits notify through pg_notify',
};

pgTest('surface: every function of the SQLite extension exists on Postgres with its arity, but the listed SQLite-only ones', async (t) => {
  const surface = readFileSync(path.join(repoRoot, 'test', 'extension.surface.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split(/\s+/)[0]!);
  const c = new pg.Client({ connectionString: await harness.database(t) });
  await c.connect();
  t.teardown(() => c.end());
  await c.query(installScript().text);
  const procs = (
    await c.query<{ name: string; nargs: number; ndefaults: number }>(
      "SELECT proname AS name, pronargs AS nargs, pronargdefaults AS ndefaults FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
    )
  ).rows;
  const has = (fn: string): boolean => {
    const [name, arity] = fn.split('/') as [string, string];
    return procs.some((p) => p.name === name && p.nargs - p.ndefaults <= Number(arity) && Number(arity) <= p.nargs);
  };
  t.deepEqual(surface.filter((fn) => !has(fn) && !(fn in SQLITE_ONLY)), [], 'missing on Postgres');
  t.deepEqual(Object.keys(SQLITE_ONLY).filter((fn) => has(fn) || !surface.includes(fn)), [], 'listed as SQLite-only but on Postgres, or gone from the surface');
});
