/**
 * Shared by test/reliability/faults.*.test.ts: run the faults fixture
 * (test/fixtures/reliability-faults-child.ts) with a bounded wait, optionally
 * under a wrapper (prlimit), and make files read-only for root (chattr +i,
 * else a read-only bind mount) or a small tmpfs, undoing it after the test.
 */
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixturePath, LineChild, owned, tsxCommand, type Line } from '../helpers/child.js';

export type { Line };

export interface ChildResult {
  lines: Line[];
  stderr: string;
  code: number | null;
  /** The child was SIGKILLed at the time limit: it hung. */
  timedOut: boolean;
  ms: number;
}

const FIXTURE = fixturePath('reliability-faults-child');

export interface RunOptions {
  /** Command put in front of node (e.g. ['prlimit', '--fsize=N', '--']). */
  prefix?: string[];
  timeoutMs?: number;
  /** Called with each parsed line as it arrives (with the child's stdin, to signal it). */
  onLine?: (line: Line, child: { end(): void }) => void;
}

/** Run the faults fixture; never waits longer than timeoutMs (then it kills the child: timedOut). */
export async function runFaultChild(t: ExecutionContext, args: string[], opts: RunOptions = {}): Promise<ChildResult> {
  const [node, nodeArgs] = tsxCommand(FIXTURE, args);
  const [command, ...rest] = [...(opts.prefix ?? []), node, ...nodeArgs];
  const started = Date.now();
  const child: LineChild<Line> = owned(
    t,
    LineChild.json<Line>(command, rest, { label: 'reliability-faults-child', onLine: (line) => opts.onLine?.(line, child) }),
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.signal('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  const code = await child.exited;
  clearTimeout(timer);
  return { lines: child.lines, stderr: child.stderr, code, timedOut, ms: Date.now() - started };
}

export const errorsOf = (r: ChildResult): Line[] => r.lines.filter((l) => l.kind === 'error');

function ok(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

/** Whether root can write to target now (a new file in a directory, an append to a file). */
export function writable(target: string, isDir: boolean): boolean {
  try {
    if (isDir) {
      const probe = path.join(target, `.probe-${process.pid}`);
      writeFileSync(probe, 'x');
      rmSync(probe);
    } else {
      closeSync(openSync(target, 'r+'));
      appendFileSync(target, '');
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Make target read-only even for root: `chattr +i` (ext4 and co), else a
 * read-only bind mount of a directory; `undo` receives what reverts it.
 * Returns how, or undefined when nothing works here.
 */
function readOnly(target: string, isDir: boolean, undo: (revert: () => void) => void): string | undefined {
  if (ok('chattr', ['+i', target])) {
    undo(() => void ok('chattr', ['-i', target]));
    if (!writable(target, isDir)) return 'chattr +i';
    ok('chattr', ['-i', target]);
  }
  if (isDir && ok('mount', ['--bind', target, target])) {
    undo(() => void ok('umount', ['-l', target]));
    if (ok('mount', ['-o', 'remount,bind,ro', target]) && !writable(target, isDir)) return 'read-only bind mount';
  }
  return undefined;
}

/** Make target read-only even for root (see readOnly), undone after the test; undefined when nothing works. */
export function makeReadOnly(t: ExecutionContext, target: string, isDir: boolean): string | undefined {
  return readOnly(target, isDir, (revert) => t.teardown(revert));
}

/**
 * Whether a file (or a directory) in the temp directory can be made
 * read-only for root here, tried on a scratch one and undone at once: asked
 * when the tests are declared, to skip those that need it.
 */
export function canMakeReadOnly(isDir: boolean): boolean {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-ro-probe-'));
  const target = path.join(dir, 'target');
  if (isDir) mkdirSync(target);
  else writeFileSync(target, 'x');
  const reverts: Array<() => void> = [];
  try {
    return readOnly(target, isDir, (revert) => reverts.push(revert)) !== undefined;
  } finally {
    for (const revert of reverts.reverse()) revert();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether a tmpfs can be mounted here, tried on a scratch directory and unmounted at once (asked when tests are declared). */
export function canMountTmpfs(): boolean {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-tmpfs-probe-'));
  try {
    if (!ok('mount', ['-t', 'tmpfs', '-o', 'size=65536', 'tmpfs', dir])) return false;
    ok('umount', ['-l', dir]);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Mount a tmpfs of sizeBytes on dir (unmounted after the test); false where mounting is not permitted. */
export function mountTmpfs(t: ExecutionContext, dir: string, sizeBytes: number): boolean {
  if (!ok('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir])) return false;
  t.teardown(() => void ok('umount', ['-l', dir]));
  return true;
}

/** A command prefix that runs the child with RLIMIT_FSIZE = bytes: prlimit, else sh's ulimit -f. */
export function fsizePrefix(bytes: number): string[] {
  if (ok('prlimit', ['--version'])) return ['prlimit', `--fsize=${bytes}`, '--'];
  // POSIX sh: dash counts ulimit -f in 512-byte blocks.
  return ['sh', '-c', `ulimit -f ${Math.floor(bytes / 512)} && exec "$0" "$@"`];
}
