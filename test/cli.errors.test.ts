/**
 * cli: bad input. Missing file (never created), not a honker database, not
 * SQLite at all, invalid JSON, unknown queue / schedule: one line on stderr,
 * exit 1 (the command failed) or 2 (usage), and nothing written.
 */
import test from './helpers/test.js';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { open } from '../src/index.js';
import { runCli, setupDb, snapshot } from './helpers/cli.js';
import { tempDbPath } from './helpers/db.js';

const everyCommand = (file: string): string[][] => [
  ['stats', file],
  ['jobs', file, 'q'],
  ['dead', file, 'q'],
  ['dead', file, 'q', '--purge'],
  ['dead', file, 'q', '--requeue-all'],
  ['enqueue', file, 'q', '{}'],
  ['notify', file, 'ch', '{}'],
  ['listen', file, 'ch'],
  ['tail', file, 'events'],
  ['schedule', file],
  ['schedule', file, 'pause', 'x'],
];

test('cli errors: a missing file is reported by every command, exit 1, and never created', async (t) => {
  const file = tempDbPath(t, 'missing.db');
  for (const args of everyCommand(file)) {
    const r = await runCli(args);
    t.deepEqual(r, { stdout: '', stderr: `honker ${args[0]}: ${file}: no such file\n`, code: 1 }, args.join(' '));
  }
  t.deepEqual(readdirSync(path.dirname(file)), []);
});

test('cli errors: a SQLite file without honker tables is refused unchanged (no -wal, no tables)', async (t) => {
  const file = tempDbPath(t, 'plain.db');
  const raw = new Database(file);
  raw.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES (\'ann\')');
  raw.close();
  const bytes = readFileSync(file);
  for (const args of everyCommand(file)) {
    const r = await runCli(args);
    t.deepEqual(r, { stdout: '', stderr: `honker ${args[0]}: ${file}: not a honker database (it has no _honker_live table)\n`, code: 1 }, args.join(' '));
  }
  t.deepEqual(readFileSync(file), bytes);
  t.deepEqual(readdirSync(path.dirname(file)), ['plain.db']);
});

test('cli errors: a file that is not SQLite is refused unchanged', async (t) => {
  const file = tempDbPath(t, 'notes.txt');
  writeFileSync(file, 'these are not the pages you are looking for\n'.repeat(100));
  const bytes = readFileSync(file);
  for (const args of [['stats', file], ['enqueue', file, 'q', '1']]) {
    const r = await runCli(args);
    t.deepEqual(r, { stdout: '', stderr: `honker ${args[0]}: ${file}: not a SQLite database (file is not a database)\n`, code: 1 });
  }
  t.deepEqual(readFileSync(file), bytes);
  t.deepEqual(readdirSync(path.dirname(file)), ['notes.txt']);
});

test('cli errors: invalid JSON is a usage error and writes nothing', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  const before = snapshot(file);
  t.deepEqual(await runCli(['enqueue', file, 'emails', '{to: alice}']), {
    stdout: '',
    stderr: 'honker enqueue: payload is not valid JSON: {to: alice}\n',
    code: 2,
  });
  t.deepEqual(await runCli(['notify', file, 'ch', '']), { stdout: '', stderr: 'honker notify: payload is not valid JSON: \n', code: 2 });
  t.is(snapshot(file), before);
});

test('cli errors: unknown queue or schedule: exit 1, one line naming what exists, nothing written', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  const before = snapshot(file);
  const unknown = "unknown queue 'nope' (no live or dead job; queues: emails, reports)";
  for (const args of [['jobs', file, 'nope'], ['dead', file, 'nope'], ['dead', file, 'nope', '--purge'], ['dead', file, 'nope', '--requeue-all'], ['dead', file, 'nope', '--requeue', '5']]) {
    t.deepEqual(await runCli(args), { stdout: '', stderr: `honker ${args[0]}: ${unknown}\n`, code: 1 }, args.join(' '));
  }
  t.deepEqual(await runCli(['schedule', file, 'resume', 'nightly']), { stdout: '', stderr: "honker schedule: no schedule named 'nightly'\n", code: 1 });
  const empty = tempDbPath(t, 'empty.db');
  setupDb(empty, 'empty');
  t.deepEqual(await runCli(['jobs', empty, 'q']), {
    stdout: '',
    stderr: "honker jobs: unknown queue 'q' (no live or dead job; the database has no queue)\n",
    code: 1,
  });
  t.is(snapshot(file), before);
});

