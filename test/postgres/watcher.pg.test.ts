/**
 * The Postgres wake path when its LISTEN connection goes away: a waiting
 * claim iterator, listen() and results.wait() survive a terminated backend
 * (pg_terminate_backend) and a server restart, and nothing committed
 * meanwhile is missed (the watcher reconnects, LISTENs again and wakes every
 * waiter, which looks again). Also: one LISTEN connection per process and
 * database however many waiters, and a commit on one queue does not wake the
 * waiters of another.
 */
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { openPostgres } from '../../src/postgres/index.js';
import { pgSerial, pgTest, usePg } from '../helpers/pg.js';
import { nextWithin, sleep } from '../helpers/queue-client.js';

const harness = usePg();

async function openTwo(t: ExecutionContext) {
  const url = await harness.database(t);
  const waiter = await openPostgres(url);
  const writer = await openPostgres(url);
  t.teardown(async () => {
    await waiter.close();
    await writer.close();
  });
  return { url, waiter, writer };
}

async function terminate(url: string, pid: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await c.end();
  }
}

pgTest('watcher: a terminated LISTEN backend is replaced; a commit made while it was gone and one after both wake the waiting iterator', async (t) => {
  const { url, waiter, writer } = await openTwo(t);
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = waiter.queue('q').claim('w', { signal: ac.signal });
  const first = it.next();
  const w = waiter.pgWatcher();
  await w.connected();
  await sleep(200);
  const pid = w.backendPid!;
  await terminate(url, pid);
  const id1 = await writer.queue('q').enqueue('while gone');
  const r1 = await nextWithin(it, 10_000, first);
  if (r1.kind !== 'value') return t.fail(r1.kind);
  t.is(r1.value.id, id1);
  await r1.value.ack();
  await w.connected();
  t.not(w.backendPid, pid, 'a new backend');
  t.is(w.connects, 2);
  await sleep(100);
  const id2 = await writer.queue('q').enqueue('after');
  const r2 = await nextWithin(it, 5000);
  if (r2.kind !== 'value') return t.fail(r2.kind);
  t.is(r2.value.id, id2);
  t.log(`woken ${r2.ms.toFixed(1)} ms after the enqueue on the new LISTEN connection`);
  t.true(r2.ms < 2000);
  await r2.value.ack();
  ac.abort();
  await it.return(undefined);
});

pgSerial('watcher: a server restart mid-wait; listen() and results.wait() resume and miss nothing', async (t) => {
  const { waiter, writer } = await openTwo(t);
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const notes = waiter.listen<number>('orders', { signal: ac.signal });
  const pending = notes.next();
  const result = waiter.results.wait(42, { timeoutMs: 30_000 });
  await waiter.pgWatcher().connected();
  await sleep(200);
  await harness.restart();
  // The writer's pool lost its connections too: its next query makes a new one.
  let sent = false;
  for (let i = 0; i < 50 && !sent; i++) {
    try {
      await writer.notify('orders', 1);
      sent = true;
    } catch {
      await sleep(100);
    }
  }
  t.true(sent);
  const r = await nextWithin(notes, 15_000, pending);
  if (r.kind !== 'value') return t.fail(r.kind);
  t.is(r.value.payload, 1);
  await writer.notify('orders', 2);
  const r2 = await nextWithin(notes, 5000);
  if (r2.kind !== 'value') return t.fail(r2.kind);
  t.is(r2.value.payload, 2);
  await writer.results.save(42, { done: true });
  t.deepEqual(await result, { done: true });
  t.true(waiter.pgWatcher().connects >= 2);
  ac.abort();
});

pgTest('watcher: one LISTEN connection per process for many waiters; a commit on one queue wakes only that queue\'s waiters', async (t) => {
  const { url, waiter, writer } = await openTwo(t);
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const a = waiter.queue('a').claim('wa', { signal: ac.signal });
  const b = waiter.queue('b').claim('wb', { signal: ac.signal });
  const na = a.next();
  const nb = b.next();
  await waiter.pgWatcher().connected();
  await sleep(300);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const listeners = await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'");
  await c.end();
  t.true(listeners.rows[0].n <= 2, 'one LISTEN connection per open database process-wide');
  const w = waiter.pgWatcher() as unknown as { generation(keys: string[]): number };
  const before = w.generation(['honker:q:b']);
  await writer.queue('a').enqueue(1);
  const r = await nextWithin(a, 5000, na);
  t.is(r.kind, 'value');
  t.is(w.generation(['honker:q:b']), before, 'queue b saw nothing');
  await writer.queue('b').enqueue(2);
  t.is((await nextWithin(b, 5000, nb)).kind, 'value');
  ac.abort();
});
