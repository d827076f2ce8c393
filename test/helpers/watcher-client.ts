/**
 * Helpers of the client watcher tests (test/watcher.client*.test.ts) and its
 * benches: the child fixture, CPU time of a process, open descriptors.
 */
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { fixturePath, LineChild, owned, tsxCommand } from './child.js';

/** Start test/fixtures/client-watcher-child.ts in `mode` on dbFile, spoken to in JSON lines; killed after the test. */
export function startClientChild(t: ExecutionContext, mode: 'serve' | 'abort-no-close' | 'wait-notify', dbFile: string): LineChild {
  const [command, args] = tsxCommand(fixturePath('client-watcher-child'), [mode, dbFile]);
  return owned(t, LineChild.text(command, args, { label: `client-watcher-child ${mode}`, timeoutMs: 15_000 }));
}

/** Send a command to a serve child and parse its JSON reply. */
export async function ask<T = Record<string, number>>(child: LineChild, command: string, timeoutMs?: number): Promise<T> {
  return JSON.parse(await child.ask(command, timeoutMs)) as T;
}

let ticksPerSecond: number | undefined;

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number | 'self' = 'self'): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), 1-based field 3 first: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

/** Share of one core a process used over ms (a percentage). */
export async function cpuPercent(pid: number, ms: number): Promise<number> {
  const before = cpuMs(pid);
  const t0 = performance.now();
  await sleep(ms);
  const used = cpuMs(pid) - before;
  return (100 * used) / (performance.now() - t0);
}

/** How many descriptors of this process are open on `file` (a connection holds one on the main file). */
export function fdsOn(file: string): number {
  const target = realpathSync(file);
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === target) n++;
    } catch {
      // closed meanwhile (e.g. the readdir handle itself)
    }
  }
  return n;
}

/** Poll `fn` every few ms until it returns true; false after timeoutMs. */
export async function until(fn: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const clock = (): number => performance.timeOrigin + performance.now();
