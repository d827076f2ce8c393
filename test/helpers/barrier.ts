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

/**
 * How long a ready child waits for the barrier: longer than the tests wait for the last child to
 * be ready (60 s; starting 8 children under the sanitizer build on 2 busy cores took over 30 s)
 * plus the rate-limit race's wait out of a minute's last 10 s, shorter than the fixtures' 90 s
 * run timeout.
 */
const BARRIER_WAIT_MS = 80_000;

/** Announce readiness, then block until the barrier opens (fails after BARRIER_WAIT_MS). */
export function passStartBarrier(barrier: string, id: string): void {
  writeFileSync(`${barrier}.ready.${id}`, '');
  const deadline = Date.now() + BARRIER_WAIT_MS;
  while (!existsSync(barrier)) {
    if (Date.now() > deadline) throw new Error('barrier never opened');
    sleepSync(1);
  }
}
