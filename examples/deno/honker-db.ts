// Open app.db the honker way: shared by producer.ts and worker.ts.
import { DatabaseSync } from 'node:sqlite';

/** $HONKER_EXT_PATH, else ask the npm package where its library is. */
export function extensionPath(): string {
  const fromEnv = Deno.env.get('HONKER_EXT_PATH');
  if (fromEnv) return fromEnv;
  const r = new Deno.Command('npx', { args: ['honker', 'extension-path'] }).outputSync();
  if (!r.success) throw new Error(`npx honker extension-path failed: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout).trim();
}

export function connect(path: string): DatabaseSync {
  // allowExtension: loadExtension() is refused without it (and Deno needs --allow-ffi).
  const db = new DatabaseSync(path, { allowExtension: true });
  db.exec('PRAGMA busy_timeout = 5000'); // wait for the write lock instead of failing at once
  db.exec('PRAGMA journal_mode = WAL'); // readers never block the writer
  db.loadExtension(extensionPath());
  db.prepare('SELECT honker_bootstrap()').get(); // honker's tables, once; cheap after that
  db.exec('CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)');
  return db;
}

/** The first column of the first row. */
export function one<T>(db: DatabaseSync, sql: string, ...args: Array<string | number>): T {
  return Object.values(db.prepare(sql).get(...args)!)[0] as T;
}
