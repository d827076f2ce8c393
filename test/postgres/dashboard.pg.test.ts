/**
 * The dashboard on Postgres: dashboard(db) from 'honker/postgres' over
 * openPostgres, served on a loopback port against the throwaway server. Its
 * pages list what a seeded database holds, actions change the database,
 * a live page is updated after an enqueue from another process (woken by
 * LISTEN: the seed leaves nothing that becomes due, so no timed refresh
 * could pass the test) and after a claim and an ack, which notify nothing
 * (the hub's look for commits), read-only refuses actions, and `honker
 * dashboard <postgres-url>` serves it.
 */
import type { ExecutionContext } from 'ava';
import { dashboard, openPostgres, type PgHonkerDatabase } from '../../src/postgres/index.js';
import { cliChild, runCli } from '../helpers/cli.js';
import { Browserish, liveEvents, serveDatabase } from '../helpers/dashboard.js';
import { pgTest, usePg } from '../helpers/pg.js';

const harness = usePg();

interface Seeded {
  url: string;
  db: PgHonkerDatabase;
  /** Job ids: a due pending one, a scheduled one, a dead one. */
  ids: { pending: number; scheduled: number; dead: number };
}

/** A database with queues emails and reports, a dead job with errors, a schedule, a stream, notifications; nothing in flight. */
async function seeded(t: ExecutionContext): Promise<Seeded> {
  const url = await harness.database(t);
  const db = await openPostgres(url);
  t.teardown(() => db.close());
  const emails = db.queue('emails', { maxAttempts: 2 });
  const deadId = await emails.enqueue({ to: 'doomed@example.com' }, { priority: 10 }); // claimed first, twice
  for (let i = 0; i < 4; i++) await emails.enqueue({ to: `user${i}@example.com` });
  const scheduled = await emails.enqueue({ to: 'later@example.com' }, { delayS: 3600 });
  await db.queue('reports').enqueue({ day: '2026-12-05' });
  const [a] = await emails.claimBatch('worker-2', 1);
  await a!.retry({ delayS: 0, error: 'smtp timeout' });
  const [b] = await emails.claimBatch('worker-2', 1);
  t.is(b!.id, deadId);
  await b!.fail(new Error('mailbox full'));
  const done = await emails.claimBatch('worker-1', 2);
  for (const j of done) await j.ack();
  const pending = { id: deadId + 3 };
  await db.scheduler().add({ name: 'nightly', queue: 'reports', schedule: '0 3 * * *' });
  const s = db.stream('orders');
  for (let i = 0; i < 5; i++) await s.publish({ order: i });
  await s.saveOffset('billing', 2);
  await db.notify('audit', { id: 1, note: 'hello from postgres' });
  return { url, db, ids: { pending: pending.id, scheduled, dead: deadId } };
}

async function until(pred: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (await pred()) return true;
  return pred();
}

