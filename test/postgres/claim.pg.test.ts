/**
 * The claim's reads on Postgres (pg/queue_claim.sql), counted rather than
 * timed: index tuples read, from pg_stat_user_indexes after
 * pg_stat_force_next_flush(). A claim reads the due rows it takes, level by
 * level through _honker_live_ready, however many rows are scheduled at a
 * higher priority and whether or not the table was ever analyzed; so does
 * honker_queue_next_claim_at. Schema 2 databases lose the index that made
 * the planner sort a burst on every claim.
 */
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { installScript } from '../../src/postgres/install.js';
import { pgTest, usePg } from '../helpers/pg.js';

const harness = usePg();

async function fresh(t: ExecutionContext): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: await harness.database(t) });
  await c.connect();
  t.teardown(() => c.end());
  await c.query(installScript().text);
  return c;
}

async function value<T = unknown>(c: pg.Client, sql: string, args: unknown[] = []): Promise<T> {
  return (await c.query(sql, args)).rows[0].v as T;
}

/** Index tuples read on _honker_live so far (flushed to the statistics first). */
async function tuplesRead(c: pg.Client): Promise<number> {
  await c.query('SELECT pg_stat_force_next_flush()');
  return Number(await value(c, "SELECT coalesce(sum(idx_tup_read), 0) AS v FROM pg_stat_user_indexes WHERE relname = '_honker_live'"));
}

/** [result, index tuples read] of one statement. */
async function counted<T>(c: pg.Client, sql: string, args: unknown[] = []): Promise<[T, number]> {
  const before = await tuplesRead(c);
  const v = await value<T>(c, sql, args);
  return [v, (await tuplesRead(c)) - before];
}

pgTest('claim: 5,000 rows scheduled at a higher priority are not read by a claim of the due rows below them', async (t) => {
  const c = await fresh(t);
  await c.query("SELECT honker_enqueue('q', '{}', NULL, 3600, 10, 3, NULL) FROM generate_series(1, 5000)");
  await c.query("SELECT honker_enqueue('q', '\"due\"', NULL, NULL, 0, 3, NULL) FROM generate_series(1, 5000)");
  await c.query("SELECT honker_enqueue('q', '\"low\"', NULL, NULL, -5, 3, NULL) FROM generate_series(1, 3)");
  const [text, read] = await counted<string>(c, "SELECT honker_claim_batch('q', 'w', 10, 60) AS v");
  const jobs = JSON.parse(text) as Array<{ id: number; payload: string }>;
  t.is(jobs.length, 10);
  t.true(jobs.every((j) => j.payload === '"due"'), 'the due priority-0 rows, none of the future priority-10 ones');
  t.deepEqual(
    jobs.map((j) => j.id),
    [...jobs.map((j) => j.id)].sort((a, b) => a - b),
    'in claim order',
  );
  t.true(read < 100, `a claim of 10 read ${read} index tuples (before schema 3: ~5,000)`);

  const [next, nextRead] = await counted<string>(c, "SELECT honker_queue_next_claim_at('q') AS v");
  t.true(Number(next) > 0);
  t.true(nextRead < 100, `honker_queue_next_claim_at read ${nextRead} index tuples`);

  // Take every due row: the claim walks down to the lowest level, then finds none.
  const rest = JSON.parse(await value<string>(c, "SELECT honker_claim_batch('q', 'w', 10000, 60) AS v")) as Array<{ payload: string }>;
  t.is(rest.length, 4993);
  t.deepEqual(rest.slice(-3).map((j) => j.payload), ['"low"', '"low"', '"low"'], 'lower levels after higher ones');
  // Until a scan or a vacuum marks them dead, the index entries of the 4,993 rows' pending
  // versions are stepped over once (Postgres' MVCC): not what this test counts.
  await c.query('VACUUM _honker_live');
  const [none, noneRead] = await counted<string>(c, "SELECT honker_claim_batch('q', 'w', 10, 60) AS v");
  t.is(none, '[]');
  t.true(noneRead < 100, `an empty claim read ${noneRead} index tuples`);
  const soonest = Number(await value(c, "SELECT min(run_at) AS v FROM _honker_live WHERE state = 'pending'"));
  const [at, atRead] = await counted<string>(c, "SELECT honker_queue_next_claim_at('q') AS v");
  t.true(Number(at) <= soonest && Number(at) > Math.floor(Date.now() / 1000), 'the soonest future run_at, or sooner for the claims in flight');
  t.true(atRead < 100, `honker_queue_next_claim_at read ${atRead} index tuples`);
});

pgTest('claim: a burst enqueued before the table was ever analyzed is claimed without reading the backlog', async (t) => {
  const c = await fresh(t);
  await c.query("SELECT honker_enqueue('other', '{}', NULL, NULL, 0, 3, NULL) FROM generate_series(1, 200)");
  await c.query('ANALYZE _honker_live'); // statistics that know nothing of queue 'burst'
  await c.query("SELECT honker_enqueue('burst', '{}', NULL, NULL, 0, 3, NULL) FROM generate_series(1, 20000)");
  for (let i = 0; i < 3; i++) {
    const [text, read] = await counted<string>(c, "SELECT honker_claim_batch('burst', 'w', 100, 60) AS v");
    t.is((JSON.parse(text) as unknown[]).length, 100);
    t.true(read < 1000, `claim ${i + 1} of 100 read ${read} index tuples (with a second pending index: 20,000, then sorted)`);
  }
});

pgTest('claim: honker_bootstrap takes a schema 2 database to schema 3 and drops _honker_live_pending_deadline', async (t) => {
  const c = await fresh(t);
  await c.query("CREATE INDEX _honker_live_pending_deadline ON _honker_live (queue, run_at) WHERE state = 'pending'");
  await c.query("UPDATE _honker_meta SET value = '2' WHERE key = 'schema_version'");
  t.is(await value(c, 'SELECT honker_bootstrap() AS v'), 1);
  t.is(await value(c, "SELECT value AS v FROM _honker_meta WHERE key = 'schema_version'"), '3');
  t.is(Number(await value(c, "SELECT count(*) AS v FROM pg_indexes WHERE indexname = '_honker_live_pending_deadline'")), 0);
});

pgTest('claim: honker_queue_next_claim_at never passes 9999-12-31T23:59:59Z, for a claim that lapses at it or a row stored beyond it', async (t) => {
  const c = await fresh(t);
  const MAX = '253402300799';
  await c.query("SELECT honker_enqueue('q', '{}', NULL, NULL, 0, 3, NULL)");
  await c.query("SELECT honker_claim_batch('q', 'w', 1, 60)");
  await c.query('UPDATE _honker_live SET claim_expires_at = $1', [MAX]); // the longest visibility timeout there is
  t.is(String(await value(c, "SELECT honker_queue_next_claim_at('q') AS v")), MAX, 'not one second past it');
  await c.query("UPDATE _honker_live SET claim_expires_at = 9223372036854775807"); // by hand: the largest bigint
  t.is(String(await value(c, "SELECT honker_queue_next_claim_at('q') AS v")), MAX, 'no overflow, the bound');
  await c.query("UPDATE _honker_live SET state = 'pending', worker_id = NULL, claim_expires_at = NULL, run_at = $1", [Number(MAX) + 1000]);
  t.is(String(await value(c, "SELECT honker_queue_next_claim_at('q') AS v")), MAX, 'a row migrated from a file honker 0.4 wrote');
});
