/**
 * The client's results in one process (src/results.ts): save/get with JSON
 * values, ttlS expiry and sweep, wait (present, saved later, timeout, abort,
 * close) and synchronous argument errors.
 */
import test from './helpers/test.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { open, HonkerError, type HonkerDatabase } from '../src/index.js';
import { tempDbPath } from './helpers/db.js';
import { invalidArguments, nowMs, openClient, syncError } from './helpers/client.js';

const row = (db: HonkerDatabase, jobId: number) =>
  db.raw.prepare('SELECT value, expires_at AS expiresAt FROM _honker_results WHERE job_id = ?').get(jobId) as
    | { value: string; expiresAt: number | null }
    | undefined;

test('save/get round-trips JSON values; missing is undefined, a saved null is null; save replaces', (t) => {
  const db = openClient(t);
  const values: unknown[] = [
    { sentAt: 1767225600123, to: ['a', 'b'], nested: { ok: true, n: null } },
    [1, 'two', { three: 3 }],
    'plain text with "quotes" and \u{1F600}',
    0,
    -12.5,
    true,
    null,
    '',
  ];
  values.forEach((v, i) => db.results.save(i + 1, v));
  values.forEach((v, i) => t.deepEqual(db.results.get(i + 1), v));
  t.is(db.results.get(99), undefined);
  t.is(row(db, 1)?.value, JSON.stringify(values[0]));
  db.results.save(1, { replaced: true });
  t.deepEqual(db.results.get<{ replaced: boolean }>(1), { replaced: true });
  const typed = db.results.get<{ replaced: boolean }>(1);
  t.true(typed?.replaced); // compile-time: typed
  // Text stored by raw SQL that is not JSON comes back as the string.
  db.raw.prepare("SELECT honker_result_save(50, 'not json', 0)").get();
  t.is(db.results.get(50), 'not json');
});

test('ttlS: a result expires (expires_at moved into the past by SQL), get stops seeing it, sweep deletes only expired ones', (t) => {
  const db = openClient(t);
  const now = Math.floor(Date.now() / 1000);
  db.results.save(1, 'short', { ttlS: 3600 });
  db.results.save(2, 'forever');
  db.results.save(3, 'forever too', { ttlS: 0 });
  db.results.save(4, 'long', { ttlS: 86_400 });
  const exp = row(db, 1)?.expiresAt ?? 0;
  t.true(Math.abs(exp - (now + 3600)) <= 5, `expires_at ${exp}`);
  t.is(row(db, 2)?.expiresAt, null);
  t.is(row(db, 3)?.expiresAt, null);
  t.is(db.results.get(1), 'short');
  t.is(db.results.sweep(), 0);
  db.raw.prepare('UPDATE _honker_results SET expires_at = unixepoch() - 1 WHERE job_id = 1').run();
  t.is(db.results.get(1), undefined, 'expired: invisible before the sweep');
  t.truthy(row(db, 1), 'still stored until swept');
  db.raw.prepare('UPDATE _honker_results SET expires_at = unixepoch() WHERE job_id = 4').run();
  t.is(db.results.get(4), undefined, 'expires_at = now counts as expired');
  t.is(db.results.sweep(), 2);
  t.is(row(db, 1), undefined);
  t.is(row(db, 4), undefined);
  t.is(db.results.get(2), 'forever');
  t.is(db.results.get(3), 'forever too');
  t.is(db.results.sweep(), 0);
  // Saving again revives a job id with a new expiry.
  db.results.save(1, 'again', { ttlS: 10 });
  t.is(db.results.get(1), 'again');
});

test('wait resolves at once when the result is there, and when it is saved later in this process', async (t) => {
  const db = openClient(t);
  db.results.save(1, { done: 1 });
  t.deepEqual(await db.results.wait(1, { timeoutMs: 0 }), { done: 1 });
  let savedAt = 0;
  setTimeout(() => {
    db.results.save(2, { done: 2 });
    savedAt = nowMs();
  }, 100);
  const v = await db.results.wait<{ done: number }>(2, { timeoutMs: 10_000 });
  const ms = nowMs() - savedAt;
  t.log(`save -> wait resolved (same process, same connection): ${ms.toFixed(2)} ms`);
  t.deepEqual(v, { done: 2 });
  // A saved null resolves with null (not treated as missing).
  setTimeout(() => db.results.save(3, null), 30);
  t.is(await db.results.wait(3, { timeoutMs: 10_000 }), null);
});

test('wait rejects with TIMEOUT after timeoutMs (within timeoutMs + 1 s); timeoutMs 0 checks once', async (t) => {
  const db = openClient(t);
  for (const timeoutMs of [0, 300]) {
    const t0 = nowMs();
    const err = await t.throwsAsync(db.results.wait(7, { timeoutMs }));
    const ms = nowMs() - t0;
    t.log(`wait timeoutMs ${timeoutMs}: rejected after ${ms.toFixed(2)} ms`);
    t.true(err instanceof HonkerError);
    t.is((err as HonkerError).code, 'TIMEOUT');
    t.is(err?.message, `results.wait: no result for job 7 within ${timeoutMs} ms`);
    t.true(ms >= timeoutMs - 5, `too early: ${ms}`);
    t.true(ms <= timeoutMs + 1000, `too late: ${ms}`);
  }
  // An expired result does not count.
  db.results.save(8, 'old', { ttlS: 60 });
  db.raw.prepare('UPDATE _honker_results SET expires_at = unixepoch() - 1 WHERE job_id = 8').run();
  t.is(((await t.throwsAsync(db.results.wait(8, { timeoutMs: 50 }))) as HonkerError).code, 'TIMEOUT');
});

