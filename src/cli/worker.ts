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
import { pathToFileURL } from 'node:url';
import { taskDatabases } from '../database.js';
import { registeredTasks } from '../task.js';
import type { WorkerSummary } from '../worker.js';
import { intFlag, nameArg, parse, type Command } from './args.js';
import { CliError } from './errors.js';
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
  --list             print the registered tasks and exit`;

export interface WorkerArgs {
  module: string;
  queues: string[] | undefined;
  concurrency: number;
  list: boolean;
}

async function importModule(file: string): Promise<void> {
  const resolved = path.resolve(file);
  if (!existsSync(resolved)) throw new CliError(`no such module: ${file}`);
  if (/\.[mc]?ts$/.test(resolved)) await importTypeScript(resolved);
  else await import(pathToFileURL(resolved).href);
}

function summaryLine(s: WorkerSummary): string {
  return (
    `worker ${s.workerId} stopped (${s.stoppedBy}): claimed ${s.claimed}, completed ${s.completed}, ` +
    `failed ${s.failed} (retried ${s.retried}, dead ${s.dead}), returned unstarted ${s.released}, ` +
    `abandoned ${s.abandoned}, lost ${s.lost}`
  );
}

export async function runWorker(args: WorkerArgs): Promise<number> {
  await importModule(args.module);
  const dbs = taskDatabases();
  if (dbs.length === 0) {
    throw new CliError(`${args.module} registers no tasks: define them with db.queue(name).task(taskName, fn)`);
  }
  if (args.list) {
    const rows = dbs.flatMap((db) =>
      registeredTasks(db).map((r) => [db.file, r.queue, r.name, String(r.retries), r.timeoutS === null ? '-' : String(r.timeoutS)]),
    );
    fmt.table({ json: false, tty: process.stdout.isTTY === true }, ['DATABASE', 'QUEUE', 'TASK', 'RETRIES', 'TIMEOUT S'], rows);
    for (const db of dbs) db.close();
    return 0;
  }
  const workers = dbs.map((db) => db.worker({ queues: args.queues, concurrency: args.concurrency }));
  for (const w of workers) process.stderr.write(`honker worker: ${w.workerId} started (Ctrl-C stops)\n`);
  const summaries = await Promise.all(workers.map((w) => w.run({ handleSignals: true })));
  for (const s of summaries) process.stderr.write(`honker ${summaryLine(s)}\n`);
  for (const db of dbs) db.close();
  return 0;
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
