/**
 * The two ways a `honker` command fails; src/cli.ts turns each into its exit
 * code and one line on stderr.
 */

/** Bad command line: exit 2 (pointing to the command's --help when showUsage). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = false,
  ) {
    super(message);
  }
}

/** The command failed (missing file, not a honker database, unknown queue …): exit 1. */
export class CliError extends Error {}

/**
 * The one line for a write that waited busy_timeout for another process's write lock
 * (SQLITE_BUSY, kept by the extension's errors); undefined for any other error.
 */
export function busyMessage(err: unknown, canWaitLonger: boolean): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) return undefined;
  return `the database is locked by another process's write; try again${canWaitLonger ? ', or wait longer with --busy-timeout 30000' : ''}`;
}