test('wait: abort rejects promptly with the signal reason; an aborted signal rejects at once', async (t) => {
  const db = openClient(t);
  const ac = new AbortController();
  const p = db.results.wait(1, { signal: ac.signal });
  await sleep(50);
  const t0 = nowMs();
  const reason = new Error('stop waiting');
  ac.abort(reason);
  const err = await t.throwsAsync(p);
  const ms = nowMs() - t0;
  t.log(`abort -> wait rejected: ${ms.toFixed(2)} ms`);
  t.is(err, reason);
  t.true(ms < 1000);
  // The default reason of abort() is a DOMException named AbortError (as fetch rejects).
  const err2 = await db.results.wait(1, { signal: AbortSignal.abort() }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  t.is(err2?.name, 'AbortError');
  // A result that is already there wins over nothing else to wait for.
  db.results.save(2, 'here');
  t.is(await db.results.wait(2, { signal: new AbortController().signal }), 'here');
});

test('wait: closing the database rejects it with CLOSED within 1 s', async (t) => {
  const db = open(tempDbPath(t));
  const p = db.results.wait(1, { timeoutMs: 60_000 });
  await sleep(50);
  const t0 = nowMs();
  db.close();
  const err = await t.throwsAsync(p);
  const ms = nowMs() - t0;
  t.log(`close -> wait rejected: ${ms.toFixed(2)} ms`);
  t.is((err as HonkerError).code, 'CLOSED');
  t.true(ms < 1000);
});

test('results argument errors throw synchronously (wait too) with the exact message, writing nothing', (t) => {
  const db = openClient(t);
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const cases: Array<[() => unknown, string | RegExp]> = [
    [() => db.results.save(0, 1), 'results.save: jobId must be an integer >= 1 (got 0)'],
    [() => db.results.save(1.5, 1), 'results.save: jobId must be an integer >= 1 (got 1.5)'],
    [() => db.results.save('1' as never, 1), 'results.save: jobId must be an integer >= 1 (got "1")'],
    [() => db.results.save(1, undefined), 'results.save: value must be JSON-serialisable (got undefined)'],
    [() => db.results.save(1, circular), /^results\.save: value must be JSON-serialisable \(Converting circular/],
    [() => db.results.save(1, new Map([['a', 1]])), 'results.save: value must be a plain object or array (got a Map): JSON would store {}; pass Object.fromEntries(map)'],
    [() => db.results.save(1, [1, NaN]), 'results.save: value[1] must be a finite number (got NaN): JSON would store null; pass null or a number'],
    [() => db.results.save(1, { f() {} }), 'results.save: value.f must be JSON-serialisable (got a function): JSON would drop it; leave it out or pass null'],
    [() => db.results.save(1, 1, { ttlS: Number.MAX_SAFE_INTEGER }), 'results.save: ttlS must end by 9999-12-31T23:59:59Z (got 9007199254740991)'],
    [() => db.results.save(1, 1, { ttlS: -1 }), 'results.save: ttlS must be an integer >= 0 (got -1)'],
    [() => db.results.save(1, 1, { ttl: 5 } as never), 'results.save: unknown option "ttl" (did you mean "ttlS"?)'],
    [() => db.results.get(-1), 'results.get: jobId must be an integer >= 1 (got -1)'],
    [() => db.results.wait(0), 'results.wait: jobId must be an integer >= 1 (got 0)'],
    [() => db.results.wait(1, { timeoutMs: -1 }), 'results.wait: timeoutMs must be an integer >= 0 (got -1)'],
    [() => db.results.wait(1, { timeoutMs: 1.5 }), 'results.wait: timeoutMs must be an integer >= 0 (got 1.5)'],
    [() => db.results.wait(1, { timeout: 5 } as never), 'results.wait: unknown option "timeout" (did you mean "timeoutMs"?)'],
    [() => db.results.wait(1, { signal: 1 as never }), 'results.wait: signal must be an AbortSignal (got 1)'],
  ];
  invalidArguments(t, cases);
  t.is(db.raw.prepare('SELECT count(*) FROM _honker_results').pluck().get(), 0);
});

test('results calls on a closed database throw CLOSED synchronously', (t) => {
  const db = open(tempDbPath(t));
  db.close();
  const cases: Array<[() => unknown, string]> = [
    [() => db.results.save(1, 1), 'results.save: the database is closed'],
    [() => db.results.get(1), 'results.get: the database is closed'],
    [() => db.results.wait(1), 'results.wait: the database is closed'],
    [() => db.results.sweep(), 'results.sweep: the database is closed'],
  ];
  for (const [fn, message] of cases) {
    const err = syncError(t, fn);
    t.is(err.code, 'CLOSED');
    t.is(err.message, message);
  }
});

test('a task whose return value JSON would change fails the attempt, naming the path; no result is saved as a success', async (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  const stats = q.task('stats', () => ({ mean: NaN, seen: new Set([1]) }), { retries: 0 });
  const h = stats();
  const ac = new AbortController();
  const run = db.worker({ queues: ['q'] }).run({ signal: ac.signal });
  const err = await t.throwsAsync(h.get({ timeoutMs: 30_000 }));
  t.is(
    err?.message,
    `task stats (job ${h.id}) died after 1 attempt(s): task stats returned a value that is not JSON: ` +
      'results.save: value.mean must be a finite number (got NaN): JSON would store null; pass null or a number',
  );
  ac.abort();
  t.like(await run, { completed: 0, dead: 1 });
  t.like(JSON.parse(db.raw.prepare('SELECT honker_result_get(?)').pluck().get(h.id) as string), { ok: false });
});
