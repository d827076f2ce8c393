/**
 * The ava suite (or the files given) against libhonker_ext built with ASan + UBSan.
 *
 *   tsx scripts/test-sanitize.ts [ava args...]
 *
 * Node itself is not instrumented, so libasan is preloaded into every process
 * of the run (ava workers, the sqlite3 CLI and Python children inherit it).
 * Leak checking is off here because Node's own allocations would drown it;
 * leaks are checked with valgrind instead (scripts/valgrind.ts, `npm run test:valgrind`).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function mustRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

mustRun(process.execPath, ['--import=tsx', 'scripts/build.ts', '--sanitize']);
const libasan = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
const libubsan = spawnSync('gcc', ['-print-file-name=libubsan.so'], { encoding: 'utf8' }).stdout.trim();
// One test file at a time: with two, children preloading the sanitizers starved each other (a
// listening child printed nothing within 30 s; 2026-12-06).
mustRun(process.execPath, [path.join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'), '--concurrency=1', ...process.argv.slice(2)], {
  ...process.env,
  HONKER_EXT_PATH: path.join(root, 'build', 'sanitize', 'libhonker_ext.so'),
  LD_PRELOAD: `${libasan} ${libubsan}`,
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1',
  UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  HONKER_SANITIZED: '1',
});