test('cli errors: usage errors are one line pointing to --help, exit 2; bad flag values one line stating the rule', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  const before = snapshot(file);
  const none = await runCli([]);
  t.is(none.code, 2);
  t.regex(none.stdout, /^usage: honker <command>/);
  t.deepEqual(await runCli(['frobnicate', file]), { stdout: '', stderr: "honker: unknown command 'frobnicate' (see honker --help)\n", code: 2 });
  t.deepEqual(await runCli(['stat', file]), { stdout: '', stderr: "honker: unknown command 'stat'; did you mean stats? (see honker --help)\n", code: 2 });
  const usageCases: Array<[string[], string]> = [
    [['stats', file, '--verbose'], "honker stats: unknown option '--verbose'"],
    [['jobs', file, 'emails', '--limt', '3'], "honker jobs: unknown option '--limt'; did you mean --limit?"],
    [['dead', file, 'emails', '--purge', '--older_than', '5'], "honker dead: unknown option '--older_than'; did you mean --older-than?"],
    [['enqueue', file, 'q', '-3'], "honker enqueue: unknown option '-3'; a negative number as an argument goes after --, as in -- -3"],
    [['jobs', file, 'emails', '--limit'], 'honker jobs: --limit needs a value'],
    [['jobs', file, 'emails', '--state', '--json'], "honker jobs: --state needs a value; write --state=VALUE for one that starts with '-'"],
    [['stats', file, '--json=yes'], 'honker stats: --json takes no value'],
    [['stats'], 'honker stats: missing arguments'],
    [['stats', file, 'extra'], "honker stats: unexpected argument 'extra'"],
    [['jobs', file], 'honker jobs: missing arguments'],
    [['enqueue', file, 'q'], 'honker enqueue: missing arguments'],
    [['dead', file, 'emails', '--purge', '--requeue-all'], 'honker dead: --requeue-all and --purge cannot be combined'],
    [['dead', file, 'emails', '--older-than', '5'], 'honker dead: --older-than goes with --purge'],
    [['dead', file, 'emails', '--busy-timeout', '5'], 'honker dead: --busy-timeout goes with --requeue, --requeue-all or --purge'],
    [['schedule', file, '--busy-timeout', '5'], 'honker schedule: --busy-timeout goes with pause or resume'],
    [['schedule', file, 'delete', 'x'], "honker schedule: unknown action 'delete' (list, pause or resume)"],
    [['schedule', file, 'pause'], 'honker schedule: pause needs a schedule name'],
  ];
  for (const [args, line] of usageCases) {
    t.deepEqual(await runCli(args), { stdout: '', stderr: `${line} (see honker ${args[0]} --help)\n`, code: 2 }, args.join(' '));
  }
  const valueCases: Array<[string[], string]> = [
    [['jobs', file, 'emails', '--state', 'done'], "honker jobs: --state must be one of pending, scheduled, processing, dead (got 'done')"],
    [['jobs', file, 'emails', '--limit', 'ten'], "honker jobs: --limit must be an integer >= 0 (got 'ten')"],
    [['jobs', file, 'emails', '--limit', '-1'], 'honker jobs: --limit must be an integer >= 0 (got -1)'],
    [['jobs', file, 'emails', '--limit=-1'], 'honker jobs: --limit must be an integer >= 0 (got -1)'],
    [['jobs', file, ''], 'honker jobs: queue must not be empty'],
    [['enqueue', file, 'q', '1', '--delay', '1.5'], 'honker enqueue: --delay must be an integer >= 0 (got 1.5)'],
    [['enqueue', file, 'q', '1', '--delay', '-5'], 'honker enqueue: --delay must be an integer >= 0 (got -5)'],
    [['enqueue', file, 'q', '1', '--priority', 'abc'], "honker enqueue: --priority must be an integer (got 'abc')"],
    [['enqueue', file, 'q', '1', '--priority', '-3'], 'honker enqueue: write a negative --priority as --priority=-3'],
    [['enqueue', file, 'q', '1', '--max-attempts', '0'], 'honker enqueue: --max-attempts must be an integer >= 1 (got 0)'],
    [['enqueue', file, 'q', '1', '--busy-timeout', 'long'], "honker enqueue: --busy-timeout must be an integer >= 0 (got 'long')"],
    [['dead', file, 'emails', '--requeue', 'x'], "honker dead: --requeue must be an integer >= 1 (got 'x')"],
    [['dead', file, 'emails', '--purge', '--older-than', '1e3'], "honker dead: --older-than must be an integer >= 0 (got '1e3')"],
    [['tail', file, 'events', '--from', 'start'], "honker tail: --from must be an integer >= 0 (got 'start')"],
    [['tail', file, 'events', '--from', '-1'], 'honker tail: --from must be an integer >= 0 (got -1)'],
  ];
  for (const [args, line] of valueCases) {
    t.deepEqual(await runCli(args), { stdout: '', stderr: `${line}\n`, code: 2 }, args.join(' '));
  }
  t.is(snapshot(file), before);
});