pgTest('dashboard.pg pages: queues, jobs, dead jobs and their errors, schedules, streams, workers, notifications, history', async (t) => {
  const { db, ids } = await seeded(t);
  const { url } = await serveDatabase(t, db);
  const b = new Browserish();
  const overview = await b.fetch(`${url}/`);
  t.is(overview.status, 200);
  t.regex(overview.headers['content-security-policy'] as string, /script-src 'self'/);
  t.regex(overview.body, /href="\/queues\/emails"/);
  t.regex(overview.body, /href="\/queues\/reports"/);
  t.regex(overview.body, /nightly/);
  t.regex(overview.body, /orders/);
  t.regex(overview.body, /billing/);
  t.regex(overview.body, /postgres:\/\//, 'the header names the database by its URL');
  // The hour chart counts the seed's settles: 2 completed, 1 failed (retried), 1 dead.
  const chart = JSON.parse(/data-chart="([^"]+)"/.exec(overview.body)![1]!.replace(/&quot;/g, '"')) as Record<string, number[]>;
  const sum = (k: string) => chart[k]!.reduce((x, y) => x + y, 0);
  t.deepEqual([sum('completed'), sum('failed'), sum('dead')], [2, 1, 1]);

  const pending = await b.fetch(`${url}/queues/emails`);
  t.is(pending.status, 200);
  t.regex(pending.body, new RegExp(`href="/jobs/${ids.pending}"`));
  t.regex(pending.body, /user3@example\.com/);
  const scheduled = await b.fetch(`${url}/queues/emails?state=scheduled`);
  t.regex(scheduled.body, /later@example\.com/);
  t.regex(scheduled.body, /Run now/);
  const dead = await b.fetch(`${url}/queues/emails?state=dead`);
  t.regex(dead.body, new RegExp(`href="/jobs/${ids.dead}"`));
  t.regex(dead.body, /mailbox full/);
  t.regex(dead.body, /Requeue all 1/);
  const job = await b.fetch(`${url}/jobs/${ids.dead}`);
  t.is(job.status, 200);
  t.regex(job.body, /badge-dead/);
  t.regex(job.body, /<td class="num">1<\/td>.*smtp timeout/s, 'attempt 1 failed with smtp timeout');
  t.regex(job.body, /<td class="num">2<\/td>.*mailbox full/s, 'attempt 2 with mailbox full');
  t.is((await b.fetch(`${url}/jobs/999999`)).status, 404);
  t.is((await b.fetch(`${url}/queues/nope`)).status, 404);
  t.regex((await b.fetch(`${url}/schedules`)).body, /0 3 \* \* \*/);
  const streams = await b.fetch(`${url}/streams`);
  t.regex(streams.body, /<td class="name">orders<\/td><td>billing<\/td><td class="num">2<\/td><td class="num">5<\/td><td class="num warn">3<\/td>/);
  t.is((await b.fetch(`${url}/workers`)).status, 200);
  const notes = await b.fetch(`${url}/notifications?channel=audit`);
  t.regex(notes.body, /hello from postgres/);
  t.regex(notes.body, /href="\/notifications\?channel=audit"/);
  t.is((await b.fetch(`${url}/queues/emails?page=2`)).status, 200);
});

pgTest('dashboard.pg actions: cancel, run now, requeue, pause, requeue all and purge change the database', async (t) => {
  const { db, ids } = await seeded(t);
  const { url } = await serveDatabase(t, db);
  const b = new Browserish();
  const csrf = Browserish.csrf((await b.fetch(`${url}/`)).body);
  const post = (path: string, form: Record<string, string> = {}) => b.fetch(`${url}${path}`, { form: { _csrf: csrf, back: '/', ...form } });
  const emails = db.queue('emails');

  t.is((await post(`/jobs/${ids.scheduled}/run-now`)).status, 303);
  const now = Math.floor(Date.now() / 1000);
  t.true((await emails.getJob(ids.scheduled))!.runAt <= now + 1, 'run now made the scheduled job due');
  t.is((await post(`/jobs/${ids.pending}/cancel`)).status, 303);
  t.is(await emails.getJob(ids.pending), null, 'cancelled');
  t.is((await post(`/jobs/${ids.dead}/requeue`)).status, 303);
  t.like(await emails.getJob(ids.dead), { state: 'pending', attempts: 0 });
  t.is((await post('/schedules/nightly/pause')).status, 303);
  t.false((await db.scheduler().list()).find((s) => s.name === 'nightly')!.enabled);
  t.is((await post('/schedules/nightly/resume')).status, 303);
  t.true((await db.scheduler().list()).find((s) => s.name === 'nightly')!.enabled);

  // Three dead jobs: requeue all of them (in one transaction per batch), then purge a new one.
  const q = db.queue('bulk', { maxAttempts: 1 });
  for (let i = 0; i < 3; i++) await q.enqueue(i);
  for (const j of await q.claimBatch('w', 3)) await j.fail('no');
  t.is((await q.stats()).dead, 3);
  t.is((await post('/queues/bulk/requeue-all')).status, 303);
  t.true(await until(async () => (await q.stats()).pending === 3, 5000), 'all three requeued');
  for (const j of await q.claimBatch('w', 1)) await j.fail('again');
  t.is((await post('/queues/bulk/purge', { confirm: 'wrong' })).status, 400);
  t.is((await post('/queues/bulk/purge', { confirm: 'bulk' })).status, 303);
  t.is((await q.stats()).dead, 0, 'purged');
  t.is((await b.fetch(`${url}/jobs/1/explode`, { form: { _csrf: csrf } })).status, 400);
});

