/**
 * Contention (issue 6): 4 producer and 4 consumer processes on one database
 * file, with mixed priorities, delays and planned failures (retries and dead
 * letters), while 2 listener processes stay parked. Proves:
 *   - no error at all reaches user code (each child catches and reports every
 *     error; SQLITE_BUSY / "database is locked" would be one), with open()'s
 *     defaults (busy_timeout 5000);
 *   - nothing lost or duplicated: the `produced` ledger (written in each
 *     enqueue's transaction) = acked (exactly one `ack` row, written in the
 *     ack's transaction) + dead (in _honker_dead, attempts counted), nothing
 *     left in _honker_live, every attempt recorded once;
 *   - delayed jobs never ran before their run_at;
 *   - PRAGMA integrity_check is ok;
 *   - the -wal file, sampled every 20 ms, stays under WAL_BOUND_BYTES and is
 *     restarted at least once every 3 s (found here: with PASSIVE checkpoints
 *     only, busy writers kept the WAL growing ~50 MB/s; src/checkpoint.ts).
 * Short (default): 4 s of production; soak: 5 min (the issue's long version).
 * HONKER_CONTENTION_S overrides the production time (e.g. 30 for the issue's 30 s).
 */
import test, { type ExecutionContext } from '../helpers/test.js';
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { open } from '../../src/index.js';
import { fixtureChild, type Line, type LineChild } from '../helpers/child.js';
import { openDb, tempDir } from '../helpers/db.js';
import { LEDGER_DDL, MAX_ATTEMPTS, QUEUE, report, type CaughtError } from './contention-helpers.js';
import { scale, soak } from './soak.js';

const RUN_MS = process.env.HONKER_CONTENTION_S ? Number(process.env.HONKER_CONTENTION_S) * 1000 : scale(4_000, 300_000);
/**
 * The WAL bound: 3-4x the peak measured with src/checkpoint.ts (PASSIVE past 1000 pages,
 * TRUNCATE past 4000: 35-38 MB in the short run, 12-18 restarts in 4 s of production), and well
 * under what PASSIVE alone let it reach (222-340 MB after 4 s, 1.08 GB after 19 s). The test also
 * asks for a restart of the WAL (its header's checkpoint sequence) at least once every 3 s.
 */
const WAL_BOUND_BYTES = scale(128, 256) * 1024 * 1024;
/** Production stops early (figures.stoppedEarly) past this WAL size: a 5-min soak must not fill the disk. */
const WAL_STOP_BYTES = 4 * WAL_BOUND_BYTES;
/** After production stops, the consumers must finish the backlog (incl. 1-2 s delays and retries) within this. */
const DRAIN_MS = scale(90_000, 300_000);

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))),
  ]);
}

/** The checkpoint sequence number in a WAL file's header (bytes 12-15, big-endian): +1 at each restart. */
function walCheckpointSeq(wal: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(wal, 'r');
    const header = Buffer.alloc(16);
    if (readSync(fd, header, 0, 16, 0) < 16) return undefined;
    return header.readUInt32BE(12);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  figures: Record<string, unknown> & { walPeakBytes: number; walRestartsProducing: number; produceMs: number };
  /** [label, actual, expected] of every check but the WAL bound. */
  checks: Array<[string, unknown, unknown]>;
}

let shared: Promise<Outcome> | undefined;
/** The scenario runs once (under whichever test asks first); both tests below read its outcome. */
function scenario(t: ExecutionContext): Promise<Outcome> {
  t.timeout(RUN_MS + DRAIN_MS + 180_000);
  shared ??= run(t);
  return shared;
}

