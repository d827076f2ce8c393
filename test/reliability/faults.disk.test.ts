/**
 * Faults (issue 6): a full disk. A child enqueues 64 KB payloads, one commit
 * each, into a file that cannot grow past ~2 MB — on a 2 MB tmpfs where
 * mounting is permitted, and (always) under RLIMIT_FSIZE = 2 MB with SIGXFSZ
 * ignored. Proves: the enqueue that does not fit throws a clear error
 * (SQLITE_FULL / disk I/O error) instead of returning an id; every enqueue that
 * did return an id is in the file afterwards, and nothing else is; the file
 * passes integrity_check; nothing hangs (bounded child).
 */
import test, { type ExecutionContext } from '../helpers/test.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { openDb, tempDir } from '../helpers/db.js';
import { testIf } from '../helpers/test-if.js';
import { report } from './contention-helpers.js';
import { canMountTmpfs, errorsOf, fsizePrefix, mountTmpfs, runFaultChild, type ChildResult } from './faults-helpers.js';

const LIMIT = 2 * 1024 * 1024;
const PAYLOAD = 64 * 1024;
const MAX_JOBS = 200; // 12.8 MB: far past the limit

function verify(t: ExecutionContext, how: string, file: string, r: ChildResult): void {
  t.false(r.timedOut, `the child hung; lines: ${JSON.stringify(r.lines.slice(-3))}; stderr: ${r.stderr}`);
  t.is(r.code, 0, r.stderr);
  const ids = r.lines.filter((l) => l.kind === 'enqueued').map((l) => l.id as number);
  const errors = errorsOf(r);
  const atEnqueue = errors.filter((e) => e.stage === 'enqueue');
  const first = atEnqueue[0];
  t.log(JSON.stringify({ how, enqueued: ids.length, errors: errors.map((e) => `${e.stage} ${e.code}: ${e.message}`), ms: r.ms }));
  t.true(ids.length > 0 && ids.length < MAX_JOBS, `${ids.length} enqueues returned an id`);
  t.true(atEnqueue.length > 0, 'no enqueue failed: the disk never filled?');
  t.deepEqual(
    errors.filter((e) => !['enqueue', 'notify', 'publish', 'close'].includes(e.stage as string)),
    [],
    'errors outside enqueue, notify, publish and close',
  );
  for (const e of errors.filter((x) => x.stage !== 'close')) {
    t.regex(String(e.code), /^SQLITE_(FULL|IOERR)/, JSON.stringify(e));
    t.regex(String(e.message), /full|disk I\/O error/i, JSON.stringify(e));
  }
  t.is(r.lines.at(-1)?.kind, 'end');

  const db = openDb(file, { bootstrap: false });
  try {
    const live = db.prepare("SELECT id FROM _honker_live WHERE queue = 'big' ORDER BY id").pluck().all() as number[];
    t.deepEqual(live, ids, 'the jobs in the file = the enqueues that returned an id');
    // A notify / publish on the full disk either threw or is stored.
    for (const [kind, sql] of [
      ['notified', 'SELECT count(*) FROM _honker_notifications WHERE id = ?'],
      ['published', 'SELECT count(*) FROM _honker_stream WHERE offset = ?'],
    ] as const) {
      for (const l of r.lines.filter((x) => x.kind === kind)) {
        t.is(db.prepare(sql).pluck().get(l.id), 1, `${kind} ${l.id} returned an id but is not stored`);
      }
    }
    const integrity = db.pragma('integrity_check', { simple: true });
    t.is(integrity, 'ok');
    const figures = { scenario: `faults.full-disk.${how}`, enqueued: ids.length, firstError: first && `${first.code}: ${first.message}`, integrity, ms: r.ms };
    report(figures);
  } finally {
    db.close();
  }
}

const withTmpfs = testIf(canMountTmpfs(), 'mount -t tmpfs is not permitted here (the RLIMIT_FSIZE test still runs)');

// Found here: honker_enqueue, notify() and honker_stream_publish in autocommit mode returned an
// id although their commit failed: a write statement commits when it halts, and that was left to
// sqlite3_reset, whose SQLITE_FULL / IOERR was ignored. Writes now run to SQLITE_DONE first.
withTmpfs('full disk (a 2 MB tmpfs): enqueue fails with SQLITE_FULL, every returned id is stored, integrity ok', async (t) => {
  const dir = path.join(tempDir(t), 'mnt');
  mkdirSync(dir);
  const file = path.join(dir, 'full.db');
  if (!mountTmpfs(t, dir, LIMIT)) return t.fail('the probe mounted a tmpfs, this mount failed');
  const r = await runFaultChild(t, ['fill', file, String(PAYLOAD), String(MAX_JOBS)], { timeoutMs: 60_000 });
  verify(t, 'tmpfs', file, r);
});

test('full disk (RLIMIT_FSIZE 2 MB, SIGXFSZ ignored): enqueue fails with a disk error, every returned id is stored, integrity ok', async (t) => {
  const file = path.join(tempDir(t), 'full.db');
  const r = await runFaultChild(t, ['fill', file, String(PAYLOAD), String(MAX_JOBS)], {
    prefix: fsizePrefix(LIMIT),
    timeoutMs: 60_000,
  });
  verify(t, 'rlimit', file, r);
});