test('cli errors: a directory given as the database is named as such by every command, untouched', async (t) => {
  const dir = tempDbPath(t, 'app.db');
  mkdirSync(dir);
  for (const args of everyCommand(dir)) {
    const r = await runCli(args);
    t.deepEqual(r, { stdout: '', stderr: `honker ${args[0]}: ${dir} is a directory, not a database file\n`, code: 1 }, args.join(' '));
  }
  t.deepEqual(readdirSync(dir), []);
  t.deepEqual(readdirSync(path.dirname(dir)), ['app.db']);
});

test("cli errors: a write that meets another process's write lock says so after --busy-timeout, and writes nothing", async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  const before = snapshot(file);
  const holder = new Database(file);
  t.teardown(() => holder.close());
  holder.exec('BEGIN IMMEDIATE');
  const locked = "the database is locked by another process's write; try again, or wait longer with --busy-timeout 30000";
  for (const args of [
    ['enqueue', file, 'emails', '{}', '--busy-timeout', '100'],
    ['notify', file, 'ch', '1', '--busy-timeout', '100'],
    ['dead', file, 'emails', '--purge', '--busy-timeout', '100'],
  ]) {
    t.deepEqual(await runCli(args), { stdout: '', stderr: `honker ${args[0]}: ${locked}\n`, code: 1 }, args.join(' '));
  }
  holder.exec('ROLLBACK');
  t.is(snapshot(file), before);
});

test('cli errors: with a longer --busy-timeout the write waits for the lock and succeeds', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  const holder = new Database(file);
  t.teardown(() => holder.close());
  holder.exec('BEGIN IMMEDIATE');
  const run = runCli(['enqueue', file, 'emails', '{"to":"late"}', '--busy-timeout', '30000']);
  const release = setTimeout(() => holder.exec('COMMIT'), 3000); // after the CLI's start-up, while it waits
  t.teardown(() => clearTimeout(release));
  const r = await run;
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^\d+\n$/);
  const db = open(file);
  t.teardown(() => db.close());
  t.deepEqual(db.queue('emails').getJob(Number(r.stdout))?.payload, { to: 'late' });
});

test('cli errors: enqueue refuses a delay past 9999-12-31 and a blank queue name, one line each, nothing written', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  const before = snapshot(file);
  t.deepEqual(await runCli(['enqueue', file, 'emails', '{}', '--delay', '9007199254740991']), {
    stdout: '',
    stderr: "honker enqueue: --delay must end by 9999-12-31T23:59:59Z (got '9007199254740991')\n",
    code: 2,
  });
  t.deepEqual(await runCli(['enqueue', file, '  ', '{}']), {
    stdout: '',
    stderr: 'honker enqueue: db.queue: name must not be blank (got "  ")\n',
    code: 1,
  });
  t.is(snapshot(file), before);
});
