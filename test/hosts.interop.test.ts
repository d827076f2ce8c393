/**
 * One file, three SQLite hosts: better-sqlite3 (SQLite 3.5x), the sqlite3 CLI
 * (system SQLite 3.40) and /usr/bin/python3's stdlib sqlite3 each run the same
 * scenario on the same database, then check what the previous host wrote.
 *
 * Scenario per host H: a business row + enqueue committed together, another
 * pair rolled back; claim (only the committed job exists) and ack; a job
 * retried until dead; notify; stream publish + consumer offset; a lock.
 */
import test from './helpers/test.js';
import { openDb, python, sqliteCli, tempDbPath, type Db } from './helpers/db.js';

function scenario(h: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, host TEXT NOT NULL, note TEXT NOT NULL)`,
    `BEGIN`,
    `INSERT INTO orders(host, note) VALUES ('${h}', 'committed')`,
    `SELECT honker_enqueue('q_${h}', '{"order":"committed"}', NULL, NULL, 0, 3, NULL)`,
    `COMMIT`,
    `BEGIN`,
    `INSERT INTO orders(host, note) VALUES ('${h}', 'rolled back')`,
    `SELECT honker_enqueue('q_${h}', '{"order":"rolled back"}', NULL, NULL, 0, 3, NULL)`,
    `ROLLBACK`,
    `SELECT 'claimed_${h}', json_extract(honker_claim_batch('q_${h}', 'w_${h}', 10, 30), '$[#-1].payload') = '{"order":"committed"}'`,
    `SELECT 'acked_${h}', honker_ack((SELECT id FROM _honker_live WHERE queue = 'q_${h}'), 'w_${h}') = 1`,
    `SELECT honker_enqueue('retry_${h}', '"r"', NULL, NULL, 0, 2, NULL)`,
    `SELECT honker_claim_batch('retry_${h}', 'w_${h}', 1, 30)`,
    `SELECT 'retry1_${h}', honker_retry((SELECT id FROM _honker_live WHERE queue = 'retry_${h}'), 'w_${h}', 0, 'first failure') = 1`,
    `SELECT honker_claim_batch('retry_${h}', 'w_${h}', 1, 30)`,
    `SELECT 'retry2_${h}', honker_retry((SELECT id FROM _honker_live WHERE queue = 'retry_${h}'), 'w_${h}', 0, 'second failure') = 1`,
    `SELECT notify('ch_${h}', '{"from":"${h}"}')`,
    `SELECT honker_stream_publish('topic', '${h}', '{"from":"${h}"}')`,
    `SELECT 'offset_${h}', honker_stream_save_offset('consumer_${h}', 'topic', (SELECT max(offset) FROM _honker_stream)) = 1`,
    `SELECT 'lock_${h}', honker_lock_acquire('lock_${h}', 'owner_${h}', 600) = 1`,
  ];
}

/** Checks, run by host `by`, of what host `p` wrote. */
function verify(p: string, by: string): string[] {
  return [
    `SELECT '${by}_sees_${p}_orders', (SELECT group_concat(note) FROM orders WHERE host = '${p}') = 'committed'`,
    `SELECT '${by}_sees_${p}_queue_empty', (SELECT count(*) FROM _honker_live WHERE queue IN ('q_${p}', 'retry_${p}')) = 0`,
    `SELECT '${by}_sees_${p}_dead', (SELECT attempts || ':' || last_error FROM _honker_dead WHERE queue = 'retry_${p}') = '2:second failure'`,
    `SELECT '${by}_sees_${p}_errors', (SELECT group_concat(error, ',') FROM _honker_job_errors WHERE job_id = (SELECT id FROM _honker_dead WHERE queue = 'retry_${p}')) LIKE 'first failure%'`,
    `SELECT '${by}_sees_${p}_notify', (SELECT payload FROM _honker_notifications WHERE channel = 'ch_${p}') = '{"from":"${p}"}'`,
    `SELECT '${by}_sees_${p}_offset', honker_stream_get_offset('consumer_${p}', 'topic') = (SELECT offset FROM _honker_stream WHERE key = '${p}')`,
    `SELECT '${by}_sees_${p}_stream', json_extract(honker_stream_read_since('topic', (SELECT offset FROM _honker_stream WHERE key = '${p}') - 1, 1), '$[0].key') = '${p}'`,
    `SELECT '${by}_sees_${p}_lock', honker_lock_acquire('lock_${p}', 'someone else', 60) = 0`,
  ];
}

const checkId = /^SELECT '([a-z0-9_]+)'/;

function expectedChecks(sql: string[]): string[] {
  return sql.map((s) => checkId.exec(s)?.[1]).filter((x): x is string => !!x);
}

/** "id|value" lines from any host's output -> the ids whose value is 1. */
function passed(output: string): Set<string> {
  return new Set(
    output
      .split('\n')
      .map((l) => l.trim().split('|'))
      .filter((c) => c.length === 2 && c[1] === '1')
      .map((c) => c[0]),
  );
}

function runBetterSqlite3(db: Db, sql: string[]): string {
  const out: string[] = [];
  for (const s of sql) {
    const stmt = db.prepare(s);
    if (stmt.reader) out.push((stmt.raw().get() as unknown[]).join('|'));
    else stmt.run();
  }
  return out.join('\n');
}

function runCli(file: string, sql: string[]): string {
  const r = sqliteCli(file, sql.map((s) => s + ';').join('\n'));
  if (r.status !== 0 || r.stderr) throw new Error(`sqlite3 CLI failed: ${r.stderr}`);
  return r.stdout;
}

function runPython(file: string, sql: string[]): string {
  const r = python(
    file,
    `import sqlite3, os, json
c = sqlite3.connect(os.environ['DB'], timeout=10, isolation_level=None)
c.enable_load_extension(True)
c.load_extension(os.environ['EXT'])
for s in json.loads(${JSON.stringify(JSON.stringify(sql))}):
    row = c.execute(s).fetchone()
    if row is not None and s.startswith('SELECT'):
        print('|'.join(str(v) for v in row))
c.close()`,
  );
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

test('hosts.interop: better-sqlite3, the sqlite3 CLI and Python share one honker file', (t) => {
  const file = tempDbPath(t);
  const db = openDb(file);
  t.teardown(() => db.close());

  const steps: Array<[string, string[], string]> = [];
  const a = [...scenario('node')];
  steps.push(['better-sqlite3', a, runBetterSqlite3(db, a)]);
  const b = [...verify('node', 'cli'), ...scenario('cli')];
  steps.push(['sqlite3 CLI', b, runCli(file, b)]);
  const c = [...verify('cli', 'python'), ...scenario('python')];
  steps.push(['python', c, runPython(file, c)]);
  const d = verify('python', 'node');
  steps.push(['better-sqlite3 again', d, runBetterSqlite3(db, d)]);

  for (const [host, sql, output] of steps) {
    const ok = passed(output);
    const failed = expectedChecks(sql).filter((id) => !ok.has(id));
    t.deepEqual(failed, [], `${host}: failed checks; output:\n${output}`);
  }
  t.is(db.prepare('PRAGMA integrity_check').pluck().get(), 'ok');
});
