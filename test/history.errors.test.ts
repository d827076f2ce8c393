/**
 * history and the dashboard's views: the exact errors of honker_history
 * (ext/history.c), honker_job_errors and honker_job_list's offset
 * (ext/queue_inspect.c), honker_notify_recent (ext/notify.c); their values
 * are in test/sql/history.sql, inspect.sql and stream_inspect.sql.
 */
import test from './helpers/test.js';
import { freshDb, scalar, sqlError } from './helpers/db.js';

/** [sql, params, exact message] */
const cases: Array<[string, unknown[], string]> = [
  ['SELECT honker_history(?,?)', [1n, 0n], 'honker_history: queue must be non-empty TEXT or NULL (got INTEGER 1)'],
  ['SELECT honker_history(?,?)', ['', 0n], "honker_history: queue must be non-empty TEXT or NULL (got TEXT '')"],
  ['SELECT honker_history(?,?)', [Buffer.from('q'), 0n], 'honker_history: queue must be non-empty TEXT or NULL (got BLOB of 1 bytes)'],
  ['SELECT honker_history(?,?)', [null, null], 'honker_history: since must be an integer (got NULL)'],
  ['SELECT honker_history(?,?)', [null, 1.5], 'honker_history: since must be an integer (got REAL 1.5)'],
  ['SELECT honker_history(?,?)', [null, -1n], 'honker_history: since must be >= 0 (got -1)'],
  [
    'SELECT honker_history(?,?)',
    [null, 1764967000000n],
    'honker_history: since must be unix seconds up to 253402300799, i.e. 9999-12-31T23:59:59Z (got 1764967000000, which looks like milliseconds: divide by 1000)',
  ],
  ['SELECT honker_job_errors(?)', ['1'], "honker_job_errors: id must be an integer (got TEXT '1')"],
  ['SELECT honker_job_errors(?)', [null], 'honker_job_errors: id must be an integer (got NULL)'],
  ['SELECT honker_job_list(?,?,?,?)', ['q', null, 1n, -1n], 'honker_job_list: offset must be >= 0 (got -1)'],
  ['SELECT honker_job_list(?,?,?,?)', ['q', null, 1n, null], 'honker_job_list: offset must be an integer (got NULL)'],
  ['SELECT honker_notify_recent(?,?)', ['', 1n], "honker_notify_recent: channel must be non-empty TEXT (got TEXT '')"],
  ['SELECT honker_notify_recent(?,?)', ['c', -1n], 'honker_notify_recent: limit must be >= 0 (got -1)'],
];

for (const [sql, params, message] of cases) {
  const fn = /honker_\w+/.exec(sql)![0];
  test(`history.errors ${fn}(${params.map((p) => (typeof p === 'bigint' ? `${p}n` : Buffer.isBuffer(p) ? 'blob' : JSON.stringify(p))).join(', ')})`, (t) => {
    const { db } = freshDb(t);
    t.is(sqlError(t, db, sql, ...params), message);
  });
}

test('history.errors: the views take no argument and read through a query_only connection', (t) => {
  const { db } = freshDb(t);
  for (const fn of ['honker_streams', 'honker_stream_consumers', 'honker_notify_channels']) {
    t.regex(sqlError(t, db, `SELECT ${fn}(1)`), /wrong number of arguments/);
  }
  scalar(db, "SELECT honker_enqueue('q', '1', NULL, NULL, 0, 3, NULL)");
  scalar(db, "SELECT honker_claim_batch('q', 'w', 1, 60)");
  scalar(db, "SELECT honker_ack(1, 'w')");
  db.pragma('query_only = ON');
  t.is(JSON.parse(scalar<string>(db, 'SELECT honker_history(NULL, 0)'))[0].completed, 1);
  t.is(scalar(db, 'SELECT honker_streams()'), '[]');
});

test('history.errors: a settle on a database whose _honker_history was dropped names the missing table', (t) => {
  const { db } = freshDb(t);
  scalar(db, "SELECT honker_enqueue('q', '1', NULL, NULL, 0, 3, NULL)");
  scalar(db, "SELECT honker_claim_batch('q', 'w', 1, 60)");
  db.exec('DROP TABLE _honker_history');
  t.is(sqlError(t, db, "SELECT honker_ack(1, 'w')"), 'honker_ack: no such table: _honker_history');
  t.is(scalar(db, "SELECT count(*) FROM _honker_live WHERE state = 'processing'"), 1, 'nothing was acked');
});
