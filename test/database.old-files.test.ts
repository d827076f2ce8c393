/**
 * A file of honker 0.4 that our bootstrap never ran on (ext/schema.c "Old
 * files"): every function works on it. Functions that write through
 * honker_write_begin migrate the file inside their own write; functions that
 * only read never write and answer from honker 0.4's columns; on a read-only
 * file honker_bootstrap() answers 1, as honker 0.4's does.
 *
 * The file is made with honker 0.4's DDL and plain SQL (test/helpers/honker04.ts),
 * so these tests need no honker 0.4 library; test/compat.honker04.test.ts runs
 * the same checks against files written by the real one.
 */
import test from './helpers/test.js';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineChild, owned } from './helpers/child.js';
import { extPath, repoRoot, scalar, systemPython, tempDbPath, thrown, type Db } from './helpers/db.js';
import { create04File, schemaOf } from './helpers/honker04.js';
import type { ExecutionContext } from './helpers/test.js';

/** Jobs in every state, as honker 0.4 leaves them (ids 1-4 live, 10 dead; worker 'w' holds 2). */
const SEED = `
INSERT INTO _honker_live (id, queue, payload, state, run_at, worker_id, claim_expires_at, attempts, expires_at) VALUES
  (1, 'q', '{"n":1}', 'pending', unixepoch() - 5, NULL, NULL, 0, NULL),
  (2, 'q', '{"n":2}', 'processing', unixepoch() - 5, 'w', unixepoch() + 600, 1, NULL),
  (3, 'q', '{"n":3}', 'pending', unixepoch() + 600, NULL, NULL, 0, NULL),
  (4, 'q', '{"n":4}', 'pending', unixepoch() - 5, NULL, NULL, 0, unixepoch() - 1);
INSERT INTO _honker_dead (id, queue, payload, attempts, max_attempts, last_error, died_at)
  VALUES (10, 'q', '{"n":10}', 3, 3, 'boom', unixepoch() - 100);
INSERT INTO _honker_scheduler_tasks (name, queue, cron_expr, payload, next_fire_at)
  VALUES ('t', 'q', '* * * * *', '{}', unixepoch() - 30);
INSERT INTO _honker_stream (topic, key, payload) VALUES ('topic', NULL, 'event');
INSERT INTO _honker_results (job_id, value) VALUES (7, 'result');
`;

/** A seeded file of honker 0.4; returns its path. */
function old04File(t: ExecutionContext): string {
  const file = tempDbPath(t);
  create04File(file);
  const db = new Database(file);
  db.exec(SEED);
  db.close();
  return file;
}

/** A connection with our extension loaded and no bootstrap run (closed after the test). */
function connect(t: ExecutionContext, file: string, opts: Database.Options = {}): Db {
  const db = new Database(file, opts);
  db.pragma('busy_timeout = 5000');
  db.loadExtension(extPath);
  t.teardown(() => db.open && db.close());
  return db;
}

/** Our schema version in file, or undefined when it has none of ours (not migrated). */
function ourVersion(db: Db): string | undefined {
  const meta = scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = '_honker_meta'");
  return meta ? scalar<string>(db, "SELECT value FROM _honker_meta WHERE key = 'schema_version'") : undefined;
}

const json = (v: unknown): unknown => JSON.parse(v as string);

/** How many of the indexes schema 4 drops (honker 0.4's two of pending rows) file has. */
const DROPPED_INDEXES_SQL =
  "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('_honker_live_claim', '_honker_live_pending_deadline')";

/**
 * One call per function of test/extension.surface.txt, on a fresh seeded file:
 *   reader   never writes: same answer on a read-only connection, file left as it was;
 *   migrates writes through honker_write_begin: the file is migrated by the call;
 *   writes   a single statement on honker 0.4's columns: works, migration not needed;
 *   file     touches no table.
 */
