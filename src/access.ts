/**
 * Why a database file cannot be opened, asked of the file system before
 * SQLite tries. SQLite's own answers name neither the file nor the cause
 * ("unable to open database file", "disk I/O error" for a directory, "attempt
 * to write a readonly database"), and a file this user cannot write even
 * opens, silently read-only, after which the first read creates `-wal` and
 * `-shm` files owned by this user, which the file's owner then cannot write.
 *
 * A connection that writes a WAL database needs: the file readable and
 * writable; and its `-wal` and `-shm` files writable, or a writable directory
 * to create them in. Reading needs the file readable. Root passes every
 * permission check (access(2)), but not a read-only file system.
 * open() and attach() (database.ts) turn what is found into a CANNOT_OPEN
 * HonkerError with advice; the CLI (cli/open.ts) gives its own.
 */
import { accessSync, constants, readFileSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { HonkerError } from './errors.js';

export interface AccessProblem {
  /**
   * directory: not a file; missing-directory: nowhere to create it; no-permission: this user
   * may not (another may); read-only: no user may (a read-only file system, an immutable file).
   */
  kind: 'directory' | 'missing-directory' | 'no-permission' | 'read-only';
  /** One sentence naming the file and the cause, without advice: "cannot write /srv/app.db: permission denied (owned by app, mode 0644)". */
  message: string;
}

/** Why this process may not do something to one file: the kind of problem, and the words for it. */
interface Denial {
  kind: 'no-permission' | 'read-only';
  why: string;
}

/** What keeps this process from opening file to read and write it (creating it if missing); undefined when nothing does. */
export function writeProblem(file: string): AccessProblem | undefined {
  const stat = statOf(file);
  if (stat?.isDirectory()) return { kind: 'directory', message: `${file} is a directory, not a database file` };
  const dir = path.dirname(file);
  const dirStat = statOf(dir);
  if (!dirStat?.isDirectory()) {
    return { kind: 'missing-directory', message: `cannot create ${file}: the directory ${dir} does not exist` };
  }
  const dirDenied = denied(dir, dirStat, constants.W_OK | constants.X_OK);
  if (!stat) return dirDenied && { kind: dirDenied.kind, message: `cannot create ${file} in ${dir}: ${dirDenied.why}` };
  const fileDenied = denied(file, stat, constants.R_OK | constants.W_OK);
  if (fileDenied) return { kind: fileDenied.kind, message: `cannot write ${file}: ${fileDenied.why}` };
  for (const side of [`${file}-wal`, `${file}-shm`]) {
    const sideStat = statOf(side);
    const sideDenied = sideStat && denied(side, sideStat, constants.R_OK | constants.W_OK);
    if (sideDenied) return { kind: sideDenied.kind, message: `cannot write ${side}: ${sideDenied.why}` };
    if (!sideStat && dirDenied) {
      const base = path.basename(file);
      const message = `cannot write ${file}: WAL mode needs ${base}-wal and ${base}-shm beside it, and cannot create them in ${dir}: ${dirDenied.why}`;
      return { kind: dirDenied.kind, message };
    }
  }
  return undefined;
}

/** What keeps this process from reading file; undefined when nothing does (a missing file is the caller's case). */
export function readProblem(file: string): AccessProblem | undefined {
  const stat = statOf(file);
  if (stat?.isDirectory()) return { kind: 'directory', message: `${file} is a directory, not a database file` };
  const fileDenied = stat && denied(file, stat, constants.R_OK);
  return fileDenied && { kind: fileDenied.kind, message: `cannot read ${file}: ${fileDenied.why}` };
}

/** What to do about each kind of access problem, after its message. */
const WRITES_TO_READ = "honker writes even to read: its tables, and WAL's -wal and -shm files";
const ADVICE: Record<AccessProblem['kind'], string> = {
  directory: '',
  'missing-directory': '; create the directory first',
  'no-permission': `; run as a user who may write there, or change the owner or mode (${WRITES_TO_READ})`,
  'read-only': `; no user can write there: make it writable, or copy the database to a place that is (${WRITES_TO_READ})`,
};

/** A CANNOT_OPEN HonkerError: where, the problem, and what to do about it. */
export function cannotOpen(where: string, problem: AccessProblem, cause?: unknown): HonkerError {
  return new HonkerError('CANNOT_OPEN', `${where}: ${problem.message}${ADVICE[problem.kind]}`, { cause });
}

/** A SQLite failure to open, read or write file as a CANNOT_OPEN HonkerError naming the cause; undefined when the file system shows none. */
export function openFailure(where: string, file: string, err: unknown): HonkerError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^SQLITE_(CANTOPEN|READONLY|IOERR|PERM)/.test(code)) return undefined;
  const problem = writeProblem(file);
  return problem && cannotOpen(where, problem, err);
}

function statOf(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** undefined when this process has mode (R_OK, W_OK …) on file, else why not: "permission denied (owned by app, mode 0644)". */
function denied(file: string, stat: Stats, mode: number): Denial | undefined {
  try {
    accessSync(file, mode);
    return undefined;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EROFS') return { kind: 'read-only', why: 'read-only file system' };
    // access(2) answers EPERM for an immutable file (chattr +i), even to root.
    if (code === 'EPERM') return { kind: 'read-only', why: 'operation not permitted (immutable? see lsattr)' };
    const perms = (stat.mode & 0o7777).toString(8).padStart(4, '0');
    const who = process.getuid?.() === stat.uid ? 'yours' : `owned by ${userName(stat.uid)}`;
    return { kind: 'no-permission', why: `permission denied (${who}, mode ${perms})` };
  }
}

/** The login name of uid from /etc/passwd, else "uid N". */
function userName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (id === String(uid) && name) return name;
    }
  } catch {
    // no /etc/passwd (or not readable): the number will do
  }
  return `uid ${uid}`;
}
