/**
 * The two ways a `honker` command fails; src/cli.ts turns each into its exit
 * code and one line on stderr.
 */

/** Bad command line: exit 2 (with the command's usage when showUsage). */
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
