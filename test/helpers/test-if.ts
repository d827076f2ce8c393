/**
 * Tests that need something this machine may lack (script(1), chattr or a
 * bind mount, a tmpfs mount, a C compiler with sanitizers, the node-gyp
 * objects …). ava has no runtime skip, so the need is checked when the test
 * is declared: when it is not met, the test is declared with test.skip and
 * the reason in its title, and ava prints
 *   - <title> (skipped: <reason>)
 * A green run then never hides a check that did not run; and once declared
 * to run, a test whose tool fails fails.
 */
import type { Implementation } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from './test.js';

/** Declares a test, or a skipped one titled "<title> (skipped: <reason>)". */
export type TestIf = (title: string, implementation: Implementation<[]>) => void;

/** `test` when condition holds, else test.skip with the reason in the title. */
export function testIf(condition: boolean, reason: string): TestIf {
  if (condition) return (title, implementation) => test(title, implementation);
  return (title, implementation) => test.skip(`${title} (skipped: ${reason})`, implementation);
}

/** Whether `command` is on PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v '${command}'`], { stdio: 'ignore' }).status === 0;
}

/** Whether cc compiles and links an empty C program with these flags. */
export function ccBuilds(flags: string[]): boolean {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-cc-probe-'));
  try {
    const src = path.join(dir, 'probe.c');
    writeFileSync(src, 'int main(void) { return 0; }\n');
    return spawnSync('cc', [...flags, src, '-o', path.join(dir, 'probe')], { stdio: 'ignore' }).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A command prefix that runs a program as the unprivileged user nobody (uid and gid 65534, no
 * groups) with util-linux's setpriv: permission tests need it, because root passes every
 * permission check. Only possible as root; nobodyMissing says why not, else undefined.
 */
export const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
export const nobodyMissing: string | undefined =
  process.getuid?.() !== 0 ? 'not running as root' : !hasCommand('setpriv') ? 'no setpriv (util-linux)' : undefined;
