/**
 * The subcommands of `honker` (src/cli.ts dispatches here): the global usage
 * and the name -> command map. Each command is a file of its own (stats.ts,
 * jobs.ts, dead.ts, enqueue.ts, notify.ts, listen.ts, tail.ts, schedule.ts,
 * dashboard.ts, worker.ts, extension-path.ts); each parses its arguments with node:util parseArgs (args.ts),
 * checks the database read-only first (open.ts: database.ts would create a
 * missing file), then reads through a read-only connection or writes through
 * the client (open()).
 */
import type { Command } from './args.js';
import { dashboardCommand } from './dashboard.js';
import { dead } from './dead.js';
import { enqueue } from './enqueue.js';
import { extensionPathCommand } from './extension-path.js';
import { jobs } from './jobs.js';
import { listen } from './listen.js';
import { migrate } from './migrate.js';
import { notify } from './notify.js';
import { schedule } from './schedule.js';
import { stats } from './stats.js';
import { tail } from './tail.js';
import { worker } from './worker.js';

export const GLOBAL_USAGE = `usage: honker <command> [options]

Inspect and operate a honker database without SQL; <db> is a SQLite file or a
postgres:// URL (a database honker is installed in):
  stats <db>                          per queue: pending, scheduled, processing, dead, oldest pending age
  jobs <db> <queue>                   list a queue's jobs (--state, --limit)
  dead <db> <queue>                   list, requeue or purge dead jobs
  enqueue <db> <queue> <json>         add a job
  notify <db> <channel> <json>        send a notification
  listen <db> <channel>               print notifications as they arrive (Ctrl-C stops)
  tail <db> <stream>                  print stream events as they arrive (--consumer saves offsets)
  schedule <db> [list|pause|resume]   cron schedules
  dashboard <db>                      serve a live dashboard in the browser (--port, --host, --read-only, --token)
  worker <module>                     run the tasks a module registers
  migrate <db> <postgres-url>         copy a SQLite file's jobs, schedules, streams and results into Postgres
  extension-path                      print the path of libhonker_ext, for other SQLite hosts

Every command takes --help; listings take --json (JSON instead of a table);
commands that write take --busy-timeout MS (how long to wait for another
process's write; default 5000).
Exit codes: 0 ok, 1 the command failed, 2 usage error.`;

export const COMMANDS = new Map<string, Command>([
  ['stats', stats],
  ['jobs', jobs],
  ['dead', dead],
  ['enqueue', enqueue],
  ['notify', notify],
  ['listen', listen],
  ['tail', tail],
  ['schedule', schedule],
  ['dashboard', dashboardCommand],
  ['migrate', migrate],
  ['worker', worker],
  ['extension-path', extensionPathCommand],
]);
