/**
 * Faults (issue 6): the database file replaced under a running worker (a
 * different database renamed over it) or deleted. A child parks a claim
 * iterator and db.worker().run() on the file; the test then swaps the file.
 * Both must reject with the WATCHER_DEAD HonkerError, naming the file and
 * saying what happened, within a bounded time (the watcher sees the rename
 * through inotify at once, else its poll within ~500 ms); the child exits by
 * itself (nothing hangs).
 */
import test from '../helpers/test.js';
import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { open } from '../../src/index.js';
import { tempDir } from '../helpers/db.js';
import { report } from './contention-helpers.js';
import { runFaultChild, type Line } from './faults-helpers.js';

const BOUND_MS = 10_000; // measured: a few ms (inotify); the poll alone would take <= 500 ms

for (const how of ['replaced', 'deleted'] as const) {
  test(`a database ${how} under a running worker: the iterator and worker.run() reject with WATCHER_DEAD, the process exits`, async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'live.db');
    const other = path.join(dir, 'other.db');
    for (const f of [file, other]) open(f).close();
    let swappedAt = 0;
    const r = await runFaultChild(t, ['replace', file], {
      timeoutMs: 60_000,
      onLine: (line: Line) => {
        if (line.kind !== 'ready') return;
        swappedAt = Date.now();
        if (how === 'replaced') renameSync(other, file);
        else for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
      },
    });
    t.false(r.timedOut, `the child hung; lines: ${JSON.stringify(r.lines)}; stderr: ${r.stderr}`);
    t.is(r.code, 0, r.stderr);
    t.is(r.lines.at(-1)?.kind, 'end');
    t.deepEqual(r.lines.filter((l) => l.kind === 'error'), []);
    const ended = ['iterator', 'worker'].map((kind) => r.lines.find((l) => l.kind === kind));
    for (const [i, e] of ended.entries()) {
      const what = i === 0 ? 'the claim iterator' : 'worker.run()';
      if (!e) {
        t.fail(`${what} never ended: ${JSON.stringify(r.lines)}`);
        continue;
      }
      t.is(e.outcome, 'rejected', `${what}: ${JSON.stringify(e)}`);
      t.is(e.code, 'WATCHER_DEAD', `${what}: ${JSON.stringify(e)}`);
      t.regex(String(e.message), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was ${how}`));
      t.true((e.atMs as number) - swappedAt < BOUND_MS, `${what} took ${(e.atMs as number) - swappedAt} ms`);
    }
    const figures = {
      scenario: `faults.${how}-under-worker`,
      iteratorMs: ended[0] ? (ended[0].atMs as number) - swappedAt : null,
      workerMs: ended[1] ? (ended[1].atMs as number) - swappedAt : null,
      message: ended[0]?.message,
    };
    t.log(JSON.stringify(figures));
    report(figures);
  });
}
