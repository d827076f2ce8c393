/**
 * Mixed fleets with honker 0.4's real extension (test/helpers/honker04.ts):
 * honker 0.4 runs in its own process (Python with its libhonker_ext), ours in
 * this one, on one file. Skipped, with the reason, where ../shared is absent.
 *
 * Covers: our copy of 0.4's schema; a file 0.4 made and used, handled by our
 * functions before and without our bootstrap (read-write and read-only), and
 * 0.4 still working after our migration; the command line on such a file;
 * producers and consumers of both kinds; error rows that 0.4's ack leaves.
 */
import Database from 'better-sqlite3';
import { runCli } from './helpers/cli.js';
import { extPath, scalar, tempDbPath, thrown, type Db } from './helpers/db.js';
import { create04File, host04, schemaOf, testWith04 } from './helpers/honker04.js';
import type { SqlHost } from './helpers/lifeline.js';
import type { ExecutionContext } from './helpers/test.js';

/** Our extension on file, without bootstrap (closed after the test). */
function ours(t: ExecutionContext, file: string, opts: Database.Options = {}): Db {
  const db = new Database(file, opts);
  db.pragma('busy_timeout = 10000');
  db.loadExtension(extPath);
  t.teardown(() => db.open && db.close());
  return db;
}

const ids = (jobs: string): number[] => (JSON.parse(jobs) as { id: number }[]).map((j) => j.id).sort((a, b) => a - b);

/** A file honker 0.4 bootstrapped and used: jobs 1-6 of queue q; 1-4 claimed by w04, then 4 failed. */
async function used04File(t: ExecutionContext): Promise<{ file: string; h: SqlHost }> {
  const file = tempDbPath(t);
  const h = await host04(t, file);
  t.is(await h.sql('PRAGMA journal_mode = WAL'), 'wal');
  t.is(await h.sql('SELECT honker_bootstrap()'), 1);
  for (let n = 1; n <= 6; n++) t.is(await h.sql(`SELECT honker_enqueue('q', '{"n":${n}}', NULL, NULL, 0, 3, NULL)`), n);
  t.deepEqual(ids(await h.sql("SELECT honker_claim_batch('q', 'w04', 4, 600)")), [1, 2, 3, 4]);
  t.is(await h.sql("SELECT honker_fail(4, 'w04', 'failed by 0.4')"), 1);
  return { file, h };
}

testWith04("compat.honker04: test/helpers/honker04.ts's DDL is what honker 0.4's bootstrap makes", async (t) => {
  const real = tempDbPath(t, 'real.db');
  const h = await host04(t, real);
  t.is(await h.sql('SELECT honker_bootstrap()'), 1);
  const copy = tempDbPath(t, 'copy.db');
  create04File(copy);
  t.deepEqual(schemaOf(copy), schemaOf(real));
});

testWith04('compat.honker04: on a read-only connection to a file honker 0.4 made, bootstrap answers 1 (as 0.4 does) and every reader answers', async (t) => {
  const { file } = await used04File(t);
  const before = schemaOf(file);
  const db = ours(t, file, { readonly: true });
  t.is(scalar(db, 'SELECT honker_bootstrap()'), 1);
  t.like(JSON.parse(scalar(db, 'SELECT honker_get_job(1)')), { worker_id: 'w04', state: 'processing', last_error: null });
  t.deepEqual(ids(scalar(db, "SELECT honker_job_list('q', NULL, 10)")), [1, 2, 3, 5, 6]);
  t.deepEqual(ids(scalar(db, "SELECT honker_job_list('q', 'dead', 10)")), [4]);
  t.is(scalar(db, "SELECT honker_queue_stats('q')"), '{"pending":2,"scheduled":0,"processing":3,"dead":1}');
  t.like(JSON.parse(scalar(db, 'SELECT honker_queues_stats()'))[0], { queue: 'q', pending: 2, processing: 3, dead: 1 });
  t.like(JSON.parse(scalar(db, 'SELECT honker_dead_get(4)')), { last_error: 'failed by 0.4' });
  t.is(thrown(t, () => db.prepare("SELECT honker_ack(1, 'w04')").get()).message, 'honker_ack: attempt to write a readonly database');
  t.deepEqual(schemaOf(file), before, 'nothing was written');
});

