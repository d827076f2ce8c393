/**
 * The start barrier of racing fixtures: each child announces itself with
 * `<barrier>.ready.<id>` and blocks until the test creates `<barrier>`, so
 * the children's calls really start together.
 */
import { existsSync, writeFileSync } from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Block the thread for ms milliseconds (no event loop turn: the race stays tight). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Announce readiness, then block until the barrier opens (fails after 30 s). */
export function passStartBarrier(barrier: string, id: string): void {
  writeFileSync(`${barrier}.ready.${id}`, '');
  const deadline = Date.now() + 30_000;
  while (!existsSync(barrier)) {
    if (Date.now() > deadline) throw new Error('barrier never opened');
    sleepSync(1);
  }
}
