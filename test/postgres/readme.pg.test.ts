/**
 * The README's "Moving to Postgres" runs as printed against the throwaway
 * server: app.ts (a task enqueued inside db.transaction with the user's
 * INSERT, a worker, the result) as a real process with $DATABASE_URL, and the
 * shell block (`npx honker migrate app.db "$DATABASE_URL"`, then stats)
 * through bash on a populated app.db. Skipped with the reason when no server.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { open } from '../../src/index.js';
import { repoRoot, tempDir } from '../helpers/db.js';
import { pgTest, usePg } from '../helpers/pg.js';
import { blockAfter } from '../helpers/readme.js';

const harness = usePg();
const tsxImport = `--import=${import.meta.resolve('tsx')}`;
const SECTION = '## Moving to Postgres';

/** A directory where `import 'honker'` and `npx honker` find this checkout. */
function project(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(repoRoot, path.join(dir, 'node_modules', 'honker'));
  symlinkSync(path.join(repoRoot, 'bin', 'honker.js'), path.join(dir, 'node_modules', '.bin', 'honker')); // executable in git
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  return dir;
}

pgTest('readme: Moving to Postgres, app.ts runs as printed (the INSERT and the task commit together, a worker runs it)', async (t) => {
  const dir = project(t);
  const url = await harness.database(t);
  writeFileSync(path.join(dir, 'app.ts'), blockAfter(SECTION, 'ts'));
  const r = spawnSync(process.execPath, [tsxImport, 'app.ts'], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, DATABASE_URL: url } });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, "{ sentTo: 'alice@example.com' }\n");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  t.deepEqual((await c.query('SELECT email FROM signups')).rows, [{ email: 'alice@example.com' }]);
});

pgTest('readme: Moving to Postgres, the migrate commands run as printed on a populated app.db', async (t) => {
  const dir = project(t);
  const url = await harness.database(t);
  const db = open(path.join(dir, 'app.db'));
  db.queue('emails').enqueue({ to: 'alice@example.com' });
  db.scheduler().add({ name: 'nightly', queue: 'reports', schedule: '0 3 * * *' });
  db.close();
  t.is(blockAfter(SECTION, 'sh'), 'npm install pg\n'); // the install block: not run here
  const block = blockAfter("Move a live app's data with the CLI", 'sh');
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', block], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DATABASE_URL: url } });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^live jobs: 1 copied\n[^]*schedules: 1 copied\n[^]*migrated .*app\.db to postgres:\/\/[^]*emails\s+1\s+0\s+0\s+0/);
});