testWith04('compat.honker04: our functions work on a file honker 0.4 made, before any bootstrap of ours; honker 0.4 keeps working after the migration', async (t) => {
  const { file, h } = await used04File(t);
  const db = ours(t, file);
  // what the issue saw fail
  t.is(scalar(db, "SELECT honker_ack(1, 'w04')"), 1);
  t.is(scalar(db, "SELECT honker_retry(2, 'w04', 0, 'retried by ours')"), 1);
  t.is(scalar(db, "SELECT honker_fail(3, 'w04', 'failed by ours')"), 1);
  t.is(scalar(db, 'SELECT honker_cancel(5)'), 1);
  t.like(JSON.parse(scalar(db, 'SELECT honker_get_job(2)')), { state: 'pending', attempts: 1, last_error: 'retried by ours' });
  t.deepEqual(ids(scalar(db, "SELECT honker_job_list('q', NULL, 10)")), [2, 6]);
  t.is(scalar(db, 'SELECT honker_dead_requeue(4)'), 1);
  t.is(scalar(db, "SELECT honker_enqueue_unique('q', 'k', '{\"n\":7}', NULL, NULL, 0, 3, NULL)"), 7);
  t.is(scalar(db, "SELECT honker_enqueue_unique('q', 'k', '{\"n\":7}', NULL, NULL, 0, 3, NULL)"), 7);
  t.is(scalar(db, "SELECT honker_dead_purge('q', 0)"), 1); // job 3
  t.is(scalar(db, "SELECT value FROM _honker_meta WHERE key = 'schema_version'"), '3');
  // honker 0.4 on the migrated file: bootstrap, claim, ack, retry, fail, enqueue
  t.is(await h.sql('SELECT honker_bootstrap()'), 1);
  t.deepEqual(ids(await h.sql("SELECT honker_claim_batch('q', 'w04b', 10, 60)")), [2, 4, 6, 7]);
  t.is(await h.sql("SELECT honker_ack_batch('[2,4]', 'w04b')"), 2);
  t.is(await h.sql("SELECT honker_retry(6, 'w04b', 0, 'retried by 0.4')"), 1);
  t.is(await h.sql("SELECT honker_fail(7, 'w04b', 'failed by 0.4')"), 1);
  t.is(await h.sql("SELECT honker_enqueue('q', '{\"n\":8}', NULL, NULL, 0, 3, NULL)"), 8);
  t.is(await h.sql("SELECT json_extract(honker_get_job(6), '$.state')"), 'pending');
  // and the key job 7 held is free again for ours
  t.is(scalar(db, "SELECT honker_enqueue_unique('q', 'k', '{}', NULL, NULL, 0, 3, NULL)"), 9);
  // 0.4 acked job 2, whose error we recorded: the row is an orphan until our housekeeping sweeps it
  t.is(scalar(db, 'SELECT count(*) FROM _honker_job_errors WHERE job_id = 2'), 1);
  t.deepEqual(ids(scalar(db, "SELECT honker_claim_batch('q', 'ours', 1, 60)")), [6]);
  t.is(scalar(db, "SELECT honker_retry(6, 'ours', 0, 'kept')"), 1);
  t.is(scalar(db, "SELECT honker_sweep_expired('q')"), 0);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_job_errors WHERE job_id = 2'), 0);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_job_errors WHERE job_id = 6'), 1, 'a live job keeps its history');
});

testWith04('compat.honker04: `honker jobs` and `honker stats` read a file honker 0.4 made, and leave it as it was', async (t) => {
  const { file } = await used04File(t);
  const before = schemaOf(file);
  const jobs = await runCli(['jobs', file, 'q']);
  t.is(jobs.code, 0, jobs.stderr);
  t.regex(jobs.stdout, /^1 +processing .* w04 +\{"n":1\}$/m);
  t.is(jobs.stdout.trim().split('\n').length, 6, jobs.stdout); // header + jobs 1, 2, 3, 5, 6
  const json = await runCli(['jobs', file, 'q', '--json']);
  t.is(json.code, 0, json.stderr);
  t.deepEqual(ids(json.stdout), [1, 2, 3, 5, 6]);
  const dead = await runCli(['jobs', file, 'q', '--state', 'dead', '--json']);
  t.is(dead.code, 0, dead.stderr);
  t.deepEqual(ids(dead.stdout), [4]);
  const stats = await runCli(['stats', file]);
  t.is(stats.code, 0, stats.stderr);
  t.regex(stats.stdout, /^q +2 +0 +3 +1 /m);
  t.deepEqual(schemaOf(file), before);
});

testWith04('compat.honker04: producers and consumers of both kinds on one migrated file: nothing lost, nothing doubled', async (t) => {
  const file = tempDbPath(t);
  const h = await host04(t, file);
  t.is(await h.sql('PRAGMA journal_mode = WAL'), 'wal');
  t.is(await h.sql('SELECT honker_bootstrap()'), 1);
  const db = ours(t, file);
  t.is(scalar(db, 'SELECT honker_bootstrap()'), 1); // migrates
  const N = 300;
  const series = `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${N})`;
  // honker 0.4 produces 'a', we produce 'b'
  t.is(await h.sql(`${series} SELECT count(honker_enqueue('a', json_object('n', n), NULL, NULL, 0, 3, NULL)) FROM s`), N);
  t.is(scalar(db, `${series} SELECT count(honker_enqueue('b', json_object('n', n), NULL, NULL, 0, 3, NULL)) FROM s`), N);
  // we consume 'a' (retrying one job in ten once, as a failing worker would), honker 0.4 consumes 'b'
  const seenA: number[] = [];
  let ackedB = 0;
  for (let round = 0; round < 100 && (seenA.length < N || ackedB < N); round++) {
    const claimed = JSON.parse(scalar(db, "SELECT honker_claim_batch('a', 'ours', 25, 60)")) as { id: number; payload: string; attempts: number }[];
    for (const job of claimed) {
      const n = (JSON.parse(job.payload) as { n: number }).n;
      if (n % 10 === 0 && job.attempts === 1) {
        t.is(scalar(db, "SELECT honker_retry(?, 'ours', 0, 'try again')", job.id), 1);
      } else {
        t.is(scalar(db, "SELECT honker_ack(?, 'ours')", job.id), 1);
        seenA.push(n);
      }
    }
    ackedB += (await h.sql<number>(
      "SELECT honker_ack_batch((SELECT json_group_array(value ->> 'id') FROM json_each(honker_claim_batch('b', 'w04', 25, 60))), 'w04')",
    ))!;
  }
  t.deepEqual(seenA.sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i + 1));
  t.is(ackedB, N);
  t.is(scalar(db, "SELECT count(*) FROM _honker_live WHERE queue IN ('a', 'b')"), 0);
  t.is(scalar(db, "SELECT count(*) FROM _honker_dead WHERE queue IN ('a', 'b')"), 0);
});
