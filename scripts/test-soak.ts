/**
 * The long versions of the reliability suite (test/reliability/), then the fuzzers for longer.
 *
 *   tsx scripts/test-soak.ts [ava args...]
 *
 * HONKER_SOAK=1 makes each scenario in test/reliability/ run its long version (see soak.ts
 * there); ava's timeout is raised to fit them. Then both libFuzzer harnesses run for 10
 * minutes each (scripts/fuzz.ts --seconds 600). With ava arguments only those tests run.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function mustRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const ava = path.join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
const avaArgs = process.argv.slice(2);
mustRun(process.execPath, [ava, '--timeout=40m', '--concurrency=1', ...(avaArgs.length ? avaArgs : ['test/reliability/**/*.test.ts'])], {
  ...process.env,
  HONKER_SOAK: '1',
});
if (avaArgs.length === 0) mustRun(process.execPath, ['--import=tsx', path.join(root, 'scripts', 'fuzz.ts'), '--seconds', '600']);