type Kind = 'reader' | 'migrates' | 'writes' | 'file';
const CASES: [sql: string, kind: Kind, check: (v: unknown, db: Db) => boolean][] = [
  ["honker_ack(2, 'w')", 'migrates', (v) => v === 1],
  ["honker_ack_batch('[2]', 'w')", 'migrates', (v) => v === 1],
  ["honker_retry(2, 'w', 0, 'e')", 'migrates', (v, db) => v === 1 && (json(scalar(db, 'SELECT honker_get_job(2)')) as { last_error: string }).last_error === 'e'],
  ["honker_fail(2, 'w', 'e')", 'migrates', (v, db) => v === 1 && (json(scalar(db, 'SELECT honker_dead_get(2)')) as { last_error: string }).last_error === 'e'],
  ['honker_cancel(1)', 'migrates', (v) => v === 1],
  ["honker_dead_purge('q', 0)", 'migrates', (v) => v === 1],
  ['honker_dead_requeue(10)', 'migrates', (v, db) => v === 1 && (json(scalar(db, 'SELECT honker_get_job(10)')) as { last_error: string }).last_error === 'boom'],
  ["honker_enqueue_unique('q', 'k', '{}', NULL, NULL, 0, 3, NULL)", 'migrates', (v, db) => v === 5 && scalar(db, "SELECT honker_enqueue_unique('q', 'k', '{}', NULL, NULL, 0, 3, NULL)") === 5],
  ["honker_claim_batch('q', 'w2', 10, 60)", 'migrates', (v) => (json(v) as { id: number }[]).map((j) => j.id).join() === '1'],
  ["honker_sweep_expired('q')", 'migrates', (v) => v === 1],
  ['honker_scheduler_tick(unixepoch())', 'migrates', (v) => (json(v) as { name: string }[])[0]?.name === 't'],
  ["honker_scheduler_resume('t')", 'migrates', (v) => v === 0],
  ["honker_lock_acquire('l', 'o', 60)", 'migrates', (v) => v === 1],
  ["honker_lock_renew('l', 'o', 60)", 'migrates', (v) => v === 0],
  ["honker_lock_release('l', 'o')", 'writes', (v) => v === 0],
  ["notify('c', 'p')", 'writes', (v) => v === 1],
  ['honker_notify_prune(0, NULL)', 'migrates', (v) => v === 0],
  ["honker_worker_register('w9')", 'migrates', (v, db) => v === 0 && scalar(db, "SELECT honker_worker_unregister('w9')") === 1],
  ["honker_worker_unregister('nobody')", 'reader', (v) => v === 0],
  ['honker_workers_rescue()', 'reader', (v) => v === 0],
  ['honker_workers()', 'reader', (v) => v === '[]'],
  ['honker_bootstrap()', 'migrates', (v) => v === 1],
  ["honker_enqueue('q', '{}', NULL, NULL, 0, 3, NULL)", 'writes', (v) => v === 5],
  ["honker_heartbeat(2, 'w', 60)", 'writes', (v) => v === 1],
  ["honker_release(2, 'w')", 'writes', (v) => v === 1],
  ["honker_scheduler_register('t2', 'q', '@daily', '{}', 0, NULL)", 'writes', (v) => v === 1],
  ["honker_scheduler_register('t2', 'q', '@daily', '{}', 0, NULL, 5)", 'writes', (v) => v === 1],
  ["honker_scheduler_update('t', '@hourly', NULL, NULL, NULL, 0)", 'writes', (v) => v === 1],
  ["honker_scheduler_update('t', NULL, NULL, 3, NULL, 0, 4, 1)", 'writes', (v) => v === 1],
  ["honker_scheduler_pause('t')", 'writes', (v) => v === 1],
  ["honker_scheduler_unregister('t')", 'writes', (v) => v === 1],
  ["honker_stream_publish('topic', NULL, 'e2')", 'writes', (v) => v === 2],
  ["honker_stream_save_offset('c', 'topic', 1)", 'writes', (v) => v === 1],
  ["honker_result_save(8, 'v', 0)", 'writes', (v) => v === 1],
  ['honker_result_sweep()', 'writes', (v) => v === 0],
  ["honker_rate_limit_try('r', 5, 60)", 'writes', (v) => v === 1],
  ['honker_rate_limit_sweep(0)', 'writes', (v) => v === 0],
  ['honker_get_job(2)', 'reader', (v) => (json(v) as { worker_id: string; last_error: null }).worker_id === 'w' && (json(v) as { last_error: null }).last_error === null],
  ["honker_job_list('q', NULL, 10)", 'reader', (v) => (json(v) as { id: number }[]).map((j) => j.id).join() === '1,2,3,4'],
  ["honker_job_list('q', 'pending', 10)", 'reader', (v) => (json(v) as { id: number }[]).map((j) => j.id).join() === '1,4'],
  ["honker_job_list('q', 'scheduled', 10)", 'reader', (v) => (json(v) as { id: number }[]).map((j) => j.id).join() === '3'],
  ["honker_job_list('q', 'processing', 10)", 'reader', (v) => (json(v) as { id: number; last_error: null }[]).map((j) => `${j.id}:${j.last_error}`).join() === '2:null'],
  ["honker_job_list('q', 'dead', 10)", 'reader', (v) => (json(v) as { id: number }[]).map((j) => j.id).join() === '10'],
  ["honker_queue_stats('q')", 'reader', (v) => v === '{"pending":2,"scheduled":1,"processing":1,"dead":1}'],
  ['honker_queues_stats()', 'reader', (v) => (json(v) as { queue: string; dead: number }[]).map((q) => `${q.queue}:${q.dead}`).join() === 'q:1'],
  ["honker_dead_list('q', 5)", 'reader', (v) => (json(v) as { id: number }[]).map((j) => j.id).join() === '10'],
  ['honker_dead_get(10)', 'reader', (v) => (json(v) as { last_error: string }).last_error === 'boom'],
  ["honker_queue_next_claim_at('q')", 'reader', (v) => typeof v === 'number' && v > 0],
  ['honker_scheduler_list()', 'reader', (v) => (json(v) as { name: string }[]).map((s) => s.name).join() === 't'],
  ['honker_scheduler_soonest()', 'reader', (v) => typeof v === 'number' && v > 0],
  ["honker_stream_read_since('topic', 0, 10)", 'reader', (v) => (json(v) as { payload: string }[])[0]?.payload === 'event'],
  ["honker_stream_get_offset('c', 'topic')", 'reader', (v) => v === 0],
  ['honker_result_get(7)', 'reader', (v) => v === 'result'],
  ["honker_job_list('q', NULL, 10, 1)", 'reader', (v) => (json(v) as { id: number }[]).map((j) => j.id).join() === '2,3,4'],
  ['honker_job_errors(10)', 'reader', (v) => v === '[]'],
  ["honker_history('q', 0)", 'reader', (v) => v === '[]'],
  ['honker_run_now(3)', 'writes', (v, db) => v === 1 && (json(scalar(db, "SELECT honker_job_list('q', 'scheduled', 10)")) as unknown[]).length === 0],
  ['honker_streams()', 'reader', (v) => (json(v) as { topic: string }[]).map((s) => s.topic).join() === 'topic'],
  ['honker_stream_consumers()', 'reader', (v) => v === '[]'],
  ['honker_notify_channels()', 'reader', (v) => v === '[]'],
  ["honker_notify_recent('c', 5)", 'reader', (v) => v === '[]'],
  ['honker_notify_last_id()', 'reader', (v) => v === 0],
  ["honker_notify_read_since('c', 0, 10)", 'reader', (v) => v === '[]'],
  ["honker_cron_next_after('@daily', 0)", 'file', (v) => typeof v === 'number'],
  ["honker_cron_error('@daily')", 'file', (v) => v === null],
  ["honker_update_watcher_close(honker_update_watcher_open(?, 'polling'))", 'file', (v) => v === 1],
  ["honker_update_watcher_close(honker_update_watcher_open(?, 'polling', 5))", 'file', (v) => v === 1],
  ["honker_update_watcher_wait(0, 0)", 'file', (v) => v === -1],
  ['honker_wal_autocheckpoint(1000)', 'file', (v) => v === 1000],
];