async function run(t: ExecutionContext): Promise<Outcome> {
  const file = path.join(tempDir(t), 'contention.db');
  const setup = open(file);
  setup.raw.exec(LEDGER_DDL);
  setup.close();

  const children: LineChild<Line>[] = [];
  const start = (name: string, args: string[]): LineChild<Line> => {
    const c = fixtureChild(t, name, args);
    children.push(c);
    return c;
  };
  const listeners = [0, 1].map(() => start('reliability-contention-listener', [file]));
  for (const [i, batch] of [1, 2, 4, 8].entries()) start('reliability-contention-consumer', [file, `c${i}`, String(batch)]);
  const producers = [0, 1, 2, 3].map((i) => start('reliability-contention-producer', [file, `p${i}`, String(RUN_MS)]));
  await Promise.all(children.map((c) => c.waitFor((l) => l.kind === 'ready', 60_000)));

  let walPeak = 0;
  let walSamples = 0;
  let stoppedEarly = false;
  let walRestarts = 0; // times the WAL was restarted from its start (its header's checkpoint sequence moved)
  let lastSeq: number | undefined;
  const walTimelineMb: number[] = []; // the -wal file's size each second, MB
  const sampler = setInterval(() => {
    try {
      walPeak = Math.max(walPeak, statSync(`${file}-wal`).size);
      const seq = walCheckpointSeq(`${file}-wal`);
      if (seq !== undefined && seq !== lastSeq) {
        if (lastSeq !== undefined) walRestarts++;
        lastSeq = seq;
      }
      if (walPeak > WAL_STOP_BYTES && !stoppedEarly) {
        stoppedEarly = true;
        writeFileSync(`${file}.stop`, '');
      }
      if (walSamples++ % 50 === 0) walTimelineMb.push(Math.round(walPeak / 1e5) / 10);
    } catch {
      // no WAL file at this instant
    }
  }, 20);
  t.teardown(() => clearInterval(sampler));

  const t0 = Date.now();
  writeFileSync(`${file}.go`, '');
  const done = await Promise.all(producers.map((p) => p.waitFor((l) => l.kind === 'done', RUN_MS + 120_000)));
  const produceMs = Date.now() - t0;
  const walRestartsProducing = walRestarts;

  // Drain: wait until nothing of the queue is live any more (delayed jobs and retries included).
  const check = openDb(file, { bootstrap: false });
  t.teardown(() => check.close());
  const liveCount = check.prepare('SELECT count(*) FROM _honker_live WHERE queue = ?').pluck();
  const drainDeadline = Date.now() + DRAIN_MS;
  while ((liveCount.get(QUEUE) as number) > 0) {
    if (Date.now() > drainDeadline) break;
    await sleep(100);
  }
  const totalMs = Date.now() - t0;
  clearInterval(sampler);

  const exits = await within(Promise.all(children.map((c) => c.stop())), 60_000, 'children stopping');
  const stderr = children.map((c) => c.stderr).join('\n');

  // Errors that reached user code, in any child.
  const errors = children.flatMap((c) => c.of('error')) as unknown as CaughtError[];
  const busy = errors.filter((e) => /SQLITE_BUSY|SQLITE_LOCKED/.test(e.code ?? '') || /locked|busy/i.test(e.message));
  const lost = children.flatMap((c) => c.of('lost'));

  // The ledgers against the queue's tables.
  const produced = check.prepare('SELECT job_id AS id, run_at, delayed, fails FROM produced').all() as Array<{
    id: number;
    run_at: number;
    delayed: number;
    fails: number;
  }>;
  const acks = check
    .prepare("SELECT job_id AS id, count(*) AS n, max(attempt) AS attempt FROM consumed WHERE outcome = 'ack' GROUP BY job_id")
    .all() as Array<{ id: number; n: number; attempt: number }>;
  const retries = new Map(
    (
      check
        .prepare("SELECT job_id AS id, count(*) AS n, count(DISTINCT attempt) AS d FROM consumed WHERE outcome = 'retry' GROUP BY job_id")
        .all() as Array<{ id: number; n: number; d: number }>
    ).map((r) => [r.id, r]),
  );
  const dead = check.prepare('SELECT id, attempts, max_attempts FROM _honker_dead WHERE queue = ?').all(QUEUE) as Array<{
    id: number;
    attempts: number;
    max_attempts: number;
  }>;
  const live = liveCount.get(QUEUE) as number;
  const early = check
    .prepare(
      // A join on the grouped ledger: a correlated subquery (consumed has no index) took minutes on the soak's 400k rows.
      'SELECT count(*) FROM produced p JOIN (SELECT job_id, min(at_s) AS first FROM consumed GROUP BY job_id) c ON c.job_id = p.job_id WHERE p.delayed = 1 AND c.first < p.run_at',
    )
    .pluck()
    .get() as number;
  const integrity = check.pragma('integrity_check', { simple: true });

  const producedById = new Map(produced.map((p) => [p.id, p]));
  const ackedIds = new Set(acks.map((a) => a.id));
  const deadIds = new Set(dead.map((d) => d.id));
  const doubled = acks.filter((a) => a.n !== 1);
  const ackedAndDead = [...ackedIds].filter((id) => deadIds.has(id));
  const missing = produced.filter((p) => !ackedIds.has(p.id) && !deadIds.has(p.id)).map((p) => p.id);
  const unknown = [...ackedIds, ...deadIds, ...retries.keys()].filter((id) => !producedById.has(id));
  // Attempts: an acked job ran fails+1 times (one retry row per failure); a dead one MAX_ATTEMPTS times.
  const wrongAttempts = [
    ...acks.filter((a) => {
      const p = producedById.get(a.id);
      const r = retries.get(a.id);
      return p !== undefined && (p.fails >= MAX_ATTEMPTS || a.attempt !== p.fails + 1 || (r?.n ?? 0) !== p.fails || (r?.d ?? 0) !== p.fails);
    }),
    ...dead.filter((d) => {
      const p = producedById.get(d.id);
      const r = retries.get(d.id);
      return d.attempts !== MAX_ATTEMPTS || (p !== undefined && p.fails < MAX_ATTEMPTS) || r?.n !== MAX_ATTEMPTS || r?.d !== MAX_ATTEMPTS;
    }),
  ].map((x) => x.id);
  const committed = done.reduce((s, d) => s + (d.committed as number), 0);

  const figures = {
    scenario: 'contention',
    soak,
    producers: 4,
    consumers: 4,
    listeners: 2,
    produceMs,
    totalMs,
    jobs: produced.length,
    acked: acks.length,
    dead: dead.length,
    retries: [...retries.values()].reduce((s, r) => s + r.n, 0),
    delayed: produced.filter((p) => p.delayed).length,
    producedPerS: Math.round((produced.length / produceMs) * 1000),
    settledPerS: Math.round(((acks.length + dead.length) / totalMs) * 1000),
    errors: errors.length,
    busyErrors: busy.length,
    lost: lost.length,
    notificationsReceived: listeners.map((l) => l.of('done')[0]?.received),
    walPeakBytes: walPeak,
    walSamples,
    walTimelineMb,
    walRestarts,
    walRestartsProducing,
    walBoundBytes: WAL_BOUND_BYTES,
    stoppedEarly,
    integrity,
  };
  t.log(JSON.stringify(figures));
  report(figures);
  const checks: Array<[string, unknown, unknown]> = [
    [`children's exit codes; stderr: ${stderr}`, exits, children.map(() => 0)],
    ['errors that reached user code', errors, []],
    ['SQLITE_BUSY / locked errors', busy.length, 0],
    ['acks refused (claims lost)', lost, []],
    ['producers committed = produced ledger rows', committed, produced.length],
    ['some jobs were produced', produced.length > 0, true],
    [`jobs still live after ${DRAIN_MS} ms of drain`, live, 0],
    ['jobs acked more than once', doubled, []],
    ['jobs both acked and dead', ackedAndDead, []],
    ['produced jobs neither acked nor dead', missing, []],
    ['acked/dead/retried ids that no producer committed', unknown, []],
    ['jobs whose attempts do not match their planned failures', wrongAttempts, []],
    ['delayed jobs that ran before their run_at', early, 0],
    ['integrity_check', integrity, 'ok'],
    ['listener errors', listeners.map((l) => l.of('done')[0]?.errors), [0, 0]],
  ];
  return { figures, checks };
}

test(`contention: 4 producers, 4 consumers, 2 parked listeners on one file: no busy error, nothing lost or doubled, integrity ok, the WAL under ${WAL_BOUND_BYTES >> 20} MB and recycled`, async (t) => {
  const { figures, checks } = await scenario(t);
  for (const [label, actual, expected] of checks) t.deepEqual(actual, expected, label);
  // Found here: with PASSIVE checkpoints only, the WAL was never restarted while the producers
  // ran and grew ~50 MB/s (222-340 MB in 4 s); src/checkpoint.ts now completes its checkpoints.
  t.true(figures.walPeakBytes < WAL_BOUND_BYTES, `WAL peak ${figures.walPeakBytes} bytes`);
  // Bounded however long the run: the WAL restarts from its start while the producers run. Quiet,
  // 3-4.5 restarts a second (12-18 in 4 s); 2-3 in 4 s with the 2 cores loaded by other suites.
  // The bound, one per 3 s, is ~10x under the quiet rate and still catches "never restarted".
  const needed = Math.max(1, Math.floor(figures.produceMs / 3000));
  t.true(figures.walRestartsProducing >= needed, `${figures.walRestartsProducing} WAL restarts in ${figures.produceMs} ms`);
});
