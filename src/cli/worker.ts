/**
 * `honker worker <module> [--queue Q]... [--concurrency N] [--list]`
 *
 * Imports the user's module — its `queue.task(...)` calls register the tasks
 * on the databases it opens — then runs one worker per such database until
 * SIGINT/SIGTERM, and prints what it did. A TypeScript module (.ts, .mts,
 * .cts) runs without a build step, through the project's own tsx or Node's
 * type stripping (typescript.ts). `--list` prints the registered tasks and exits.
 * This file holds the command (its arguments) and runWorker, which does it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { registeredTasks, taskConnections } from '../task.js';
import type { WorkerSummary } from '../worker.js';
import { intFlag, nameArg, parse, type Command } from './args.js';
import { CliError, UsageError } from './errors.js';
import * as fmt from './format.js';
import { importTypeScript } from './typescript.js';

export const WORKER_USAGE = `usage: honker worker <module> [--queue Q]... [--concurrency N] [--list]

Imports module (its queue.task(...) calls register the tasks) and runs a worker
for every database it opened with tasks, until SIGINT or SIGTERM: claiming
stops, running tasks finish (30 s grace), unstarted jobs go back to pending,
and what the worker did is printed. A .ts module runs through your project's
tsx (npm install -D tsx) or Node's own type stripping (Node 23.6+).
  --queue Q          work only these queues (repeatable; default: every queue with a task)
  --concurrency N    tasks running at once per database (default 1)
  --list             print the registered tasks and exit (this imports the
                     module, so its top-level code runs, as for a worker)`;

export interface WorkerArgs {
  module: string;
  queues: string[] | undefined;
  concurrency: number;
  list: boolean;
}

async function importModule(file: string): Promise<void> {
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) throw new CliError(`no such module: ${file}`);
  try {
    if (/\.[mc]?ts$/.test(resolved)) await importTypeScript(resolved);
    else await import(pathToFileURL(resolved).href);
  } catch (err) {
    const where = syntaxErrorAt(err);
    throw where ? new CliError(where) : err;
  }
}

/**
 * A module that does not parse as "file:line:column: message" (1-based, as editors take it),
 * or undefined for any other error. tsx reports esbuild's "Transform failed with 1 error:"
 * with the place on the next line (`<file>:<line>:<column>: ERROR: <text>`, column 0-based;
 * esbuild's own error also carries it in errors[0].location); Node's SyntaxError for a
 * CommonJS file starts its stack with `<file>:<line>`, the source line and a caret.
 */
function syntaxErrorAt(err: unknown): string | undefined {
  const e = err as { errors?: Array<{ text?: string; location?: { file: string; line: number; column: number } }>; message?: unknown; stack?: unknown };
  const first = e?.errors?.[0];
  if (first?.location) return `${shortPath(first.location.file)}:${first.location.line}:${first.location.column + 1}: ${first.text}`;
  const esbuild = typeof e?.message === 'string' ? /^(.+):(\d+):(\d+): ERROR: (.*)$/m.exec(e.message) : null;
  if (esbuild) return `${shortPath(esbuild[1]!)}:${esbuild[2]}:${Number(esbuild[3]) + 1}: ${esbuild[4]}`;
  if (!(err instanceof SyntaxError) || typeof e.stack !== 'string') return undefined;
  const node = /^(.+):(\d+)\n.*\n( *)\^/.exec(e.stack);
  if (!node) return undefined;
  return `${shortPath(node[1]!)}:${node[2]}:${node[3]!.length + 1}: ${err.name}: ${err.message}`;
}

/** A file path (or file: URL) relative to the current directory when it is under it. */
function shortPath(file: string): string {
  const abs = file.startsWith('file:') ? fileURLToPath(file) : file;
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

function summaryLine(s: WorkerSummary): string {
  return (
    `worker ${s.workerId} stopped (${s.stoppedBy}): claimed ${s.claimed}, completed ${s.completed}, ` +
    `failed ${s.failed} (retried ${s.retried}, dead ${s.dead}), returned unstarted ${s.released}, ` +
    `abandoned ${s.abandoned}, lost ${s.lost}`
  );
}

/** A database of either engine with tasks (the names both clients share). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TaskDb = any;

export async function runWorker(args: WorkerArgs): Promise<number> {
  await importModule(args.module);
  // Every database the module defined tasks on: SQLite files (open) and Postgres databases (openPostgres).
  const dbs: TaskDb[] = taskConnections();
  if (dbs.length === 0) {
    throw new CliError(`${args.module} registers no tasks: define them with db.queue(name).task(taskName, fn)`);
  }
  if (args.list) {
    const rows = dbs.flatMap((db) =>
      registeredTasks(db).map((r) => [db.file ?? db.label, r.queue, r.name, String(r.retries), r.timeoutS === null ? '-' : String(r.timeoutS)]),
    );
    fmt.table({ json: false, tty: process.stdout.isTTY === true }, ['DATABASE', 'QUEUE', 'TASK', 'RETRIES', 'TIMEOUT S'], rows);
    for (const db of dbs) await db.close();
    return 0;
  }
  let plan: WorkPlan;
  try {
    plan = workPlan(dbs, args.queues);
  } catch (err) {
    for (const db of dbs) await db.close();
    throw err;
  }
  const workers = plan.map(({ db, queues }) => db.worker({ queues, concurrency: args.concurrency }) as { workerId: string; run(o: object): Promise<WorkerSummary> });
  for (const w of workers) process.stderr.write(`honker worker: ${w.workerId} started (Ctrl-C stops)\n`);
  const summaries = await Promise.all(workers.map((w) => w.run({ handleSignals: true })));
  for (const s of summaries) process.stderr.write(`honker ${summaryLine(s)}\n`);
  for (const db of dbs) await db.close();
  return 0;
}

/**
 * Which queues each database's worker takes: every queue with a task, or those of --queue
 * that have a task on it (a database with none of them gets no worker). A named queue with
 * no task on any database is refused: its jobs would be dead-lettered as unknown tasks.
 */
type WorkPlan = Array<{ db: TaskDb; queues: string[] | undefined }>;

function workPlan(dbs: TaskDb[], named: string[] | undefined): WorkPlan {
  if (named === undefined) return dbs.map((db) => ({ db, queues: undefined }));
  const queuesOf = new Map(dbs.map((db) => [db, new Set(registeredTasks(db).map((r) => r.queue))]));
  const all = [...new Set(dbs.flatMap((db) => [...queuesOf.get(db)!]))];
  const missing = named.find((q) => !all.includes(q));
  if (missing !== undefined) {
    throw new UsageError(`no task is registered on queue '${missing}' (queues with tasks: ${all.join(', ')})`);
  }
  return dbs.map((db) => ({ db, queues: named.filter((q) => queuesOf.get(db)!.has(q)) })).filter((p) => p.queues.length > 0);
}

export const worker: Command = {
  usage: WORKER_USAGE,
  async run(args) {
    const p = parse(worker, args, { queue: { type: 'string', multiple: true }, concurrency: { type: 'string' }, list: { type: 'boolean' } }, [1, 1]);
    if (!p) return 0;
    const queues = p.values.queue as string[] | undefined;
    return runWorker({
      module: p.positionals[0]!,
      queues: queues?.map((q) => nameArg('queue', q)),
      concurrency: intFlag(p, 'concurrency', 1, 1)!,
      list: p.values.list === true,
    });
  },
};
