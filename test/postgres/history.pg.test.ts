/**
 * history on Postgres (pg/history.sql): every settle path counts its jobs in
 * honker_history, as on SQLite; concurrent transactions acking one queue
 * write different shard rows, so an open transaction does not hold up
 * another's ack; a schema 1 database gains the table when bootstrapped.
 */
import pg from 'pg';
import { installScript } from '../../src/postgres/install.js';
import { pgTest, usePg } from '../helpers/pg.js';

const harness = usePg();

type Harness = typeof harness;

async function client(t: Parameters<Harness['database']>[0], url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.teardown(() => c.end());
  return c;
}

async function fresh(t: Parameters<Harness['database']>[0]): Promise<{ url: string; c: pg.Client }> {
  const url = await harness.database(t);
  const c = await client(t, url);
  await c.query(installScript().text);
  return { url, c };
}

async function value<T = unknown>(c: pg.Client, sql: string, args: unknown[] = []): Promise<T> {
  return (await c.query(sql, args)).rows[0].v as T;
}

/** honker_history(queue, 0) summed over minutes. */
async function totals(c: pg.Client, queue: string): Promise<{ completed: number; failed: number; dead: number }> {
  const rows = JSON.parse(await value<string>(c, 'SELECT honker_history($1, 0) AS v', [queue])) as Array<Record<string, number>>;
  const out = { completed: 0, failed: 0, dead: 0 };
  for (const r of rows) {
    out.completed += r.completed!;
    out.failed += r.failed!;
    out.dead += r.dead!;
  }
  return out;
}

async function enqueue(c: pg.Client, queue: string, n: number, maxAttempts = 3, expires: number | null = null): Promise<void> {
  for (let i = 0; i < n; i++) await c.query('SELECT honker_enqueue($1, $2, NULL, NULL, 0, $3, $4)', [queue, '{}', maxAttempts, expires]);
}

async function claim(c: pg.Client, queue: string, worker: string, n: number, timeoutS = 30): Promise<number[]> {
  const text = await value<string>(c, 'SELECT honker_claim_batch($1, $2, $3, $4) AS v', [queue, worker, n, timeoutS]);
  return (JSON.parse(text) as Array<{ id: number }>).map((j) => j.id);
}

pgTest('history: ack, ack_batch, ack_results, retry, fail, a claim that buries and the expiry sweep are counted', async (t) => {
  const { c } = await fresh(t);
  await enqueue(c, 'emails', 6, 2);
  const ids = await claim(c, 'emails', 'w', 6);
  t.is(await value(c, 'SELECT honker_ack($1, $2) AS v', [ids[0], 'w']), 1);
  t.is(await value(c, 'SELECT honker_ack_batch($1, $2) AS v', [JSON.stringify([ids[1], ids[2], 999]), 'w']), 2);
  await c.query('SELECT honker_ack_results($1, $2, $3, $4)', ['w', [ids[3]], ['{"ok":true}'], [0]]);
  t.is(await value(c, 'SELECT honker_retry($1, $2, 0, $3) AS v', [ids[4], 'w', 'again']), 1); // attempt 1 of 2: failed
  t.is(await value(c, 'SELECT honker_fail($1, $2, $3) AS v', [ids[5], 'w', 'no']), 1); // dead
  t.deepEqual(await totals(c, 'emails'), { completed: 4, failed: 1, dead: 1 });
  t.is(await value(c, 'SELECT honker_ack($1, $2) AS v', [ids[0], 'w']), 0, 'a second ack counts nothing');

  const [again] = await claim(c, 'emails', 'w', 1); // ids[4], its last attempt
  t.is(await value(c, 'SELECT honker_retry($1, $2, 0, $3) AS v', [again, 'w', 'last']), 1);
  t.deepEqual(await totals(c, 'emails'), { completed: 4, failed: 1, dead: 2 }, 'a retry on the final attempt is dead');

  await enqueue(c, 'lapsed', 1, 1);
  await claim(c, 'lapsed', 'w', 1);
  await c.query("UPDATE _honker_live SET claim_expires_at = claim_expires_at - 100 WHERE queue = 'lapsed'");
  await claim(c, 'lapsed', 'w2', 1);
  t.deepEqual(await totals(c, 'lapsed'), { completed: 0, failed: 0, dead: 1 }, 'the claim buried the lapsed job');

  await enqueue(c, 'expiring', 2, 3, 1);
  await c.query("UPDATE _honker_live SET expires_at = 1 WHERE queue = 'expiring'");
  t.is(await value(c, 'SELECT honker_sweep_expired($1) AS v', ['expiring']), 2);
  t.deepEqual(await totals(c, 'expiring'), { completed: 0, failed: 0, dead: 2 });

  const all = JSON.parse(await value<string>(c, 'SELECT honker_history(NULL, 0) AS v')) as Array<{ queue: string; minute: number }>;
  t.deepEqual([...new Set(all.map((r) => r.queue))].sort(), ['emails', 'expiring', 'lapsed']);
  t.true(all.every((r) => r.minute % 60 === 0));
});

