/**
 * The SQL corpus (test/sql/*.sql): value semantics of every function, one
 * line per case, run through better-sqlite3 and, file by file, through the
 * system sqlite3 CLI (SQLite 3.40) with `.load` — the drop-in proof.
 *
 * Format: each statement on one line. A line `select '<id>', <expr>;` is a
 * check and passes when <expr> is 1; any other line is setup. Each file runs
 * on its own fresh, bootstrapped database, top to bottom.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freshDb, repoRoot, sqliteCli, tempDbPath, openDb } from './helpers/db.js';

const corpusDir = path.join(repoRoot, 'test', 'sql');
const checkLine = /^select\s+'([a-z0-9_]+)'\s*,/i;

type Line = { sql: string; id?: string };

function parse(file: string): Line[] {
  return readFileSync(path.join(corpusDir, file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('--'))
    .map((sql) => ({ sql, id: checkLine.exec(sql)?.[1] }));
}

for (const file of readdirSync(corpusDir).filter((f) => f.endsWith('.sql')).sort()) {
  const lines = parse(file);
  const checks = lines.filter((l) => l.id);

  test(`sql corpus ${file}: every check is 1 through better-sqlite3`, (t) => {
    const { db } = freshDb(t);
    const failures: string[] = [];
    for (const line of lines) {
      if (!line.id) {
        const stmt = db.prepare(line.sql);
        if (stmt.reader) stmt.all();
        else stmt.run();
        continue;
      }
      const row = db.prepare(line.sql).raw().get() as unknown[];
      if (row[1] !== 1) failures.push(`${line.id}: got ${JSON.stringify(row[1])} from ${line.sql}`);
    }
    t.deepEqual(failures, []);
    t.true(checks.length > 0);
  });

  test(`sql corpus ${file}: every check is 1 through the sqlite3 CLI`, (t) => {
    const file2 = tempDbPath(t);
    openDb(file2).close(); // bootstrapped, WAL
    const r = sqliteCli(file2, lines.map((l) => l.sql).join('\n'));
    t.is(r.stderr, '');
    t.is(r.status, 0);
    const results = new Map(
      r.stdout
        .split('\n')
        .map((l) => l.split('|'))
        .filter((cols) => cols.length === 2 && checks.some((c) => c.id === cols[0]))
        .map((cols) => [cols[0], cols[1]]),
    );
    const failures = checks.filter((c) => results.get(c.id!) !== '1').map((c) => `${c.id}: got ${results.get(c.id!)}`);
    t.deepEqual(failures, []);
  });
}
