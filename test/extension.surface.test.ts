/**
 * The extension's public surface: the SQL functions it registers, the
 * symbols the library exports, and how it loads (spec/sql.md "Loading").
 */
import test from './helpers/test.js';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { extPath, extStem, freshDb, openDb, python, repoRoot, sqliteCli, tempDbPath, thrown } from './helpers/db.js';
import { testIf } from './helpers/test-if.js';

const expectedSurface = readFileSync(path.join(repoRoot, 'test', 'extension.surface.txt'), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'));

/** SQLite's function flags (sqlite3.h) that extension.surface.txt records, by name. */
const FUNCTION_FLAGS: [string, number][] = [
  ['deterministic', 0x800], // SQLITE_DETERMINISTIC
  ['innocuous', 0x200000], // SQLITE_INNOCUOUS
  ['directonly', 0x80000], // SQLITE_DIRECTONLY
];

/** "name/arity flags", as extension.surface.txt spells a row of pragma_function_list. */
function surfaceLine(row: { name: string; narg: number; flags: number }): string {
  const known = FUNCTION_FLAGS.reduce((m, [, bit]) => m | bit, 0);
  const words = FUNCTION_FLAGS.filter(([, bit]) => row.flags & bit).map(([word]) => word);
  // Any other bit (SQLITE_SUBTYPE, ...) shows up in hex, so it cannot slip in unnoticed.
  if (row.flags & ~known) words.push(`0x${(row.flags & ~known).toString(16)}`);
  return `${row.name}/${row.narg} ${words.length ? words.join(',') : '-'}`;
}

test('extension.surface: registers exactly the functions and flags of extension.surface.txt', (t) => {
  const { db } = freshDb(t);
  const rows = db
    .prepare(
      `SELECT DISTINCT name, narg, flags FROM pragma_function_list
       WHERE name LIKE 'honker\\_%' ESCAPE '\\' OR name = 'notify'`,
    )
    .all() as { name: string; narg: number; flags: number }[];
  t.deepEqual(rows.map(surfaceLine).sort(), [...expectedSurface].sort());
});

test('extension.surface: watcher functions are refused in a trigger or a view, honker_enqueue runs in a trigger', (t) => {
  const { db } = freshDb(t);
  db.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER);
    CREATE TABLE audit (id INTEGER PRIMARY KEY);
    CREATE TRIGGER orders_outbox AFTER INSERT ON orders BEGIN
      SELECT honker_enqueue('orders', json_object('id', new.id), NULL, NULL, 0, 3, NULL);
    END;
    CREATE TRIGGER audit_watch AFTER INSERT ON audit BEGIN
      SELECT honker_update_watcher_close(1);
    END;
    CREATE VIEW watch AS SELECT honker_update_watcher_open('/nonexistent.db', NULL) AS id;`);
  // SQLITE_DIRECTONLY: the watcher starts threads and blocks, so schema code may not call it.
  t.is(thrown(t, () => db.exec('INSERT INTO audit VALUES (1)')).message, 'unsafe use of honker_update_watcher_close()');
  t.is(thrown(t, () => db.prepare('SELECT id FROM watch').get()).message, 'unsafe use of honker_update_watcher_open()');
  t.is(db.prepare('SELECT count(*) FROM audit').pluck().get(), 0);
  // Called directly, the same function runs (an unknown handle closes as a no-op).
  t.is(db.prepare('SELECT honker_update_watcher_close(1)').pluck().get(), 1);
  // The queue writers are not direct-only: the trigger enqueues.
  db.prepare('INSERT INTO orders (total) VALUES (?)').run(5);
  t.is(db.prepare("SELECT payload FROM _honker_live WHERE queue = 'orders'").pluck().get(), '{"id":1}');
});

test('extension.surface: the library exports only the entry point and the watcher C ABI', (t) => {
  const nm = spawnSync('nm', ['-D', '--defined-only', extPath], { encoding: 'utf8' });
  t.is(nm.status, 0, nm.stderr);
  const exported = nm.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((cols) => cols.length === 3 && /[TDB]/.test(cols[1]) && !cols[2].startsWith('_'))
    .map((cols) => cols[2])
    .filter((name) => !name.startsWith('__'))
    .sort();
  t.deepEqual(exported, [
    'honker_watcher_close',
    'honker_watcher_open',
    'honker_watcher_open_v2',
    'honker_watcher_wait',
    'sqlite3_honkerext_init',
  ]);
});

test('extension.load: loads by its stem with no entry point argument (sqlite3 CLI 3.40)', (t) => {
  const file = tempDbPath(t);
  const r = sqliteCli(file, 'SELECT honker_bootstrap();');
  t.is(r.stderr, '');
  t.is(r.stdout.trim(), '1');
});

test('extension.load: loads into Python stdlib sqlite3 via load_extension', (t) => {
  const file = tempDbPath(t);
  const r = python(
    file,
    `import sqlite3, os
c = sqlite3.connect(os.environ['DB'])
c.enable_load_extension(True)
c.load_extension(os.environ['EXT'])
print(c.execute('select honker_bootstrap()').fetchone()[0], c.in_transaction)
c.close()`,
  );
  t.is(r.stderr, '');
  t.is(r.stdout.trim(), '1 False');
});

test('extension.load: loading on a read-only database succeeds and opens no transaction', (t) => {
  const file = tempDbPath(t);
  openDb(file).close(); // bootstrapped by a writer first
  const ro = new Database(file, { readonly: true });
  t.teardown(() => ro.close());
  ro.loadExtension(extPath);
  t.false(ro.inTransaction);
  // An already bootstrapped file needs no write, so bootstrap works read-only too.
  t.is(ro.prepare('SELECT honker_bootstrap()').pluck().get(), 1);
  t.false(ro.inTransaction);
});

test('extension.load: a never-bootstrapped read-only file gives a clear bootstrap error', (t) => {
  const file = tempDbPath(t);
  new Database(file).exec('CREATE TABLE t(x)');
  const ro = new Database(file, { readonly: true });
  t.teardown(() => ro.close());
  ro.loadExtension(extPath);
  const err = thrown(t, () => ro.prepare('SELECT honker_bootstrap()').get());
  t.is(err.message, 'honker_bootstrap: attempt to write a readonly database');
  t.is(err.code, 'SQLITE_READONLY');
});

test('extension.load: a connection with cached statements still closes with sqlite3_close', (t) => {
  const file = tempDbPath(t);
  const db = openDb(file);
  db.prepare('SELECT honker_bootstrap()').get();
  // better-sqlite3 uses sqlite3_close (not _v2): it would throw if our cache kept statements open.
  t.notThrows(() => db.close());
});

test('extension.load: loading twice into one connection is harmless', (t) => {
  const { db } = freshDb(t);
  db.loadExtension(extStem);
  t.is(db.prepare('SELECT honker_bootstrap()').pluck().get(), 1);
});

test('database.bootstrap: concurrent bootstraps from several processes all succeed', async (t) => {
  const file = tempDbPath(t);
  const code = `import sqlite3, os, sys
c = sqlite3.connect(os.environ['DB'], timeout=10)
c.enable_load_extension(True)
c.load_extension(os.environ['EXT'])
print(c.execute('select honker_bootstrap()').fetchone()[0])`;
  const { spawn } = await import('node:child_process');
  const runs = Array.from({ length: 6 }, () =>
    new Promise<string>((resolve) => {
      const p = spawn('/usr/bin/python3', ['-c', code], { env: { ...process.env, DB: file, EXT: extStem } });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.on('close', () => resolve(out.trim()));
    }),
  );
  const outs = await Promise.all(runs);
  t.deepEqual(outs, ['1', '1', '1', '1', '1', '1']);
});

test('database.bootstrap: migrates an honker 0.4 database that lacks the newer columns', (t) => {
  const file = tempDbPath(t);
  const old = new Database(file);
  old.exec(`CREATE TABLE _honker_scheduler_tasks (name TEXT PRIMARY KEY, queue TEXT NOT NULL,
    cron_expr TEXT NOT NULL, payload TEXT NOT NULL, priority INTEGER NOT NULL DEFAULT 0,
    expires_s INTEGER, next_fire_at INTEGER NOT NULL);
    INSERT INTO _honker_scheduler_tasks VALUES ('t', 'q', '@every 60s', '{}', 0, NULL, 100);`);
  old.close();
  const db = openDb(file);
  t.teardown(() => db.close());
  const cols = db.prepare("SELECT name FROM pragma_table_info('_honker_scheduler_tasks')").pluck().all();
  t.deepEqual(cols.slice(-2), ['enabled', 'max_attempts']);
  t.deepEqual(db.prepare('SELECT enabled, max_attempts FROM _honker_scheduler_tasks').get(), {
    enabled: 1,
    max_attempts: 3,
  });
});

test('build.sources: binding.gyp and CMakeLists.txt both find every ext/*.c', (t) => {
  const gyp = readFileSync(path.join(repoRoot, 'binding.gyp'), 'utf8');
  const cmake = readFileSync(path.join(repoRoot, 'CMakeLists.txt'), 'utf8');
  // Both list the directory rather than naming files, so no source can be left out of one build.
  t.regex(gyp, /readdirSync\('ext'\)\.filter\(f => f\.endsWith\('\.c'\)\)/);
  t.regex(cmake, /file\(GLOB HONKER_SOURCES CONFIGURE_DEPENDS \$\{CMAKE_CURRENT_SOURCE_DIR\}\/ext\/\*\.c\)/);
});

// And the node-gyp build really compiled each of them.
const objDir = path.join(repoRoot, 'build', 'Release', 'obj.target', 'honker_ext', 'ext');
testIf(existsSync(objDir), 'built by CMake only (e.g. sanitizer run)')('build.sources: the node-gyp build compiled every ext/*.c', (t) => {
  const sources = readdirSync(path.join(repoRoot, 'ext')).filter((f) => f.endsWith('.c'));
  const objects = readdirSync(objDir).filter((f) => f.endsWith('.o'));
  t.deepEqual(objects.map((o) => o.replace(/\.o$/, '.c')).sort(), sources.sort());
});
