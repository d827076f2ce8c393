/**
 * notify, honker_notify_prune and honker_notify_read_since: every bad
 * argument is an error naming the function and the argument; big and odd
 * payloads work.
 */
import test from './helpers/test.js';
import { freshDb, scalar, sqlError } from './helpers/db.js';
import { errorCases } from './helpers/errors.js';

const NOTIFY = 'SELECT notify(?, ?)';
const PRUNE = 'SELECT honker_notify_prune(?, ?)';
const READ = 'SELECT honker_notify_read_since(?, ?, ?)';

errorCases('notify', [
  [NOTIFY, [null, 'p'], 'notify: channel must be non-empty TEXT (got NULL)'],
  [NOTIFY, ['', 'p'], "notify: channel must be non-empty TEXT (got TEXT '')"],
  [NOTIFY, [' \r\n', 'p'], "notify: channel must not be blank (got TEXT ' \r\n')"],
  [NOTIFY, [5, 'p'], 'notify: channel must be non-empty TEXT (got REAL 5.0)'],
  [NOTIFY, [5n, 'p'], 'notify: channel must be non-empty TEXT (got INTEGER 5)'],
  [NOTIFY, [Buffer.from('ch'), 'p'], 'notify: channel must be non-empty TEXT (got BLOB of 2 bytes)'],
  [NOTIFY, ['ch', null], 'notify: payload must be TEXT (got NULL)'],
  [NOTIFY, ['ch', 3.5], 'notify: payload must be TEXT (got REAL 3.5)'],
  [NOTIFY, ['ch', Buffer.from([1, 2, 3])], 'notify: payload must be TEXT (got BLOB of 3 bytes)'],
  [PRUNE, ['3600', null], "honker_notify_prune: older_than_s must be an integer or NULL (got TEXT '3600')"],
  [PRUNE, [-1, null], 'honker_notify_prune: older_than_s must be >= 0 (got -1)'],
  [PRUNE, [3.5, null], 'honker_notify_prune: older_than_s must be an integer or NULL (got REAL 3.5)'],
  [PRUNE, [1e300, null], 'honker_notify_prune: older_than_s must be an integer or NULL (got REAL 1.0e+300)'],
  [PRUNE, [null, -1], 'honker_notify_prune: max_keep must be >= 0 (got -1)'],
  [PRUNE, [null, 0.5], 'honker_notify_prune: max_keep must be an integer or NULL (got REAL 0.5)'],
  [PRUNE, [null, -9223372036854775808n], 'honker_notify_prune: max_keep must be >= 0 (got -9223372036854775808)'],
  [PRUNE, [10, Buffer.from('1')], 'honker_notify_prune: max_keep must be an integer or NULL (got BLOB of 1 bytes)'],
  [READ, [null, 0, 10], 'honker_notify_read_since: channel must be non-empty TEXT (got NULL)'],
  [READ, ['', 0, 10], "honker_notify_read_since: channel must be non-empty TEXT (got TEXT '')"],
  [READ, ['c', null, 10], 'honker_notify_read_since: after_id must be an integer (got NULL)'],
  [READ, ['c', -1, 10], 'honker_notify_read_since: after_id must be >= 0 (got -1)'],
  [READ, ['c', 1.5, 10], 'honker_notify_read_since: after_id must be an integer (got REAL 1.5)'],
  [READ, ['c', 0, -1], 'honker_notify_read_since: limit must be >= 0 (got -1)'],
  [READ, ['c', 0, '10'], "honker_notify_read_since: limit must be an integer (got TEXT '10')"],
]);

test('notify: a bad argument writes nothing', (t) => {
  const { db } = freshDb(t);
  t.truthy(sqlError(t, db, NOTIFY, 'ch', null));
  t.is(scalar(db, 'SELECT count(*) FROM _honker_notifications'), 0);
});

test('notify: a 1 MB payload, embedded NULs and non-ASCII text round-trip', (t) => {
  const { db } = freshDb(t);
  const big = 'x'.repeat(1 << 20);
  const id = scalar<number>(db, NOTIFY, 'big', big);
  t.is(scalar(db, 'SELECT payload FROM _honker_notifications WHERE id = ?', id), big);
  const odd = 'a\u0000b \u00e9\u4e2d\ud83d\ude00 "\\';
  const id2 = scalar<number>(db, NOTIFY, 'odd', odd);
  t.is(scalar(db, 'SELECT payload FROM _honker_notifications WHERE id = ?', id2), odd);
  t.is(id2, id + 1);
});

test('honker_notify_prune: integral REAL arguments (JS numbers) are accepted', (t) => {
  const { db } = freshDb(t);
  scalar(db, NOTIFY, 'a', '1');
  scalar(db, NOTIFY, 'a', '2');
  t.is(scalar(db, PRUNE, null, 1), 1);
  t.is(scalar(db, PRUNE, 0, null), 1);
});