pgTest('dashboard.pg live: a page is updated after an enqueue from another process, woken by LISTEN', async (t) => {
  const { url: dbUrl, db } = await seeded(t);
  const { url, handler } = await serveDatabase(t, db);
  const { events, req } = liveEvents(t, url);
  const updates = () => events.join('').split('event: update').length - 1;
  t.true(await until(() => updates() >= 1, 5000), 'the current view first');
  t.is(handler.livePages, 1);
  t.false(events.join('').includes('fresh-queue-from-elsewhere'));
  // The LISTEN subscription is taken asynchronously after the first send: wait for it.
  t.true(await until(async () => Number(await db.value("SELECT count(*) AS v FROM pg_stat_activity WHERE query LIKE 'LISTEN%honker:*%'")) > 0, 5000));
  const enq = await runCli(['enqueue', dbUrl, 'fresh-queue-from-elsewhere', '{"hi":1}']);
  t.is(enq.code, 0, enq.stderr);
  t.true(await until(() => events.join('').includes('fresh-queue-from-elsewhere'), 4000), 'an update within 4 s of the commit');
  req.destroy();
  t.true(await until(() => handler.livePages === 0, 3000), 'the page left');
});

pgTest('dashboard.pg live: a claim and an ack from another connection, which notify nothing, reach a live page within seconds', async (t) => {
  const { url: dbUrl, db } = await seeded(t);
  const { url } = await serveDatabase(t, db);
  const { events } = liveEvents(t, url, '/queues/emails?state=processing');
  const updates = () => events.join('').split('event: update');
  t.true(await until(() => updates().length >= 2, 5000), 'the current view first');
  t.true(await until(async () => Number(await db.value("SELECT count(*) AS v FROM pg_stat_activity WHERE query LIKE 'LISTEN%honker:*%'")) > 0, 5000));
  t.false(events.join('').includes('worker-live'));
  const other = await openPostgres(dbUrl);
  t.teardown(() => other.close());
  const [job] = await other.queue('emails').claimBatch('worker-live', 1);
  t.truthy(job);
  // The seed leaves nothing due and the claim lapses in 300 s: only a look for commits shows it.
  t.true(await until(() => updates().at(-1)!.includes('worker-live'), 5000), 'the claim shows within 5 s');
  const before = updates().length;
  t.true(await job!.ack());
  t.true(await until(() => updates().length > before && !updates().at(-1)!.includes('worker-live'), 5000), 'the ack shows within 5 s');
});

pgTest('dashboard.pg readOnly: no forms, every POST refused with 403 and nothing changes', async (t) => {
  const { db, ids } = await seeded(t);
  const { url } = await serveDatabase(t, db, { readOnly: true });
  const b = new Browserish();
  const page = await b.fetch(`${url}/queues/emails?state=dead`);
  t.is(page.status, 200);
  t.notRegex(page.body, /<form class="inline" method="post"/);
  const r = await b.fetch(`${url}/jobs/${ids.dead}/requeue`, { form: { _csrf: Browserish.csrf(page.body), back: '/' } });
  t.is(r.status, 403);
  t.regex(r.body, /read-only/);
  t.is((await db.queue('emails').stats()).dead, 1);
});

pgTest('dashboard.pg: anything but a honker database is refused with a message naming both', async (t) => {
  t.throws(() => dashboard({} as PgHonkerDatabase), { message: /dashboard: db must be a honker database: open\(file\) from 'honker' or await openPostgres\(url\)/ });
});

pgTest('cli dashboard on postgres: serves a postgres:// URL on loopback without printing its password; SIGINT stops it', async (t) => {
  const { url: dbUrl } = await seeded(t);
  const u = new URL(dbUrl);
  u.password = 'not-printed'; // trust auth: the server ignores it
  const child = cliChild(t, ['dashboard', u.toString(), '--port', '0']);
  const line = await child.nextMatching((l) => l.startsWith('honker dashboard:'), 20_000);
  t.false(line.includes('not-printed'), line);
  const url = /at (http:\/\/127\.0\.0\.1:\d+\/) /.exec(line)![1]!;
  const b = new Browserish();
  const page = await b.fetch(url);
  t.is(page.status, 200);
  t.regex(page.body, /href="\/queues\/emails"/);
  t.is((await b.fetch(url, { headers: { Host: 'evil.example:80' } })).status, 403);
  child.proc.kill('SIGINT');
  t.is(await new Promise<number | null>((resolve) => child.proc.once('exit', (c) => resolve(c))), 0);
});
