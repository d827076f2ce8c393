/**
 * One error type for failures honker itself detects at run time, with a
 * string `code` (like better-sqlite3's SqliteError). Errors raised by the
 * extension pass through unchanged: their message already names the SQL
 * function and the argument.
 */
export type HonkerErrorCode =
  | 'INVALID_ARGUMENT'
  | 'CLOSED'
  | 'WATCHER_DEAD'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'JOB_FAILED'
  | 'CLAIM_LOST'
  | 'EXTENSION_NOT_FOUND'
  | 'CANNOT_OPEN';

export class HonkerError extends Error {
  readonly code: HonkerErrorCode;

  constructor(code: HonkerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HonkerError';
    this.code = code;
  }
}

/** The error an aborted wait rejects with: the signal's reason when it is an Error. */
export function abortError(signal: AbortSignal, where: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new HonkerError('ABORTED', `${where}: aborted`, { cause: reason });
}
