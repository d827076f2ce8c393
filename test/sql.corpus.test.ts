/**
 * The SQL corpus (test/sql/*.sql): value semantics of every function, one
 * line per case, run through better-sqlite3 and through the system sqlite3
 * CLI (SQLite 3.40) with `.load` — the drop-in proof. Each case is its own
 * test named by its id, so a failure says which case and which host.
 *
 * Format: each statement on one line. A line `select '<id>', <expr>;` is a
 * check and passes when <expr> is 1; any other line is setup. Each file runs
 * once per host, top to bottom, on its own fresh bootstrapped database; the
 * case tests then read that run's answers.
 */
import test from './helpers/test.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, repoRoot, sqliteCli } from './helpers/db.js';

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

/** Run fn with the path of a fresh bootstrapped WAL database, removed afterwards. */
function withFreshFile<T>(fn: (file: string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-corpus-'));
  try {
    const file = path.join(dir, 'corpus.db');
    openDb(file).close();
    return fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Memoize a per-file run: the first case test of a file runs it, the others read the answer. */
function once<T>(compute: () => T): () => T {
  let done: { value: T } | undefined;
  return () => (done ??= { value: compute() }).value;
}

/**
 * Every check's answer through better-sqlite3: the value of <expr>, or the
 * error it raised. A failing setup line stops the run: the checks after it
 * report that error instead of a value computed on the wrong state.
 */
function runBetterSqlite(lines: Line[]): Map<string, unknown> {
  return withFreshFile((file) => {
    const db = openDb(file, { bootstrap: false });
    const answers = new Map<string, unknown>();
    try {
      for (const [i, line] of lines.entries()) {
        try {
          if (line.id) {
            answers.set(line.id, (db.prepare(line.sql).raw().get() as unknown[])[1]);
          } else {
            const stmt = db.prepare(line.sql);
            if (stmt.reader) stmt.all();
            else stmt.run();
          }
        } catch (err) {
          const msg = (err as Error).message;
          if (line.id) {
            answers.set(line.id, `error: ${msg}`);
            continue;
          }
          for (const rest of lines.slice(i + 1)) {
            if (rest.id) answers.set(rest.id, `not run: setup line "${line.sql}" failed: ${msg}`);
          }
          break;
        }
      }
    } finally {
      db.close();
    }
    return answers;
  });
}

/** The whole file through the sqlite3 CLI in one process: its output by check id, stderr and status. */
function runCli(lines: Line[]): { answers: Map<string, string>; stderr: string; status: number } {
  const ids = new Set(lines.filter((l) => l.id).map((l) => l.id));
  const r = withFreshFile((file) => sqliteCli(file, lines.map((l) => l.sql).join('\n')));
  const answers = new Map(
    r.stdout
      .split('\n')
      .map((l) => l.split('|'))
      .filter((cols) => cols.length === 2 && ids.has(cols[0]))
      .map((cols) => [cols[0], cols[1]] as [string, string]),
  );
  return { answers, stderr: r.stderr, status: r.status };
}

for (const file of readdirSync(corpusDir).filter((f) => f.endsWith('.sql')).sort()) {
  const lines = parse(file);
  const checks = lines.filter((l) => l.id);
  const viaBetterSqlite = once(() => runBetterSqlite(lines));
  const viaCli = once(() => runCli(lines));

  test(`sql corpus ${file}: has checks, and the sqlite3 CLI runs it to the end`, (t) => {
    t.true(checks.length > 0);
    const cli = viaCli();
    t.is(cli.stderr, '');
    t.is(cli.status, 0);
  });

  for (const { id, sql } of checks) {
    test(`sql corpus ${file} ${id}`, (t) => {
      t.is(viaBetterSqlite().get(id!), 1, `better-sqlite3: ${sql}`);
      t.is(viaCli().answers.get(id!), '1', `sqlite3 CLI: ${sql}`);
    });
  }
}
