/**
 * The client's locks and rate limits in one process: db.tryLock (null when
 * held by another owner, renew/release, expiry on whole seconds) and
 * db.tryRateLimit (limit per window), with validation thrown synchronously
 * before anything is written.
 */
import test, { type ExecutionContext } from './helpers/test.js';
import { open, Lock, type HonkerDatabase } from '../src/index.js';
import { tempDbPath } from './helpers/db.js';
import { sleep } from './helpers/scheduler-client.js';

function openDb(t: ExecutionContext, file = tempDbPath(t)): HonkerDatabase {
  const db = open(file);
  t.teardown(() => db.close());
  return db;
}

function locks(db: HonkerDatabase): { name: string; owner: string; expires_at: number }[] {
  return db.raw.prepare('SELECT name, owner, expires_at FROM _honker_locks ORDER BY name').all() as never;
}

/** Wait until just after a whole second, so a test's few steps fall inside one second. */
async function alignToSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 20);
}

test('tryLock: a Lock for the first owner, null for another, the holder may re-acquire', (t) => {
  const db = openDb(t);
  const before = Math.floor(Date.now() / 1000);
  const lock = db.tryLock('backup', { ttlS: 30 });
  t.true(lock instanceof Lock);
  t.is(lock!.name, 'backup');
  t.is(lock!.ttlS, 30);
  t.regex(lock!.owner, /^[0-9a-f-]{36}$/, 'a random owner by default');
  const [row] = locks(db);
  t.is(row.owner, lock!.owner);
  t.true(row.expires_at >= before + 30 && row.expires_at <= Math.floor(Date.now() / 1000) + 30);
  t.is(db.tryLock('backup'), null, 'another (random) owner');
  t.is(db.tryLock('backup', { owner: 'someone' }), null);
  const again = db.tryLock('backup', { owner: lock!.owner, ttlS: 99 });
  t.truthy(again, 'the holder gets it again');
  t.is(locks(db)[0].expires_at, row.expires_at, 're-acquiring does not extend the lease (renew does)');
  t.truthy(db.tryLock('other'), 'names are independent');
  t.is(db.tryLock('default-ttl')!.ttlS, 60);
});

test('release frees the lock for others; releasing twice or after a takeover is false', (t) => {
  const db = openDb(t);
  const a = db.tryLock('l', { owner: 'a' })!;
  t.true(a.release());
  t.false(a.release());
  t.deepEqual(locks(db), []);
  const b = db.tryLock('l', { owner: 'b' });
  t.truthy(b);
  t.false(a.release(), 'a cannot release b\'s lock');
  t.false(a.renew(), 'nor renew it');
  t.is(locks(db)[0].owner, 'b');
});

test('renew extends the lease to now + ttlS (its own or the given one)', (t) => {
  const db = openDb(t);
  const lock = db.tryLock('l', { ttlS: 5 })!;
  db.raw.prepare("UPDATE _honker_locks SET expires_at = unixepoch() + 2 WHERE name = 'l'").run();
  t.true(lock.renew());
  const now = Math.floor(Date.now() / 1000);
  t.true(Math.abs(locks(db)[0].expires_at - (now + 5)) <= 1);
  t.true(lock.renew(100));
  t.true(Math.abs(locks(db)[0].expires_at - (now + 100)) <= 1);
});

test('a lease lapses on the whole second: ttlS 2 taken at S.02 is free from S+2, not at S+1.5', async (t) => {
  const db = openDb(t);
  await alignToSecond();
  const before = Date.now();
  const lock = db.tryLock('l', { ttlS: 2 })!;
  const after = Date.now();
  t.truthy(lock);
  const exp = locks(db)[0].expires_at;
  t.true(exp >= Math.floor(before / 1000) + 2 && exp <= Math.floor(after / 1000) + 2, 'expires_at = floor(now) + ttlS');
  await sleep(exp * 1000 - 500 - Date.now());
  t.is(db.tryLock('l', { owner: 'b' }), null, 'still held half a second before expires_at (1.5 s in)');
  await sleep(exp * 1000 + 20 - Date.now());
  const b = db.tryLock('l', { owner: 'b' });
  t.truthy(b, 'taken over at expires_at, ttlS - 0.02 s after it was taken');
  t.false(lock.renew(), 'the lapsed holder cannot renew');
  t.false(lock.release());
  t.is(locks(db)[0].owner, 'b');
});

test('an expired lock nobody took can be renewed by nobody but re-taken by its holder', async (t) => {
  const db = openDb(t);
  const lock = db.tryLock('l', { owner: 'a', ttlS: 1 })!;
  db.raw.prepare("UPDATE _honker_locks SET expires_at = unixepoch() - 1 WHERE name = 'l'").run();
  t.false(lock.renew(), 'renew refuses a lapsed lease');
  t.truthy(db.tryLock('l', { owner: 'a' }));
});

test('tryRateLimit: limit calls per window, the rejected ones not counted, names independent', (t) => {
  const db = openDb(t);
  const opts = { limit: 3, perS: 1_000_000_000 }; // one window for the whole test
  t.deepEqual([1, 2, 3, 4, 5].map(() => db.tryRateLimit('api', opts)), [true, true, true, false, false]);
  t.is(db.raw.prepare("SELECT count FROM _honker_rate_limits WHERE name = 'api'").pluck().get(), 3);
  t.true(db.tryRateLimit('other', opts));
  t.true(db.tryRateLimit('api', { limit: 4, perS: 1_000_000_000 }), 'a higher limit admits one more');
  t.false(db.tryRateLimit('zero', { limit: 0, perS: 60 }), 'a limit of 0 admits nothing');
  t.is(db.raw.prepare("SELECT count(*) FROM _honker_rate_limits WHERE name = 'zero'").pluck().get(), 0);
});

