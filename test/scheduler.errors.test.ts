/**
 * scheduler: the exact error of every scheduler function for each bad
 * argument (rules in ext/scheduler.c's header), including the cron parser's
 * message for a bad expression, and that a rejected call writes nothing.
 */
import test from './helpers/test.js';
import { freshDb, scalar, sqlError } from './helpers/db.js';

const MAX_UNIX = 253402300799n;
const REG6 = 'SELECT honker_scheduler_register(?,?,?,?,?,?)';
const REG7 = 'SELECT honker_scheduler_register(?,?,?,?,?,?,?)';
const UPD6 = 'SELECT honker_scheduler_update(?,?,?,?,?,?)';
const UPD8 = 'SELECT honker_scheduler_update(?,?,?,?,?,?,?,?)';
const NEXT = 'SELECT honker_cron_next_after(?,?)';
const CRON_ERROR = 'SELECT honker_cron_error(?)';

/** [sql, params, exact message] */
const cases: Array<[string, unknown[], string]> = [
  // honker_cron_next_after(expr, from_unix)
  [NEXT, [null, 0n], 'honker_cron_next_after: expr must be TEXT (got NULL)'],
  [CRON_ERROR, [null], 'honker_cron_error: expr must be TEXT (got NULL)'],
  [CRON_ERROR, [5n], 'honker_cron_error: expr must be TEXT (got INTEGER 5)'],
  [NEXT, [5n, 0n], 'honker_cron_next_after: expr must be TEXT (got INTEGER 5)'],
  [NEXT, [Buffer.from('* * * * *'), 0n], 'honker_cron_next_after: expr must be TEXT (got BLOB of 9 bytes)'],
  [NEXT, ['61 * * * *', 0n], 'honker_cron_next_after: expr is invalid: minute field: 61 is out of range 0-59'],
  [NEXT, ['* * *', 0n], 'honker_cron_next_after: expr is invalid: expected 5 or 6 fields (got 3)'],
  [NEXT, ['', 0n], 'honker_cron_next_after: expr is invalid: expected 5 or 6 fields (got 0)'],
  [NEXT, ['@fortnightly', 0n], 'honker_cron_next_after: expr is invalid: unknown macro @fortnightly'],
  [NEXT, ['*/0 * * * *', 0n], 'honker_cron_next_after: expr is invalid: minute field: step must be >= 1 (got 0)'],
  [NEXT, ['0 0 30 2 *', 0n], 'honker_cron_next_after: expr is invalid: never matches: no selected day-of-month exists in the selected months'],
  [NEXT, ['@every 0s', 0n], 'honker_cron_next_after: expr is invalid: @every: n must be >= 1 (got 0)'],
  [NEXT, ['@every 5w', 0n], "honker_cron_next_after: expr is invalid: @every: unknown unit 'w' (expected s, m, h or d)"],
  [NEXT, ['* * * * *\0x', 0n], "honker_cron_next_after: expr is invalid: day-of-week field: cannot parse '*?x'"],
  [NEXT, ['x'.repeat(10_000), 0n], 'honker_cron_next_after: expr is invalid: expected 5 or 6 fields (got 1)'],
  [NEXT, ['9'.repeat(10_000) + ' * * * *', 0n], 'honker_cron_next_after: expr is invalid: minute field: 999999999999999999999999... is out of range 0-59'],
  [NEXT, ['* * * * *', null], 'honker_cron_next_after: from_unix must be an integer (got NULL)'],
  [NEXT, ['* * * * *', 3.5], 'honker_cron_next_after: from_unix must be an integer (got REAL 3.5)'],
  [NEXT, ['* * * * *', '5'], "honker_cron_next_after: from_unix must be an integer (got TEXT '5')"],
  [NEXT, ['* * * * *', -1n], 'honker_cron_next_after: from_unix must be >= 0 (got -1)'],
  [NEXT, ['* * * * *', MAX_UNIX + 1n], 'honker_cron_next_after: from_unix must be <= 253402300799 (got 253402300800)'],
  // honker_scheduler_register(name, queue, expr, payload, priority, expires_s|NULL [, max_attempts])
  [REG6, [null, 'q', '@every 1s', 'p', 0n, null], 'honker_scheduler_register: name must be non-empty TEXT (got NULL)'],
  [REG6, ['', 'q', '@every 1s', 'p', 0n, null], "honker_scheduler_register: name must be non-empty TEXT (got TEXT '')"],
  [REG6, ['n', 5n, '@every 1s', 'p', 0n, null], 'honker_scheduler_register: queue must be non-empty TEXT (got INTEGER 5)'],
  [REG6, ['n', '', '@every 1s', 'p', 0n, null], "honker_scheduler_register: queue must be non-empty TEXT (got TEXT '')"],
  [REG6, [' ', 'blank-name', '@every 1s', 'p', 0n, null], "honker_scheduler_register: name must not be blank (got TEXT ' ')"],
  [REG6, ['blank-queue', '\u3000', '@every 1s', 'p', 0n, null], "honker_scheduler_register: queue must not be blank (got TEXT '\u3000')"],
  [REG6, ['n', 'q', '@every 1s', 'p', 0n, MAX_UNIX], 'honker_scheduler_register: expires_s must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  [REG6, ['n', 'q', null, 'p', 0n, null], 'honker_scheduler_register: expr must be TEXT (got NULL)'],
  [REG6, ['n', 'q', '61 * * * *', 'p', 0n, null], 'honker_scheduler_register: expr is invalid: minute field: 61 is out of range 0-59'],
  [REG6, ['n', 'q', '* * * FOO *', 'p', 0n, null], "honker_scheduler_register: expr is invalid: month field: unknown name 'FOO'"],
  [REG6, ['n', 'q', '@every 1s', null, 0n, null], 'honker_scheduler_register: payload must be TEXT (got NULL)'],
  [REG6, ['n', 'q', '@every 1s', Buffer.from('abc'), 0n, null], 'honker_scheduler_register: payload must be TEXT (got BLOB of 3 bytes)'],
  [REG6, ['n', 'q', '@every 1s', 'p', 3.5, null], 'honker_scheduler_register: priority must be an integer (got REAL 3.5)'],
  [REG6, ['n', 'q', '@every 1s', 'p', null, null], 'honker_scheduler_register: priority must be an integer (got NULL)'],
  [REG6, ['n', 'q', '@every 1s', 'p', 0n, 0n], 'honker_scheduler_register: expires_s must be >= 1 (got 0)'],
  [REG6, ['n', 'q', '@every 1s', 'p', 0n, -5n], 'honker_scheduler_register: expires_s must be >= 1 (got -5)'],
  [REG6, ['n', 'q', '@every 1s', 'p', 0n, 'x'], "honker_scheduler_register: expires_s must be an integer or NULL (got TEXT 'x')"],
  [REG6, ['n', 'q', '@every 1s', 'p', 0n, MAX_UNIX + 1n], 'honker_scheduler_register: expires_s must be <= 253402300799 (got 253402300800)'],
  [REG7, ['n', 'q', '@every 1s', 'p', 0n, null, 0n], 'honker_scheduler_register: max_attempts must be >= 1 (got 0)'],
  [REG7, ['n', 'q', '@every 1s', 'p', 0n, null, null], 'honker_scheduler_register: max_attempts must be an integer (got NULL)'],
  [REG7, ['n', 'q', '@every 1s', 'p', 0n, null, 2.5], 'honker_scheduler_register: max_attempts must be an integer (got REAL 2.5)'],
  ['SELECT honker_scheduler_register(?,?,?,?,?)', ['n', 'q', '@every 1s', 'p', 0n], 'wrong number of arguments to function honker_scheduler_register()'],
  // unregister, pause, resume
  ['SELECT honker_scheduler_unregister(?)', [null], 'honker_scheduler_unregister: name must be non-empty TEXT (got NULL)'],
  ['SELECT honker_scheduler_pause(?)', [''], "honker_scheduler_pause: name must be non-empty TEXT (got TEXT '')"],
  ['SELECT honker_scheduler_resume(?)', [1.5], 'honker_scheduler_resume: name must be non-empty TEXT (got REAL 1.5)'],
  // honker_scheduler_update(name, expr|NULL, payload|NULL, priority|NULL, expires_s|NULL, touch_expires [, max_attempts|NULL, touch_max_attempts])
  [UPD6, [null, null, null, null, null, 0n], 'honker_scheduler_update: name must be non-empty TEXT (got NULL)'],
  [UPD6, ['t', 5n, null, null, null, 0n], 'honker_scheduler_update: expr must be TEXT or NULL (got INTEGER 5)'],
  [UPD6, ['t', '@every 0s', null, null, null, 0n], 'honker_scheduler_update: expr is invalid: @every: n must be >= 1 (got 0)'],
  [UPD6, ['t', null, Buffer.from('x'), null, null, 0n], 'honker_scheduler_update: payload must be TEXT or NULL (got BLOB of 1 bytes)'],
  [UPD6, ['t', null, null, 3.5, null, 0n], 'honker_scheduler_update: priority must be an integer or NULL (got REAL 3.5)'],
  [UPD6, ['t', null, null, null, 0n, 1n], 'honker_scheduler_update: expires_s must be >= 1 (got 0)'],
  [UPD6, ['t', null, null, null, -1n, 0n], 'honker_scheduler_update: expires_s must be >= 1 (got -1)'],
  [UPD6, ['t', null, null, null, MAX_UNIX, 1n], 'honker_scheduler_update: expires_s must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  [UPD6, ['t', '@daily', null, null, MAX_UNIX - 1n, 1n], 'honker_scheduler_update: expires_s must end by 9999-12-31T23:59:59Z (got 253402300798)'],
  [UPD6, ['t', null, null, null, null, 2n], 'honker_scheduler_update: touch_expires must be 0 or 1 (got 2)'],
  [UPD6, ['t', null, null, null, null, null], 'honker_scheduler_update: touch_expires must be an integer (got NULL)'],
  [UPD8, ['t', null, null, null, null, 0n, 0n, 1n], 'honker_scheduler_update: max_attempts must be >= 1 (got 0)'],
  [UPD8, ['t', null, null, null, null, 0n, 'x', 1n], "honker_scheduler_update: max_attempts must be an integer or NULL (got TEXT 'x')"],
  [UPD8, ['t', null, null, null, null, 0n, null, -1n], 'honker_scheduler_update: touch_max_attempts must be 0 or 1 (got -1)'],
  [UPD8, ['t', null, null, null, null, 0n, null, 0.5], 'honker_scheduler_update: touch_max_attempts must be an integer (got REAL 0.5)'],
  ['SELECT honker_scheduler_update(?,?,?,?,?,?,?)', ['t', null, null, null, null, 0n, 3n], 'wrong number of arguments to function honker_scheduler_update()'],
  // honker_scheduler_tick(now)
  ['SELECT honker_scheduler_tick(?)', [null], 'honker_scheduler_tick: now must be an integer (got NULL)'],
  ['SELECT honker_scheduler_tick(?)', [3.5], 'honker_scheduler_tick: now must be an integer (got REAL 3.5)'],
  ['SELECT honker_scheduler_tick(?)', ['now'], "honker_scheduler_tick: now must be an integer (got TEXT 'now')"],
  ['SELECT honker_scheduler_tick(?)', [-1n], 'honker_scheduler_tick: now must be >= 0 (got -1)'],
  ['SELECT honker_scheduler_tick(?)', [MAX_UNIX + 1n], 'honker_scheduler_tick: now must be <= 253402300799 (got 253402300800)'],
];

for (const [sql, params, message] of cases) {
  const shown = params.map((p) => (typeof p === 'string' && p.length > 20 ? `${p.slice(0, 12)}...` : String(p))).join(', ');
  test(`scheduler.errors ${sql.replace(/\(.*$/, '').replace('SELECT ', '')}(${shown})`, (t) => {
    const { db } = freshDb(t);
    db.prepare("SELECT honker_scheduler_register('t', 'q', '@every 60s', 'p', 0, NULL)").get();
    const before = db.prepare('SELECT * FROM _honker_scheduler_tasks').all();
    t.is(sqlError(t, db, sql, ...params), message);
    // a rejected call changes nothing
    t.deepEqual(db.prepare('SELECT * FROM _honker_scheduler_tasks').all(), before);
    t.is(scalar(db, 'SELECT count(*) FROM _honker_live'), 0);
    t.false(db.inTransaction);
  });
}

test('scheduler.errors integral REAL is accepted wherever an integer is taken', (t) => {
  const { db } = freshDb(t);
  t.is(scalar(db, NEXT, '@every 60s', 1000.0), 1020);
  t.is(scalar(db, REG7, 'n', 'q', '@every 1s', 'p', 2.0, 5.0, 4.0), 1);
  t.is(scalar(db, UPD8, 'n', null, null, 3.0, 6.0, 1.0, 2.0, 1.0), 1);
  t.deepEqual(db.prepare('SELECT priority, expires_s, max_attempts FROM _honker_scheduler_tasks').get(), {
    priority: 3,
    expires_s: 6,
    max_attempts: 2,
  });
  t.is(scalar(db, 'SELECT honker_scheduler_tick(?)', 1000.0), '[]');
});

test('scheduler.errors a task row with an invalid cron_expr fails resume by name and is skipped by tick', (t) => {
  const { db } = freshDb(t);
  db.prepare(
    "INSERT INTO _honker_scheduler_tasks (name, queue, cron_expr, payload, next_fire_at, enabled) VALUES ('bad', 'q', '61 * * * *', 'p', 1000, 0)",
  ).run();
  t.is(
    sqlError(t, db, "SELECT honker_scheduler_resume('bad')"),
    "honker_scheduler_resume: task 'bad' has an invalid cron_expr: minute field: 61 is out of range 0-59",
  );
  db.prepare("UPDATE _honker_scheduler_tasks SET enabled = 1 WHERE name = 'bad'").run();
  t.is(scalar(db, 'SELECT honker_scheduler_tick(2000)'), '[]');
  t.is(scalar(db, "SELECT next_fire_at FROM _honker_scheduler_tasks WHERE name = 'bad'"), 1000);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_live'), 0);
  t.false(db.inTransaction);
});
