/**
 * queue: the exact error of every queue function for each bad argument
 * (spec/sql.md "Arguments"; the rules are listed in ext/queue.c's header),
 * and integral REAL accepted wherever an integer is taken (a Fix: honker
 * says "Invalid function parameter type Real at index 2").
 */
import test from './helpers/test.js';
import { freshDb, scalar, sqlError } from './helpers/db.js';

const MAX = 9223372036854775807n;
/** 9999-12-31T23:59:59Z: no function stores a time past it (ext/util.h HONKER_MAX_UNIX). */
const MAX_UNIX = 253402300799n;

/** [sql, params, exact message] */
const cases: Array<[string, unknown[], string]> = [
  // honker_enqueue(queue, payload, run_at|NULL, delay|NULL, priority, max_attempts, expires|NULL)
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', [null, 'p', null, null, 0n, 3n, null], 'honker_enqueue: queue must be non-empty TEXT (got NULL)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['', 'p', null, null, 0n, 3n, null], "honker_enqueue: queue must be non-empty TEXT (got TEXT '')"],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', [5n, 'p', null, null, 0n, 3n, null], 'honker_enqueue: queue must be non-empty TEXT (got INTEGER 5)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', null, null, null, 0n, 3n, null], 'honker_enqueue: payload must be TEXT (got NULL)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', Buffer.from('abc'), null, null, 0n, 3n, null], 'honker_enqueue: payload must be TEXT (got BLOB of 3 bytes)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', 'soon', null, 0n, 3n, null], "honker_enqueue: run_at must be an integer or NULL (got TEXT 'soon')"],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', 3.5, null, 0n, 3n, null], 'honker_enqueue: run_at must be an integer or NULL (got REAL 3.5)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, -1n, 0n, 3n, null], 'honker_enqueue: delay must be >= 0 (got -1)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, MAX, 0n, 3n, null], 'honker_enqueue: delay must end by 9999-12-31T23:59:59Z (got 9223372036854775807)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, 9007199254740991, 0n, 3n, null], 'honker_enqueue: delay must end by 9999-12-31T23:59:59Z (got 9007199254740991)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, MAX_UNIX, 0n, 3n, null], 'honker_enqueue: delay must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', MAX_UNIX + 1n, null, 0n, 3n, null], 'honker_enqueue: run_at must be unix seconds up to 253402300799, i.e. 9999-12-31T23:59:59Z (got 253402300800, which looks like milliseconds: divide by 1000)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', 1764967000000, null, 0n, 3n, null], 'honker_enqueue: run_at must be unix seconds up to 253402300799, i.e. 9999-12-31T23:59:59Z (got 1764967000000, which looks like milliseconds: divide by 1000)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', MAX, null, 0n, 3n, null], 'honker_enqueue: run_at must be unix seconds up to 253402300799, i.e. 9999-12-31T23:59:59Z (got 9223372036854775807)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['  ', 'p', null, null, 0n, 3n, null], "honker_enqueue: queue must not be blank (got TEXT '  ')"],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['\t\n\u3000\ufeff', 'p', null, null, 0n, 3n, null], "honker_enqueue: queue must not be blank (got TEXT '\t\n\u3000\ufeff')"],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, 1e300, 0n, 3n, null], 'honker_enqueue: delay must be an integer or NULL (got REAL 1.0e+300)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, null, null, 3n, null], 'honker_enqueue: priority must be an integer (got NULL)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, null, 0.5, 3n, null], 'honker_enqueue: priority must be an integer (got REAL 0.5)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, null, 0n, 0n, null], 'honker_enqueue: max_attempts must be >= 1 (got 0)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, null, 0n, null, null], 'honker_enqueue: max_attempts must be an integer (got NULL)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, null, 0n, 3n, 0n], 'honker_enqueue: expires must be >= 1 (got 0)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, null, 0n, 3n, MAX], 'honker_enqueue: expires must end by 9999-12-31T23:59:59Z (got 9223372036854775807)'],
  ['SELECT honker_enqueue(?,?,?,?,?,?,?)', ['q', 'p', null, null, 0n, 3n, MAX_UNIX], 'honker_enqueue: expires must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  // honker_enqueue_unique(queue, key, payload, run_at|NULL, delay|NULL, priority, max_attempts, expires|NULL)
  ['SELECT honker_enqueue_unique(?,?,?,?,?,?,?,?)', ['q', null, 'p', null, null, 0n, 3n, null], 'honker_enqueue_unique: key must be non-empty TEXT (got NULL)'],
  ['SELECT honker_enqueue_unique(?,?,?,?,?,?,?,?)', ['q', '', 'p', null, null, 0n, 3n, null], "honker_enqueue_unique: key must be non-empty TEXT (got TEXT '')"],
  ['SELECT honker_enqueue_unique(?,?,?,?,?,?,?,?)', ['q', 'k', 'p', null, -5n, 0n, 3n, null], 'honker_enqueue_unique: delay must be >= 0 (got -5)'],
  ['SELECT honker_enqueue_unique(?,?,?,?,?,?,?,?)', ['q', ' ', 'p', null, null, 0n, 3n, null], "honker_enqueue_unique: key must not be blank (got TEXT ' ')"],
  ['SELECT honker_enqueue_unique(?,?,?,?,?,?,?,?)', ['\u00a0', 'k', 'p', null, null, 0n, 3n, null], "honker_enqueue_unique: queue must not be blank (got TEXT '\u00a0')"],
  ['SELECT honker_enqueue_unique(?,?,?,?,?,?,?,?)', ['q', 'k', 'p', 1764967000000, null, 0n, 3n, null], 'honker_enqueue_unique: run_at must be unix seconds up to 253402300799, i.e. 9999-12-31T23:59:59Z (got 1764967000000, which looks like milliseconds: divide by 1000)'],
  ['SELECT honker_enqueue_unique(?,?,?,?,?,?,?,?)', ['q', 'k', 'p', null, MAX_UNIX, 0n, 3n, null], 'honker_enqueue_unique: delay must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  ['SELECT honker_enqueue_unique(?,?,?,?,?,?,?,?)', ['q', 'k', 'p', null, null, 0n, -1n, null], 'honker_enqueue_unique: max_attempts must be >= 1 (got -1)'],
  // honker_claim_batch(queue, worker_id, n, visibility_timeout_s)
  ['SELECT honker_claim_batch(?,?,?,?)', ['q', 'w', -1n, 30n], 'honker_claim_batch: n must be >= 0 (got -1)'],
  ['SELECT honker_claim_batch(?,?,?,?)', ['q', 'w', 3.5, 30n], 'honker_claim_batch: n must be an integer (got REAL 3.5)'],
  ['SELECT honker_claim_batch(?,?,?,?)', ['q', 'w', null, 30n], 'honker_claim_batch: n must be an integer (got NULL)'],
  ['SELECT honker_claim_batch(?,?,?,?)', ['q', 'w', '1', 30n], "honker_claim_batch: n must be an integer (got TEXT '1')"],
  ['SELECT honker_claim_batch(?,?,?,?)', ['q', null, 1n, 30n], 'honker_claim_batch: worker_id must be non-empty TEXT (got NULL)'],
  ['SELECT honker_claim_batch(?,?,?,?)', ['q', '', 1n, 30n], "honker_claim_batch: worker_id must be non-empty TEXT (got TEXT '')"],
  ['SELECT honker_claim_batch(?,?,?,?)', [null, 'w', 1n, 30n], 'honker_claim_batch: queue must be non-empty TEXT (got NULL)'],
  ['SELECT honker_claim_batch(?,?,?,?)', ['q', 'w', 1n, 0n], 'honker_claim_batch: visibility_timeout_s must be >= 1 (got 0)'],
  ['SELECT honker_claim_batch(?,?,?,?)', ['q', 'w', 1n, MAX], 'honker_claim_batch: visibility_timeout_s must end by 9999-12-31T23:59:59Z (got 9223372036854775807)'],
  ['SELECT honker_claim_batch(?,?,?,?)', ['q', 'w', 1n, MAX_UNIX], 'honker_claim_batch: visibility_timeout_s must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  ['SELECT honker_claim_batch(?,?,?,?)', ['q', '\u2028 ', 1n, 30n], "honker_claim_batch: worker_id must not be blank (got TEXT '\u2028 ')"],
  // honker_ack(id, worker_id) / honker_ack_batch(ids_json, worker_id)
  ['SELECT honker_ack(?,?)', [null, 'w'], 'honker_ack: id must be an integer (got NULL)'],
  ['SELECT honker_ack(?,?)', [1.25, 'w'], 'honker_ack: id must be an integer (got REAL 1.25)'],
  ['SELECT honker_ack(?,?)', [1n, null], 'honker_ack: worker_id must be non-empty TEXT (got NULL)'],
  ['SELECT honker_ack_batch(?,?)', [null, 'w'], 'honker_ack_batch: ids_json must be TEXT (got NULL)'],
  ['SELECT honker_ack_batch(?,?)', ['[1,', 'w'], 'honker_ack_batch: ids_json must be a JSON array of integers (got malformed JSON)'],
  ['SELECT honker_ack_batch(?,?)', ['', 'w'], 'honker_ack_batch: ids_json must be a JSON array of integers (got malformed JSON)'],
  ['SELECT honker_ack_batch(?,?)', ['{"id":1}', 'w'], 'honker_ack_batch: ids_json must be a JSON array of integers (got a JSON object)'],
  ['SELECT honker_ack_batch(?,?)', ['7', 'w'], 'honker_ack_batch: ids_json must be a JSON array of integers (got a JSON integer)'],
  ['SELECT honker_ack_batch(?,?)', ['[1,"2"]', 'w'], 'honker_ack_batch: ids_json must be a JSON array of integers (got element 1 of type text)'],
  ['SELECT honker_ack_batch(?,?)', ['[1.5]', 'w'], 'honker_ack_batch: ids_json must be a JSON array of integers (got element 0 of type real)'],
  ['SELECT honker_ack_batch(?,?)', ['[1,[2]]', 'w'], 'honker_ack_batch: ids_json must be a JSON array of integers (got element 1 of type array)'],
  ['SELECT honker_ack_batch(?,?)', ['[null]', 'w'], 'honker_ack_batch: ids_json must be a JSON array of integers (got element 0 of type null)'],
  ['SELECT honker_ack_batch(?,?)', ['[1]', ''], "honker_ack_batch: worker_id must be non-empty TEXT (got TEXT '')"],
  // honker_retry(id, worker_id, delay_s, error)
  ['SELECT honker_retry(?,?,?,?)', [1n, 'w', -1n, 'e'], 'honker_retry: delay_s must be >= 0 (got -1)'],
  ['SELECT honker_retry(?,?,?,?)', [1n, 'w', MAX, 'e'], 'honker_retry: delay_s must end by 9999-12-31T23:59:59Z (got 9223372036854775807)'],
  ['SELECT honker_retry(?,?,?,?)', [1n, 'w', MAX_UNIX, 'e'], 'honker_retry: delay_s must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  ['SELECT honker_retry(?,?,?,?)', [1n, 'w', 0n, null], 'honker_retry: error must be TEXT (got NULL)'],
  ['SELECT honker_retry(?,?,?,?)', [1n, 'w', null, 'e'], 'honker_retry: delay_s must be an integer (got NULL)'],
  // honker_fail(id, worker_id, error)
  ['SELECT honker_fail(?,?,?)', [1n, 'w', 5n], 'honker_fail: error must be TEXT (got INTEGER 5)'],
  ['SELECT honker_fail(?,?,?)', ['1', 'w', 'e'], "honker_fail: id must be an integer (got TEXT '1')"],
  // honker_dead_get(id) (ours)
  ['SELECT honker_dead_get(?)', [null], 'honker_dead_get: id must be an integer (got NULL)'],
  ['SELECT honker_dead_get(?)', ['7'], "honker_dead_get: id must be an integer (got TEXT '7')"],
  // honker_release(id, worker_id) (ours)
  ['SELECT honker_release(?,?)', [null, 'w'], 'honker_release: id must be an integer (got NULL)'],
  ['SELECT honker_release(?,?)', [1.5, 'w'], 'honker_release: id must be an integer (got REAL 1.5)'],
  ['SELECT honker_release(?,?)', [1n, ''], "honker_release: worker_id must be non-empty TEXT (got TEXT '')"],
  // honker_heartbeat(id, worker_id, extend_s)
  ['SELECT honker_heartbeat(?,?,?)', [1n, 'w', 0n], 'honker_heartbeat: extend_s must be >= 1 (got 0)'],
  ['SELECT honker_heartbeat(?,?,?)', [1n, 'w', MAX], 'honker_heartbeat: extend_s must end by 9999-12-31T23:59:59Z (got 9223372036854775807)'],
  ['SELECT honker_heartbeat(?,?,?)', [1n, 'w', MAX_UNIX], 'honker_heartbeat: extend_s must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  ['SELECT honker_heartbeat(?,?,?)', [1n, 'w', 2.5], 'honker_heartbeat: extend_s must be an integer (got REAL 2.5)'],
  // one-argument functions
  ['SELECT honker_cancel(?)', [null], 'honker_cancel: id must be an integer (got NULL)'],
  ['SELECT honker_get_job(?)', [3.5], 'honker_get_job: id must be an integer (got REAL 3.5)'],
  ['SELECT honker_sweep_expired(?)', [null], 'honker_sweep_expired: queue must be non-empty TEXT (got NULL)'],
  ['SELECT honker_queue_next_claim_at(?)', [''], "honker_queue_next_claim_at: queue must be non-empty TEXT (got TEXT '')"],
  ['SELECT honker_queue_stats(?)', [7n], 'honker_queue_stats: queue must be non-empty TEXT (got INTEGER 7)'],
  ['SELECT honker_dead_requeue(?)', ['x'], "honker_dead_requeue: id must be an integer (got TEXT 'x')"],
  // honker_dead_purge(queue, older_than_s)
  ['SELECT honker_dead_purge(?,?)', ['q', -1n], 'honker_dead_purge: older_than_s must be >= 0 (got -1)'],
  ['SELECT honker_dead_purge(?,?)', ['q', null], 'honker_dead_purge: older_than_s must be an integer (got NULL)'],
  ['SELECT honker_dead_purge(?,?)', [null, 1n], 'honker_dead_purge: queue must be non-empty TEXT (got NULL)'],
  // honker_dead_list(queue, limit)
  ['SELECT honker_dead_list(?,?)', ['q', -1n], 'honker_dead_list: limit must be >= 0 (got -1)'],
  ['SELECT honker_dead_list(?,?)', ['q', null], 'honker_dead_list: limit must be an integer (got NULL)'],
  ['SELECT honker_dead_list(?,?)', ['', 1n], "honker_dead_list: queue must be non-empty TEXT (got TEXT '')"],
];

for (const [sql, params, message] of cases) {
  const fn = /honker_\w+/.exec(sql)![0];
  test(`queue.errors ${fn}(${params.map((p) => (typeof p === 'bigint' ? `${p}n` : JSON.stringify(p) ?? 'blob')).join(', ')})`, (t) => {
    const { db } = freshDb(t);
    t.is(sqlError(t, db, sql, ...params), message);
  });
}

test('queue.errors: a failed call writes nothing', (t) => {
  const { db } = freshDb(t);
  sqlError(t, db, 'SELECT honker_enqueue(?,?,?,?,?,?,?)', 'q', 'p', null, MAX, 0n, 3n, null);
  sqlError(t, db, 'SELECT honker_enqueue_unique(?,?,?,?,?,?,?,?)', 'q', 'k', 'p', null, null, 0n, 3n, MAX);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_live'), 0);
});

test('queue.errors: integral REAL is accepted for every integer argument (honker rejects Real)', (t) => {
  const { db } = freshDb(t);
  // better-sqlite3 binds JS numbers as REAL: 3 is REAL 3.0 here.
  const id = scalar<number>(db, 'SELECT honker_enqueue(?,?,?,?,?,?,?)', 'q', 'p', 100.0, 0.0, 2.0, 3.0, 60.0);
  t.is(id, 1);
  const uid = scalar<number>(db, 'SELECT honker_enqueue_unique(?,?,?,?,?,?,?,?)', 'q', 'k', 'p', 100.0, null, 1.0, 3.0, null);
  t.is(uid, 2);
  const jobs = JSON.parse(scalar<string>(db, 'SELECT honker_claim_batch(?,?,?,?)', 'q', 'w', 3.0, 30.0));
  t.deepEqual(jobs.map((j: { id: number }) => j.id), [1, 2]);
  t.is(scalar(db, 'SELECT honker_heartbeat(?,?,?)', 1.0, 'w', 60.0), 1);
  t.is(scalar(db, 'SELECT honker_retry(?,?,?,?)', 1.0, 'w', 0.0, 'e'), 1);
  t.is(scalar(db, 'SELECT honker_ack(?,?)', 2.0, 'w'), 1);
  t.not(scalar(db, 'SELECT honker_get_job(?)', 1.0), '');
  t.is(scalar(db, 'SELECT honker_cancel(?)', 1.0), 1);
  t.is(scalar(db, 'SELECT honker_dead_purge(?,?)', 'q', 10.0), 0);
  t.is(scalar(db, 'SELECT honker_dead_requeue(?)', 1.0), 0);
  t.is(scalar(db, 'SELECT honker_fail(?,?,?)', 1.0, 'w', 'e'), 0);
  t.is(scalar(db, 'SELECT honker_dead_list(?,?)', 'q', 5.0), '[]');
});
