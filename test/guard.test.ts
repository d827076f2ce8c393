/**
 * The test-wide guard (test/helpers/test.ts): a test that leaves a database
 * (its watcher and checkpoint timers), a worker, a timer or a child process
 * behind fails, naming what it left; a test that cleans up passes.
 */
import test from './helpers/test.js';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './helpers/db.js';

test('guard: the leaky probe tests fail with what they left, the clean one passes', (t) => {
  const cli = path.join(repoRoot, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
  const r = spawnSync(process.execPath, [cli, '--config', 'test/fixtures/guard/ava.config.mjs', '--tap'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 90_000,
  });
  const out = r.stdout;
  t.not(r.status, 0, 'the probe run fails');
  t.regex(out, /^ok \d+ - cleans up$/m);
  for (const name of ['leaves a database open', 'leaves a worker running', 'leaves a timer', 'leaves a child process']) {
    t.regex(out, new RegExp(`^not ok \\d+ - ${name}`, 'm'), `${name} fails`);
  }
  t.regex(out, /setTimeout\(60000 ms\)/, 'the timer is named');
  t.regex(out, /PROCESSWRAP/, 'the child process is named');
  t.regex(out, /setInterval\(250 ms\): \(\)=>this\.check\(\)/, "the database's timer is named");
  t.regex(out, /^# tests 5\n# pass 1\n# fail 4$/m);
});
