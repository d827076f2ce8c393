/**
 * Leak and memory-error check of libhonker_ext under valgrind.
 *
 *   tsx scripts/valgrind.ts
 *
 * Node cannot run usefully under valgrind, so this drives the extension
 * through the system sqlite3 CLI: every SQL corpus file (test/sql/*.sql), on a
 * fresh database each, plus a watcher open/wait/close session. Fails on any
 * memcheck error or definitely-lost block. Then the watcher's threads under
 * DRD (valgrind --tool=drd): test/c/watcher_wait.c drives the C ABI on the
 * kernel backend and the poller (waits on several threads, commits and a
 * rollback from another process, close with waits blocked, open/close
 * cycles, the fallback without inotify, a replaced file); fails on any DRD
 * report. (Helgrind was tried too: it reports pthread_mutex_destroy after
 * another thread's unlock, and a broadcast inside glibc's
 * pthread_cond_timedwait, on this code and on the poller before it alike;
 * DRD models both.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extensionPath } from '../src/extension.js';
import { watcherWaitBinary } from '../test/helpers/watcher.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stem = extensionPath().replace(/\.(so|dylib)$/, '');
const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-valgrind-'));

/** Run sql on a fresh file under valgrind; bootstrapped first unless told otherwise. */
function session(name: string, sql: string, bootstrap = true): boolean {
  const file = path.join(dir, `${name}.db`);
  const script = `.load ${stem}\n.timeout 10000\nPRAGMA journal_mode = WAL;\n${bootstrap ? 'SELECT honker_bootstrap();\n' : ''}${sql}\n`;
  const r = spawnSync(
    'valgrind',
    ['--leak-check=full', '--errors-for-leak-kinds=definite', '--error-exitcode=99', '--quiet', 'sqlite3', '-batch', file],
    { input: script, encoding: 'utf8' },
  );
  const ok = r.status !== 99 && r.status !== null && !/definitely lost: [1-9]/.test(r.stderr);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
  if (!ok) console.log(r.stderr);
  return ok;
}

const results: boolean[] = [];
for (const f of readdirSync(path.join(root, 'test', 'sql')).filter((f) => f.endsWith('.sql')).sort()) {
  results.push(session(f.replace(/\.sql$/, ''), readFileSync(path.join(root, 'test', 'sql', f), 'utf8')));
}
results.push(
  session(
    'watcher',
    [
      "SELECT honker_update_watcher_open((SELECT file FROM pragma_database_list WHERE name = 'main'), 'polling') AS id;",
      "CREATE TABLE t(x);",
      'SELECT honker_update_watcher_wait(1, 50);',
      'SELECT honker_update_watcher_close(1);',
      // the kernel backend (inotify), then the default: a commit, a wait through a rollback, close
      "SELECT honker_update_watcher_open((SELECT file FROM pragma_database_list WHERE name = 'main'), 'kernel') AS id;",
      'INSERT INTO t VALUES (1);',
      'SELECT honker_update_watcher_wait(2, 1000);',
      'BEGIN; INSERT INTO t VALUES (2); ROLLBACK;',
      'SELECT honker_update_watcher_wait(2, 100);',
      'SELECT honker_update_watcher_close(2);',
      "SELECT honker_update_watcher_open((SELECT file FROM pragma_database_list WHERE name = 'main'), NULL) AS id;",
      'INSERT INTO t VALUES (3);',
      'SELECT honker_update_watcher_wait(3, 1000);',
      'SELECT honker_update_watcher_close(3);',
      "SELECT honker_update_watcher_open('/nonexistent/x.db', 'polling');",
    ].join('\n'),
  ),
);
// A file honker 0.4 made, used before any bootstrap of ours: readers on its columns, then the
// migration inside a write, then the same readers on ours (ext/schema.c "Old files").
results.push(
  session(
    'honker04-file',
    [
      readFileSync(path.join(root, 'test', 'fixtures', 'honker04-schema.sql'), 'utf8'),
      "INSERT INTO _honker_live (queue, payload, state, worker_id, claim_expires_at, attempts) VALUES ('q', 'a', 'processing', 'w', unixepoch() + 60, 1), ('q', 'b', 'pending', NULL, NULL, 0);",
      'SELECT honker_get_job(1);',
      "SELECT honker_job_list('q', NULL, 10), honker_job_list('q', 'processing', 10);",
      "SELECT honker_retry(1, 'w', 0, 'boom');",
      "SELECT honker_get_job(1), honker_job_list('q', 'pending', 10);",
      "SELECT honker_enqueue_unique('q', 'k', 'c', NULL, NULL, 0, 3, NULL), honker_enqueue_unique('q', 'k', 'c', NULL, NULL, 0, 3, NULL);",
      "DELETE FROM _honker_live WHERE id = 1;",
      "SELECT honker_dead_purge('q', 0), honker_sweep_expired('q');",
      'SELECT honker_bootstrap();',
    ].join('\n'),
    false,
  ),
);
/** test/c/watcher_wait.c under DRD, on a fresh WAL database. */
function drdSession(name: string, commands: string[]): boolean {
  const file = path.join(dir, `${name}.db`);
  const init = spawnSync('sqlite3', [file, 'PRAGMA journal_mode = WAL; CREATE TABLE events(x);'], { encoding: 'utf8' });
  const r = spawnSync('valgrind', ['--tool=drd', '--error-exitcode=99', '--quiet', watcherWaitBinary(), extensionPath(), file], {
    input: `${commands.join('\n')}\nquit\n`,
    encoding: 'utf8',
  });
  const ok = init.status === 0 && r.status === 0 && !r.stdout.includes('error');
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
  if (!ok) console.log(r.stdout, r.stderr);
  return ok;
}
for (const backend of ['kernel', 'poll']) {
  results.push(
    drdSession(`watcher threads, ${backend} (drd)`, [
      `open ${backend}`,
      'bg 3 10000',
      'commit',
      'join',
      'rollback',
      'wait 200',
      'bg 2 -1',
      'close',
      'join',
      `open ${backend}`,
      'latency 20',
      'cycles 4',
      `starve ${backend}`,
      'bg 1 10000',
      'commit',
      'join',
      `open ${backend}`,
      'bulkcpu 2000',
      'bg 2 20000',
      'replace',
      'join',
    ]),
  );
}
rmSync(dir, { recursive: true, force: true });
const failed = results.filter((ok) => !ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