pgTest('history: a rolled-back ack counts nothing; rows older than 7 days go when a new row is made', async (t) => {
  const { c } = await fresh(t);
  await enqueue(c, 'q', 1);
  const [id] = await claim(c, 'q', 'w', 1);
  await c.query('BEGIN');
  await c.query('SELECT honker_ack($1, $2)', [id, 'w']);
  await c.query('ROLLBACK');
  t.deepEqual(await totals(c, 'q'), { completed: 0, failed: 0, dead: 0 });
  await c.query("INSERT INTO _honker_history (minute, queue, shard, completed) VALUES (60, 'q', 0, 5), (120, 'old', 3, 1)");
  t.is(await value(c, 'SELECT honker_ack($1, $2) AS v', [id, 'w']), 1);
  t.deepEqual(await totals(c, 'q'), { completed: 1, failed: 0, dead: 0 });
  t.is(Number(await value(c, 'SELECT count(*) AS v FROM _honker_history WHERE minute < 1000')), 0);
});

pgTest('history: while one session holds its ack uncommitted, other sessions acking the same queue are not held up', async (t) => {
  const { url, c } = await fresh(t);
  await enqueue(c, 'busy', 4);
  const ids = await claim(c, 'busy', 'w', 4);
  const [a, b, d] = [await client(t, url), await client(t, url), await client(t, url)];
  await b.query("SET statement_timeout = '3s'");
  await d.query("SET statement_timeout = '3s'");
  await a.query('BEGIN');
  t.is(await value(a, 'SELECT honker_ack($1, $2) AS v', [ids[0], 'w']), 1);
  await b.query('BEGIN');
  t.is(await value(b, 'SELECT honker_ack($1, $2) AS v', [ids[1], 'w']), 1, 'no wait for the first open transaction');
  t.is(await value(b, 'SELECT honker_ack($1, $2) AS v', [ids[2], 'w']), 1, 'nor for its own row on a second settle');
  t.is(await value(d, 'SELECT honker_ack($1, $2) AS v', [ids[3], 'w']), 1, 'nor for two open transactions');
  await b.query('COMMIT');
  await a.query('COMMIT');
  t.deepEqual(await totals(c, 'busy'), { completed: 4, failed: 0, dead: 0 });
  const rows = Number(await value(c, "SELECT count(*) AS v FROM _honker_history WHERE queue = 'busy'"));
  t.true(rows >= 3 && rows <= 4, `a row per concurrent transaction, summed on read (got ${rows})`);
});

pgTest('history: a schema 1 database gets _honker_history and the current schema version from honker_bootstrap', async (t) => {
  const { c } = await fresh(t);
  await c.query('DROP TABLE _honker_history');
  await c.query("UPDATE _honker_meta SET value = '1' WHERE key = 'schema_version'");
  t.is(await value(c, 'SELECT honker_bootstrap() AS v'), 1);
  t.is(await value(c, "SELECT value AS v FROM _honker_meta WHERE key = 'schema_version'"), '3');
  t.is(await value(c, 'SELECT honker_history(NULL, 0) AS v'), '[]');
});
