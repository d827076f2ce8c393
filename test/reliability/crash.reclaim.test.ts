/**
 * Crashes: a worker SIGKILLed while it holds jobs; another worker process claims them within
 * seconds, not after the visibility timeout (300 s here: the default). Worker liveness,
 * ext/lifeline.c: a registered worker's process holds a lock the OS drops when it dies.
 *
 * Each kill: a victim starts and claims JOBS jobs (and holds them: its handler never returns);
 * a rescuer (db.worker in another process, concurrency 8) starts, registers and parks; after a
 * random 0-1 s (to sample the phase of the once-a-second look) the victim is SIGKILLed. Measured:
 * from the SIGKILL to the rescuer starting the last of the victim's jobs (its `start` line's
 * Date.now()). Each kill must be reclaimed within BOUND_MS; every job then ran exactly twice
 * (victim, rescuer), its second attempt counted, and was acked once.
 *
 * Victims: db.worker, the claim iterator, the `honker worker` CLI, and a Python process that
 * registered with SQL (`SELECT honker_worker_register('py-…')`). Short: 3 kills of db.worker
 * and 1 of each other kind. Soak: 20 kills of each kind. p50 / max go to README.md.
 */
import test, { type ExecutionContext } from '../helpers/test.js';
import path from 'node:path';
import { fixtureChild, LineChild, owned, tsxCommand, type Line } from '../helpers/child.js';
import { openClient } from '../helpers/client.js';
import { repoRoot, tempDbPath } from '../helpers/db.js';
import { sqlHost } from '../helpers/lifeline.js';
import { report, sleep } from './crash-helpers.js';
import { scale } from './soak.js';

const JOBS = 4;
const BOUND_MS = 10_000;
const cliEntry = path.join(repoRoot, 'src', 'cli.ts');
const tasksModule = path.join(repoRoot, 'test', 'fixtures', 'lifeline-tasks.ts');

type Kind = 'db.worker' | 'claim iterator' | 'honker worker' | 'python';

interface Victim {
  /** Resolves with the ids of the jobs it holds once it holds JOBS of them. */
  holding: Promise<number[]>;
  kill(): Promise<void>;
}

const env = (file: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, HONKER_TEST_DB: file, ...extra });

/** The ids of the first n jobs a JSON-line child started. */
async function started(child: LineChild<Line>, n: number): Promise<number[]> {
  await child.until(`${n} started jobs`, () => child.of('start').length >= n, 60_000);
  return child.of('start').slice(0, n).map((l) => l.id as number);
}

/** Start a victim of this kind; it claims the jobs enqueued once it is ready. */
async function startVictim(t: ExecutionContext, kind: Kind, file: string, round: number, enqueue: () => void): Promise<Victim> {
  if (kind === 'python') {
    const py = await sqlHost(t, file, `python victim ${round}`);
    const id = `py-${round}`;
    await py.sql(`SELECT honker_worker_register('${id}')`);
    enqueue();
    const jobs = JSON.parse(await py.sql(`SELECT honker_claim_batch('reclaim', '${id}', ${JOBS}, 300)`)) as Array<{ id: number }>;
    return { holding: Promise.resolve(jobs.map((j) => j.id)), kill: () => py.kill() };
  }
  let child: LineChild<Line>;
  if (kind === 'honker worker') {
    const [command, args] = tsxCommand(cliEntry, ['worker', tasksModule, '--concurrency', String(JOBS)]);
    // The CLI prints on stderr; the task module prints JSON lines on stdout.
    child = owned(t, LineChild.json(command, args, { env: env(file, { HONKER_HOLD: '1' }), label: `honker worker ${round}` }));
    await child.waitForStderr('started', 60_000);
  } else {
    const mode = kind === 'db.worker' ? 'worker' : 'claim';
    child = fixtureChild(t, 'lifeline-worker', [mode, `victim-${round}`, String(JOBS)], { env: env(file, { HONKER_HOLD: '1' }), label: `${kind} victim ${round}` });
    await child.waitFor((l) => l.kind === 'ready', 60_000);
  }
  enqueue();
  return { holding: started(child, JOBS), kill: async () => void (await child.kill()) };
}

interface Kill {
  reclaimMs: number;
  firstMs: number;
}

async function killOnce(t: ExecutionContext, kind: Kind, round: number): Promise<Kill> {
  const file = tempDbPath(t, `reclaim-${round}.db`);
  const db = openClient(t, file);
  const q = db.queue('reclaim');
  // The rescuer starts alongside the victim, but only runs (registers, parks) once the victim holds its jobs.
  const rescuer = fixtureChild(t, 'lifeline-worker', ['gated', `rescuer-${round}`, '8'], { env: env(file), label: `rescuer ${round}` });
  const victim = await startVictim(t, kind, file, round, () =>
    db.transaction(() => {
      for (let i = 0; i < JOBS; i++) q.enqueue({ task: 'job', args: [i], v: 1 });
    }),
  );
  const held = (await victim.holding).sort((a, b) => a - b);
  t.is(held.length, JOBS);
  rescuer.send('go');
  await rescuer.waitFor((l) => l.kind === 'ready', 60_000);
  await sleep(100 + Math.random() * 1000);
  t.deepEqual(rescuer.of('start'), [], 'the rescuer took nothing from the live victim');
  const killedAt = Date.now();
  await victim.kill();
  await rescuer.until(`the rescuer to start the ${JOBS} jobs`, () => rescuer.of('start').length >= JOBS, BOUND_MS + 20_000);
  const starts = rescuer.of('start');
  const reclaimMs = Math.max(...starts.map((l) => (l.at as number) - killedAt));
  const firstMs = Math.min(...starts.map((l) => (l.at as number) - killedAt));
  t.true(reclaimMs <= BOUND_MS, `${kind}: reclaimed ${reclaimMs} ms after the SIGKILL (bound ${BOUND_MS} ms)`);
  t.deepEqual(starts.map((l) => l.id as number).sort((a, b) => a - b), held, "the rescuer ran the victim's jobs");
  t.deepEqual([...new Set(starts.map((l) => l.attempt))], [2], 'their second attempt, counted');
  await rescuer.until('the acks', () => rescuer.of('acked').length >= JOBS, 30_000);
  t.is(await rescuer.stop(), 0);
  t.deepEqual(q.stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
  t.deepEqual(rescuer.of('acked').map((l) => l.id as number).sort((a, b) => a - b), held, 'each acked once');
  db.close();
  return { reclaimMs, firstMs };
}

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

function reclaimTest(kind: Kind, kills: number): void {
  test(`${kind} SIGKILLed holding ${JOBS} jobs (visibility timeout 300 s): another worker process claims them within ${BOUND_MS / 1000} s (${kills} kill${kills > 1 ? 's' : ''})`, async (t) => {
    const figures: Kill[] = [];
    for (let round = 0; round < kills; round++) figures.push(await killOnce(t, kind, round));
    const ms = figures.map((f) => f.reclaimMs);
    report(t, `reclaim-${kind.replace(/[^a-z]+/g, '-')}`, {
      kills,
      jobsPerKill: JOBS,
      reclaimMsP50: percentile(ms, 0.5),
      reclaimMsMax: Math.max(...ms),
      reclaimMsMin: Math.min(...ms),
      firstJobMsP50: percentile(
        figures.map((f) => f.firstMs),
        0.5,
      ),
      reclaimMs: ms,
    });
  });
}

reclaimTest('db.worker', scale(3, 20));
reclaimTest('claim iterator', scale(1, 20));
reclaimTest('honker worker', scale(1, 20));
reclaimTest('python', scale(1, 20));
