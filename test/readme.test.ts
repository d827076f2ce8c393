/**
 * The README works as printed: its TypeScript quick start (producer, worker,
 * listener in three processes), its sqlite3 CLI session and its outbox trigger.
 */
import test from './helpers/test.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LineChild, owned } from './helpers/child.js';
import { extPath, openDb, repoRoot, sqliteCli, tempDbPath, tempDir } from './helpers/db.js';
import { blockAfter, quickStart, taskFiles } from './helpers/readme.js';

// The user's TypeScript runner; resolved from this repo because the temp dir has no node_modules of its own.
const tsxImport = `--import=${import.meta.resolve('tsx')}`;
test('readme: the quick start runs as printed (producer, worker and listener processes)', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(repoRoot, path.join(dir, 'node_modules', 'honker'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' })); // honker is ESM
  for (const [name, code] of Object.entries(quickStart())) writeFileSync(path.join(dir, `${name}.ts`), code);
  const run = (name: string) => owned(t, LineChild.text(process.execPath, [tsxImport, `${name}.ts`], { cwd: dir, label: name }));
  // The database must exist before the worker and listener open it; the producer creates it.
  const first = spawnSync(process.execPath, [tsxImport, 'producer.ts'], { cwd: dir, encoding: 'utf8' });
  t.is(first.status, 0, first.stderr);
  const worker = run('worker');
  const listener = run('listener');
  // Waits that give up silently: the assertions below say what was missing.
  const until = async (cond: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  };
  await until(() => worker.stdout.includes('sending to'), 15_000); // the job committed before the worker started
  await new Promise((r) => setTimeout(r, 1000)); // let the listener subscribe
  const second = spawnSync(process.execPath, [tsxImport, 'producer.ts'], { cwd: dir, encoding: 'utf8' });
  t.is(second.status, 0, second.stderr);
  await until(() => worker.stdout.split('sending to').length === 3 && listener.stdout.includes('order 2'), 15_000);
  t.is(worker.stdout, 'sending to alice@example.com\nsending to alice@example.com\n');
  t.is(listener.stdout, 'order 2\n');
  // the README's worker stops on SIGINT and closes cleanly
  t.is(await worker.kill('SIGINT'), 0);
});

test('readme: the sqlite3 CLI session prints what the README shows', (t) => {
  const dir = tempDir(t);
  const session = blockAfter('## A session in the sqlite3 CLI', 'text');
  const [command, ...lines] = session.split('\n');
  // `npx honker extension-path` prints what extensionPath() finds (test/cli.*; in a real install: test:package).
  t.is(command, '$ sqlite3 app.db -cmd ".load $(npx honker extension-path)"');
  const input = lines.filter((l) => l.startsWith('sqlite> ')).map((l) => l.slice(8));
  const expected = lines.filter((l) => l && !l.startsWith('sqlite> '));
  const r = spawnSync('sqlite3', ['app.db', '-cmd', `.load ${extPath}`], { cwd: dir, input: input.join('\n'), encoding: 'utf8' });
  t.is(r.stderr, '');
  const actual = r.stdout.trim().split('\n');
  t.is(actual.length, expected.length);
  actual.forEach((line, i) => {
    // claim_expires_at is now + 30 s: compare it as a pattern
    const want = expected[i].replace(/"claim_expires_at":\d+/, '"claim_expires_at":N');
    t.is(line.replace(/"claim_expires_at":\d+/, '"claim_expires_at":N'), want);
  });
});

test('readme: the outbox trigger runs as printed in the sqlite3 CLI', (t) => {
  const file = tempDbPath(t);
  openDb(file).close(); // bootstrapped, WAL: the README's set-up
  const sql = blockAfter('### Enqueue from a trigger', 'sql');
  const expected = /-- (.*)\n$/.exec(sql)![1]; // the last line says what it prints
  const r = sqliteCli(file, sql);
  t.is(r.stderr, '');
  t.is(r.stdout.trim(), expected);
  const db = openDb(file, { bootstrap: false });
  t.teardown(() => db.close());
  // and the trigger's notification committed with the row
  t.deepEqual(db.prepare("SELECT payload FROM _honker_notifications WHERE channel = 'orders'").pluck().all(), ['{"id":1}']);
});

test('readme: tasks and workers run as printed (task module, caller, `honker worker` from bin/)', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(repoRoot, path.join(dir, 'node_modules', 'honker'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  // The user's project has its own tsx, which `honker worker` uses for a .ts module.
  symlinkSync(path.join(repoRoot, 'node_modules', 'tsx'), path.join(dir, 'node_modules', 'tsx'));
  const { tasks, caller } = taskFiles();
  writeFileSync(path.join(dir, 'tasks.ts'), tasks);
  writeFileSync(path.join(dir, 'caller.ts'), caller + 'process.exit(0);\n');
  // The README's command, through the package's bin (npx runs the same file).
  const bin = path.join(repoRoot, 'bin', 'honker.js');
  const worker = owned(t, LineChild.text(process.execPath, [bin, 'worker', './tasks.ts', '--concurrency', '8'], { cwd: dir, label: 'honker worker' }));
  const call = spawnSync(process.execPath, [tsxImport, 'caller.ts'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  t.is(call.status, 0, call.stderr);
  t.is(call.stdout, "{ sentTo: 'alice@example.com', subject: 'hi' }\n");
  t.is(await worker.kill('SIGTERM'), 0, worker.stderr);
  t.regex(worker.stderr, /stopped \(SIGTERM\): claimed 1, completed 1/);
});

test('readme: a transaction task writes its row exactly once, with the ack (payments.ts as printed)', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(repoRoot, path.join(dir, 'node_modules', 'honker'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(path.join(dir, 'payments.ts'), blockAfter('### Exactly once, or at least once', 'ts'));
  writeFileSync(
    path.join(dir, 'run.ts'),
    `import { db, recordPayment } from './payments.ts';
const handle = recordPayment(42, 1999);
const ac = new AbortController();
const worker = db.worker({ queues: ['billing'] });
worker.on('completed', () => ac.abort());
await worker.run({ signal: ac.signal });
console.log(JSON.stringify(await handle.get({ timeoutMs: 10_000 })), JSON.stringify(db.raw.prepare('SELECT * FROM payments').all()));
db.close();
`,
  );
  const r = spawnSync(process.execPath, [tsxImport, 'run.ts'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, '{"orderId":42} [{"order_id":42,"amount":1999}]\n');
});
