/**
 * Leak and memory-error check of libhonker_ext under valgrind.
 *
 *   tsx scripts/valgrind.ts
 *
 * Node cannot run usefully under valgrind, so this drives the extension
 * through the system sqlite3 CLI: every SQL corpus file (test/sql/*.sql), on a
 * fresh database each, plus a watcher open/wait/close session. Fails on any
 * memcheck error or definitely-lost block.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extensionPath } from '../src/extension.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stem = extensionPath().replace(/\.(so|dylib)$/, '');
const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-valgrind-'));

function session(name: string, sql: string): boolean {
  const file = path.join(dir, `${name}.db`);
  const script = `.load ${stem}\n.timeout 10000\nPRAGMA journal_mode = WAL;\nSELECT honker_bootstrap();\n${sql}\n`;
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
rmSync(dir, { recursive: true, force: true });
const failed = results.filter((ok) => !ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