test('tryRateLimit: a new window admits again', async (t) => {
  const db = openDb(t);
  const opts = { limit: 1, perS: 2 };
  await sleep(2000 - (Date.now() % 2000) + 20); // just after a window starts: 2 s of slack
  t.true(db.tryRateLimit('w', opts));
  t.false(db.tryRateLimit('w', opts));
  await sleep(2000 - (Date.now() % 2000) + 20);
  t.true(db.tryRateLimit('w', opts), 'the next window');
  t.false(db.tryRateLimit('w', opts));
  t.deepEqual(db.raw.prepare("SELECT count FROM _honker_rate_limits WHERE name = 'w'").pluck().all(), [1, 1]);
});

const errors: [string, (db: HonkerDatabase) => unknown, string][] = [
  ['tryLock: empty name', (db) => db.tryLock(''), 'db.tryLock: name must be a non-empty string (got "")'],
  ['tryLock: name not a string', (db) => db.tryLock(7 as never), 'db.tryLock: name must be a non-empty string (got 7)'],
  ['tryLock: ttlS 0', (db) => db.tryLock('l', { ttlS: 0 }), 'db.tryLock: ttlS must be an integer >= 1 (got 0)'],
  ['tryLock: ttlS 1.5', (db) => db.tryLock('l', { ttlS: 1.5 }), 'db.tryLock: ttlS must be an integer >= 1 (got 1.5)'],
  ['tryLock: empty owner', (db) => db.tryLock('l', { owner: '' }), 'db.tryLock: owner must be a non-empty string (got "")'],
  ['tryLock: unknown option', (db) => db.tryLock('l', { ttl: 5 } as never), 'db.tryLock: unknown option "ttl" (did you mean "ttlS"?)'],
  ['tryLock: options not an object', (db) => db.tryLock('l', 5 as never), 'db.tryLock: options must be an object (got 5)'],
  ['renew: ttlS 0', (db) => db.tryLock('l')!.renew(0), 'lock.renew: ttlS must be an integer >= 1 (got 0)'],
  ['tryRateLimit: no options', (db) => db.tryRateLimit('r', undefined as never), 'db.tryRateLimit: limit must be an integer >= 0 (got undefined)'],
  ['tryRateLimit: limit -1', (db) => db.tryRateLimit('r', { limit: -1, perS: 1 }), 'db.tryRateLimit: limit must be an integer >= 0 (got -1)'],
  ['tryRateLimit: limit 1.5', (db) => db.tryRateLimit('r', { limit: 1.5, perS: 1 }), 'db.tryRateLimit: limit must be an integer >= 0 (got 1.5)'],
  ['tryRateLimit: perS 0', (db) => db.tryRateLimit('r', { limit: 1, perS: 0 }), 'db.tryRateLimit: perS must be an integer >= 1 (got 0)'],
  ['tryRateLimit: perS missing', (db) => db.tryRateLimit('r', { limit: 1 } as never), 'db.tryRateLimit: perS must be an integer >= 1 (got undefined)'],
  ['tryRateLimit: empty name', (db) => db.tryRateLimit('', { limit: 1, perS: 1 }), 'db.tryRateLimit: name must be a non-empty string (got "")'],
  ['tryRateLimit: unknown option', (db) => db.tryRateLimit('r', { limit: 1, per: 1 } as never), 'db.tryRateLimit: unknown option "per" (did you mean "perS"?)'],
  ['tryLock: blank name', (db) => db.tryLock('  '), 'db.tryLock: name must not be blank (got "  ")'],
  ['tryLock: blank owner', (db) => db.tryLock('l', { owner: '\t' }), 'db.tryLock: owner must not be blank (got "\\t")'],
  ['tryLock: ttlS past 9999', (db) => db.tryLock('l', { ttlS: Number.MAX_SAFE_INTEGER }), 'db.tryLock: ttlS must end by 9999-12-31T23:59:59Z (got 9007199254740991)'],
  ['renew: ttlS past 9999', (db) => db.tryLock('l')!.renew(253402300799), 'lock.renew: ttlS must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  ['tryRateLimit: blank name', (db) => db.tryRateLimit(' ', { limit: 1, perS: 1 }), 'db.tryRateLimit: name must not be blank (got " ")'],
];
for (const [title, call, message] of errors) {
  test(`${title} throws synchronously and writes nothing`, (t) => {
    const db = openDb(t);
    const version = db.raw.prepare('SELECT total_changes()').pluck().get();
    const before = locks(db).length;
    const err = t.throws(() => call(db), { message });
    t.is((err as { code?: string }).code, 'INVALID_ARGUMENT');
    if (!title.startsWith('renew')) {
      t.is(db.raw.prepare('SELECT total_changes()').pluck().get(), version);
      t.is(locks(db).length, before);
      t.is(db.raw.prepare('SELECT count(*) FROM _honker_rate_limits').pluck().get(), 0);
    }
  });
}

test('a closed database is refused', (t) => {
  const db = open(tempDbPath(t));
  const lock = db.tryLock('l')!;
  db.close();
  t.throws(() => db.tryLock('l'), { message: 'db.tryLock: the database is closed' });
  t.throws(() => db.tryRateLimit('r', { limit: 1, perS: 1 }), { message: 'db.tryRateLimit: the database is closed' });
  t.throws(() => lock.renew(), { message: 'lock.renew: the database is closed' });
  t.throws(() => lock.release(), { message: 'lock.release: the database is closed' });
});
