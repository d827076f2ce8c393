#!/usr/bin/env node
/**
 * The `honker` command line: inspect and operate any honker database file
 * without raw SQL (stats, jobs, dead letters, enqueue, notify/listen, stream
 * tail, schedules), and run workers (`honker worker`, see ./cli/worker.ts).
 *
 * Exit codes: 0 done; 1 the command failed (missing file, not a honker
 * database, unknown queue or job, a SQLite error); 2 usage error (unknown
 * command or flag, missing or malformed argument, invalid JSON). Every error
 * is one line on stderr (a usage error ends with "(see honker <cmd> --help)"),
 * and nothing is written when a command fails: the database is checked
 * read-only (never created) before anything else.
 */
import { pathToFileURL } from 'node:url';
import type { Command } from './cli/args.js';
import { COMMANDS, GLOBAL_USAGE } from './cli/commands.js';
import { CliError, UsageError, busyMessage } from './cli/errors.js';
import { closest } from './validate.js';

/** Run the command line with argv (without node and the script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const cmd = topic === undefined ? undefined : COMMANDS.get(topic);
    process.stdout.write((cmd ? cmd.usage : GLOBAL_USAGE) + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write('honker ' + (await version()) + '\n');
    return 0;
  }
  const cmd: Command | undefined = COMMANDS.get(name);
  if (!cmd) {
    const hint = closest(name, [...COMMANDS.keys()]);
    process.stderr.write(`honker: unknown command '${name}'${hint ? `; did you mean ${hint}?` : ''} (see honker --help)\n`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`honker ${name}: ${err.message}${err.showUsage ? ` (see honker ${name} --help)` : ''}\n`);
      return 2;
    }
    const message = busyMessage(err, cmd.usage.includes('--busy-timeout')) ?? (err instanceof Error ? err.message : String(err));
    process.stderr.write(`honker ${name}: ${err instanceof CliError ? message : message.split('\n')[0]}\n`);
    return 1;
  }
}

async function version(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

// Run when executed directly (`node --import=tsx src/cli.ts …`); bin/honker.js calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`honker: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
