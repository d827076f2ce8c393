/**
 * `honker worker <module>`: the real CLI imports a user's task module and runs
 * its tasks; results come back to the caller in another process; SIGTERM
 * stops it cleanly (exit 0) and it prints what it did.
 */
import test from './helpers/test.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { open } from '../src/index.js';
import { cliChild, runCli } from './helpers/cli.js';
import { repoRoot, tempDbPath, tempDir } from './helpers/db.js';

const tasksModule = path.join(repoRoot, 'test', 'fixtures', 'cli-worker-tasks.ts');

/** The task module opens the database named by $HONKER_TEST_DB. */
const dbEnv = (file: string): NodeJS.ProcessEnv => ({ HONKER_TEST_DB: file });

test('cli worker: runs the tasks of a TypeScript module; SIGTERM stops it with exit 0 and a summary', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  t.teardown(() => db.close());
  const add = db.queue('math').task('add', (a: number, b: number) => a + b);
  const first = add(2, 3); // enqueued before the worker starts
  const cli = cliChild(t, ['worker', tasksModule, '--concurrency', '2'], dbEnv(file));
  t.is(await first.get({ timeoutMs: 30_000 }), 5);
  const handles = [add(10, 20), add(-1, 1)];
  t.deepEqual(await Promise.all(handles.map((h) => h.get({ timeoutMs: 30_000 }))), [30, 0]);
  await cli.until('the started line', () => cli.stderr.includes('started'));
  cli.signal('SIGTERM');
  t.is(await cli.exited, 0);
  t.regex(cli.stderr, /stopped \(SIGTERM\): claimed 3, completed 3, failed 0 \(retried 0, dead 0\), returned unstarted 0/);
  t.deepEqual(db.queue('math').stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
});

test('cli worker: --list prints the registered tasks', async (t) => {
  const file = tempDbPath(t);
  open(file).close();
  const r = await runCli(['worker', tasksModule, '--list'], { env: dbEnv(file) });
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.deepEqual(lines[0]!.split(/\s{2,}/), ['DATABASE', 'QUEUE', 'TASK', 'RETRIES', 'TIMEOUT S']);
  t.deepEqual(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(1)), [
    ['math', 'add', '1', '-'],
    ['math', 'slow', '2', '-'],
  ]);
});

test('cli worker: a missing module or one without tasks is one clear line and exit 1', async (t) => {
  const file = tempDbPath(t);
  open(file).close();
  t.deepEqual(await runCli(['worker', 'nope.ts'], { env: dbEnv(file) }), {
    stdout: '',
    stderr: 'honker worker: no such module: nope.ts\n',
    code: 1,
  });
  const noTasks = path.join(repoRoot, 'test', 'fixtures', 'cli-worker-no-tasks.ts');
  t.deepEqual(await runCli(['worker', noTasks], { env: dbEnv(file) }), {
    stdout: '',
    stderr: `honker worker: ${noTasks} registers no tasks: define them with db.queue(name).task(taskName, fn)\n`,
    code: 1,
  });
  const usage = await runCli(['worker']);
  t.is(usage.code, 2);
});

test('cli worker: a module that does not parse is one line with file:line:column and the parser message', async (t) => {
  const dir = tempDir(t);
  const bad = path.join(dir, 'bad.ts');
  writeFileSync(bad, "// a task module\nconst x: number = ;\n");
  t.deepEqual(await runCli(['worker', bad]), { stdout: '', stderr: `honker worker: ${bad}:2:19: Unexpected ";"\n`, code: 1 });
  const badJs = path.join(dir, 'bad.cjs');
  writeFileSync(badJs, 'const x = ;\n');
  t.deepEqual(await runCli(['worker', badJs]), {
    stdout: '',
    stderr: `honker worker: ${badJs}:1:11: SyntaxError: Unexpected token ';'\n`,
    code: 1,
  });
});

test('cli worker: --queue naming a queue with no task is refused (its jobs would be dead-lettered), nothing claimed', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  t.teardown(() => db.close());
  db.queue('nope').enqueue({ task: 'x' });
  t.deepEqual(await runCli(['worker', tasksModule, '--queue', 'math', '--queue', 'nope'], { env: dbEnv(file) }), {
    stdout: '',
    stderr: "honker worker: no task is registered on queue 'nope' (queues with tasks: math)\n",
    code: 2,
  });
  t.deepEqual(db.queue('nope').stats(), { pending: 1, scheduled: 0, processing: 0, dead: 0 });
});

test('cli worker: --help says that --list imports the module (its top-level code runs)', async (t) => {
  const r = await runCli(['worker', '--help']);
  t.is(r.code, 0);
  t.regex(r.stdout.replace(/\s+/g, ' '), /--list print the registered tasks and exit \(this imports the module, so its top-level code runs, as for a worker\)/);
});

test('cli worker: a .ts module in a project without tsx (on a Node that cannot strip types) fails in one line naming what to install', (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(repoRoot, path.join(dir, 'node_modules', 'honker'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(path.join(dir, 'tasks.ts'), "import { open } from 'honker';\nopen('app.db').queue('q').task('t', (n: number) => n);\n");
  // The package's bin runs the compiled CLI with plain node: no tsx from this repository is registered.
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'honker.js'), 'worker', './tasks.ts'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if ((process.features as { typescript?: unknown }).typescript) {
    t.is(r.status, null, 'this Node strips types itself: the worker ran until the timeout');
    return;
  }
  t.is(r.status, 1);
  t.is(
    r.stderr,
    'honker worker: tasks.ts is TypeScript and nothing here can run it: install tsx in your project (npm install --save-dev tsx), ' +
      'use Node 23.6+ (or 22.6+ with NODE_OPTIONS=--experimental-strip-types), or compile tasks.ts to JavaScript\n',
  );
  t.false(existsSync(path.join(dir, 'app.db')), 'the module never ran');
});