/** "name/arity" of every honker call in sql, nested ones too. */
function calls(sql: string): string[] {
  return [...sql.matchAll(/\b(honker_\w+|notify)\(/g)].map((m) => {
    let depth = 0;
    let commas = 0;
    let empty = true;
    for (let i = m.index! + m[0].length; i < sql.length; i++) {
      const ch = sql[i]!;
      if (ch === ')' && depth === 0) break;
      if (ch.trim()) empty = false;
      if (ch === "'") i = sql.indexOf("'", i + 1);
      else if (ch === '(') depth++;
      else if (ch === ')') depth--;
      else if (ch === ',' && depth === 0) commas++;
    }
    return `${m[1]}/${empty ? 0 : commas + 1}`;
  });
}

test('database.oldFile: the cases call every SQL function of extension.surface.txt', (t) => {
  const surface = readFileSync(path.join(repoRoot, 'test', 'extension.surface.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(' ')[0]!);
  const covered = new Set(CASES.flatMap(([sql]) => calls(sql)));
  t.deepEqual(surface.filter((f) => !covered.has(f)), []);
});

for (const [sql, kind, check] of CASES) {
  test(`database.oldFile: ${sql} works on an un-migrated honker 0.4 file (${kind})`, (t) => {
    const file = old04File(t);
    const before = schemaOf(file);
    const db = connect(t, file);
    const value = db.prepare(`SELECT ${sql}`).pluck().get(...(sql.includes('?') ? [file] : []));
    t.true(check(value, db), `got ${JSON.stringify(value)}`);
    if (kind === 'migrates') t.is(ourVersion(db), '4', 'the write migrated the file');
    if (kind === 'reader' || kind === 'file') t.deepEqual(schemaOf(file), before, 'a reader leaves the schema as it was');
  });
}

test('database.oldFile: on a read-only connection bootstrap answers 1, readers answer, writers fail, the file is left as it was', (t) => {
  const file = old04File(t);
  const before = schemaOf(file);
  const rw = connect(t, file);
  const answers = new Map(CASES.filter(([, kind]) => kind === 'reader').map(([sql]) => [sql, rw.prepare(`SELECT ${sql}`).pluck().get()]));
  rw.close();
  const ro = connect(t, file, { readonly: true });
  t.is(scalar(ro, 'SELECT honker_bootstrap()'), 1);
  for (const [sql, kind] of CASES) {
    const run = (): unknown => ro.prepare(`SELECT ${sql}`).pluck().get(...(sql.includes('?') ? [file] : []));
    if (kind === 'reader' && sql.startsWith('honker_queue_next_claim_at')) {
      // a due job's answer is "now": the second may have turned between the two reads
      t.true(Math.abs((run() as number) - (answers.get(sql) as number)) <= 1, sql);
    } else if (kind === 'reader') {
      t.deepEqual(run(), answers.get(sql), sql);
    } else if (kind !== 'file' && sql !== 'honker_bootstrap()') {
      let message = `${sql} did not fail`;
      try {
        run();
      } catch (err) {
        message = (err as Error).message;
      }
      t.regex(message, /^(honker_\w+|notify): attempt to write a readonly database$/, sql);
    }
  }
  t.deepEqual(schemaOf(file), before);
});

test('database.oldFile: PRAGMA query_only: bootstrap answers 1 without writing', (t) => {
  const file = old04File(t);
  const db = connect(t, file);
  db.pragma('query_only = ON');
  t.is(scalar(db, 'SELECT honker_bootstrap()'), 1);
  t.is(ourVersion(db), undefined);
  t.is(scalar(db, "SELECT json_extract(honker_get_job(2), '$.worker_id')"), 'w');
});

test('database.oldFile: a file with no honker tables still needs bootstrap: a read-only one is an error', (t) => {
  const file = tempDbPath(t);
  new Database(file).exec('CREATE TABLE user_table (x)').close();
  const ro = connect(t, file, { readonly: true });
  t.regex(thrown(t, () => ro.prepare('SELECT honker_bootstrap()').get()).message, /^honker_bootstrap: attempt to write a readonly database/);
  const rw = connect(t, file);
  t.regex(thrown(t, () => rw.prepare('SELECT honker_ack(1, ?)').get('w')).message, /^honker_ack: no such table: _honker_(live|history)$/);
  t.is(scalar(rw, 'SELECT honker_bootstrap()'), 1);
  t.is(ourVersion(rw), '4');
});

test('database.oldFile: a connection sees the migration another connection made, and its statements follow', (t) => {
  const file = old04File(t);
  const a = connect(t, file);
  const b = connect(t, file);
  t.is(scalar(a, "SELECT json_extract(honker_get_job(2), '$.last_error')"), null); // honker 0.4's columns
  t.is(scalar(b, "SELECT honker_retry(2, 'w', 0, 'boom')"), 1); // migrates
  t.is(scalar(a, "SELECT json_extract(honker_get_job(2), '$.last_error')"), 'boom');
  t.is(scalar(a, "SELECT value ->> 'last_error' FROM json_each(honker_job_list('q', 'pending', 5)) WHERE value ->> 'id' = 2"), 'boom');
  // and on one connection: a statement that could not be prepared before the migration can be after it
  const file2 = old04File(t);
  const c = connect(t, file2);
  t.is(scalar(c, "SELECT json_extract(honker_get_job(2), '$.last_error')"), null);
  t.is(scalar(c, "SELECT honker_enqueue_unique('q', 'k', '{}', NULL, NULL, 0, 3, NULL)"), 5);
  t.is(scalar(c, "SELECT honker_retry(2, 'w', 0, 'late')"), 1);
  t.is(scalar(c, "SELECT json_extract(honker_get_job(2), '$.last_error')"), 'late');
});

test("database.oldFile: a migration rolled back with the caller's transaction is made again by the next write", (t) => {
  const file = old04File(t);
  const db = connect(t, file);
  db.exec('BEGIN');
  t.is(scalar(db, "SELECT honker_ack(2, 'w')"), 1);
  t.is(ourVersion(db), '4');
  db.exec('ROLLBACK');
  t.is(ourVersion(db), undefined);
  t.is(scalar(db, "SELECT json_extract(honker_get_job(2), '$.state')"), 'processing');
  t.is(scalar(db, "SELECT honker_ack(2, 'w')"), 1);
  t.is(ourVersion(db), '4');
  t.is(scalar(db, 'SELECT honker_get_job(2)'), '');
});

test('database.oldFile: called from a trigger (a writing statement), a function migrates the file too', (t) => {
  const file = old04File(t);
  const db = connect(t, file);
  db.exec(`CREATE TABLE done (id INTEGER);
    CREATE TRIGGER done_acks AFTER INSERT ON done BEGIN SELECT honker_ack(new.id, 'w'); END;
    INSERT INTO done VALUES (2);`);
  t.is(ourVersion(db), '4');
  t.is(scalar(db, 'SELECT count(*) FROM _honker_live WHERE id = 2'), 0);
  // SQLite refuses DROP INDEX under a writing statement: the indexes schema 4 drops wait for the next write
  t.is(scalar(db, DROPPED_INDEXES_SQL), 2);
  t.is(scalar(db, 'SELECT honker_cancel(999)'), 0);
  t.is(scalar(db, DROPPED_INDEXES_SQL), 0);
});

test('write_lock: inside a deferred transaction a write waits for a concurrent writer, never failing with SQLITE_BUSY_SNAPSHOT', async (t) => {
  const file = old04File(t);
  const db = connect(t, file);
  t.is(scalar(db, 'SELECT honker_bootstrap()'), 1);
  // Another process takes the write lock, then commits half a second later.
  const script = `import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN IMMEDIATE')
c.execute("INSERT INTO _honker_notifications (channel, payload) VALUES ('x', 'y')")
print('locked', flush=True)
time.sleep(0.5)
c.execute('COMMIT')
print('committed', flush=True)`;
  const other = owned(t, LineChild.text(systemPython, ['-c', script, file], { label: 'writer' }));
  t.is(await other.next(), 'locked');
  db.exec('BEGIN'); // deferred: nothing read yet
  // retry reads the claim before it writes: its read must not pin the snapshot from before the commit
  t.is(scalar(db, "SELECT honker_retry(2, 'w', 0, 'waited')"), 1);
  db.exec('COMMIT');
  t.is(await other.next(), 'committed');
  t.is(scalar(db, "SELECT json_extract(honker_get_job(2), '$.last_error')"), 'waited');
});

/** A file of our schema 3 (honker 0.4's indexes and ours, version '3'), seeded like old04File. */
function schema3File(t: ExecutionContext): string {
  const file = old04File(t);
  const db = new Database(file);
  db.exec(`ALTER TABLE _honker_live ADD COLUMN unique_key TEXT;
    ALTER TABLE _honker_live ADD COLUMN last_error TEXT;
    CREATE TABLE _honker_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO _honker_meta VALUES ('schema_version', '3');
    CREATE INDEX _honker_live_ready ON _honker_live(queue, priority DESC, run_at, id) WHERE state = 'pending';
    CREATE UNIQUE INDEX _honker_live_unique ON _honker_live(queue, unique_key) WHERE unique_key IS NOT NULL;`);
  db.close();
  return file;
}

test('database.oldFile: a schema-3 file loses honker 0.4\'s two pending indexes in its first write, and claims and next_claim_at answer as before', (t) => {
  const file = schema3File(t);
  const db = connect(t, file);
  t.is(scalar(db, DROPPED_INDEXES_SQL), 2);
  // reads before the migration (the old indexes serve them)
  const nextBefore = scalar<number>(db, "SELECT honker_queue_next_claim_at('q')");
  t.is(scalar(db, DROPPED_INDEXES_SQL), 2, 'reading migrates nothing');
  t.is(ourVersion(db), '3');
  // the first write: a claim. It migrates, then claims job 1 (job 4 is expired, job 3 is future)
  const claimed = json(scalar(db, "SELECT honker_claim_batch('q', 'w2', 5, 60)")) as { id: number }[];
  t.deepEqual(claimed.map((j) => j.id), [1]);
  t.is(ourVersion(db), '4');
  t.is(scalar(db, DROPPED_INDEXES_SQL), 0);
  t.is(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = '_honker_live_ready'"), 1);
  t.true(nextBefore <= scalar<number>(db, 'SELECT unixepoch()'), 'job 1 was due');
  t.is(scalar(db, "SELECT honker_queue_next_claim_at('q')"), scalar(db, "SELECT min(claim_expires_at) + 1 FROM _honker_live WHERE state = 'processing'"));
  // the soonest future run_at is found per priority level: the lowest level holds it here
  db.exec(`INSERT INTO _honker_live (queue, payload, priority, run_at) VALUES
    ('p', 'a', 5, unixepoch() + 500), ('p', 'b', 0, unixepoch() + 100), ('p', 'c', -3, unixepoch() + 50), ('p', 'd', -3, unixepoch() + 70)`);
  t.is(scalar(db, "SELECT honker_queue_next_claim_at('p')"), scalar(db, "SELECT run_at FROM _honker_live WHERE payload = 'c'"));
  t.is(scalar(db, 'SELECT honker_bootstrap()'), 1);
  t.is(scalar(db, DROPPED_INDEXES_SQL), 0);
});

test('database.oldFile: indexes that honker 0.4\'s bootstrap creates again on a schema-4 file go with our next write, not with a read', (t) => {
  const file = tempDbPath(t);
  const db = connect(t, file);
  t.is(scalar(db, 'SELECT honker_bootstrap()'), 1);
  t.is(scalar(db, DROPPED_INDEXES_SQL), 0);
  const id = scalar<number>(db, "SELECT honker_enqueue('q', 'x', NULL, NULL, 0, 3, NULL)");
  // what honker 0.4's honker_bootstrap() runs on open (CREATE INDEX IF NOT EXISTS), from another connection
  const other = new Database(file);
  other.exec(`CREATE INDEX IF NOT EXISTS _honker_live_claim ON _honker_live(queue, priority DESC, run_at, id) WHERE state IN ('pending', 'processing');
    CREATE INDEX IF NOT EXISTS _honker_live_pending_deadline ON _honker_live(queue, run_at) WHERE state = 'pending';`);
  other.close();
  t.is(scalar(db, "SELECT json_extract(honker_queue_stats('q'), '$.pending')"), 1);
  t.is(scalar(db, DROPPED_INDEXES_SQL), 2, 'a read leaves them');
  t.deepEqual((json(scalar(db, "SELECT honker_claim_batch('q', 'w', 1, 60)")) as { id: number }[]).map((j) => j.id), [id]);
  t.is(scalar(db, DROPPED_INDEXES_SQL), 0, 'the claim dropped them');
  t.is(ourVersion(db), '4');
});
