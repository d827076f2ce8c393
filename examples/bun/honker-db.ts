// Open app.db the honker way: shared by producer.ts and worker.ts.
import { Database } from 'bun:sqlite';

/** $HONKER_EXT_PATH, else ask the npm package where its library is. */
export function extensionPath(): string {
  if (process.env.HONKER_EXT_PATH) return process.env.HONKER_EXT_PATH;
  const r = Bun.spawnSync(['npx', 'honker', 'extension-path']);
  if (!r.success) throw new Error(`npx honker extension-path failed: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

export function connect(path: string): Database {
  const db = new Database(path, { create: true, strict: true }); // strict: plain ? and $name binding
  db.exec('PRAGMA busy_timeout = 5000'); // wait for the write lock instead of failing at once
  db.exec('PRAGMA journal_mode = WAL'); // readers never block the writer
  db.loadExtension(extensionPath()); // Linux: Bun's own SQLite loads extensions (macOS: see README)
  db.query('SELECT honker_bootstrap()').get(); // honker's tables, once; cheap after that
  db.exec('CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)');
  return db;
}

/** The first column of the first row. */
export function one<T>(db: Database, sql: string, ...args: Array<string | number>): T {
  return db.query(sql).values(...args)[0][0] as T;
}
