/**
 * cli: the exact errors of the SQL functions behind `honker stats` and
 * `honker jobs` (ext/queue_inspect.c); their values are in test/sql/inspect.sql.
 */
import test from './helpers/test.js';
import { freshDb, scalar, sqlError } from './helpers/db.js';

/** [sql, params, exact message] */
const cases: Array<[string, unknown[], string]> = [
  ['SELECT honker_job_list(?,?,?)', [null, null, 1n], 'honker_job_list: queue must be non-empty TEXT (got NULL)'],
  ['SELECT honker_job_list(?,?,?)', ['', null, 1n], "honker_job_list: queue must be non-empty TEXT (got TEXT '')"],
  ['SELECT honker_job_list(?,?,?)', [Buffer.from('q'), null, 1n], 'honker_job_list: queue must be non-empty TEXT (got BLOB of 1 bytes)'],
  ['SELECT honker_job_list(?,?,?)', ['q', 7n, 1n], 'honker_job_list: state must be TEXT or NULL (got INTEGER 7)'],
  ['SELECT honker_job_list(?,?,?)', ['q', 'nope', 1n], "honker_job_list: state must be one of pending, scheduled, processing, dead or NULL (got TEXT 'nope')"],
  ['SELECT honker_job_list(?,?,?)', ['q', 'PENDING', 1n], "honker_job_list: state must be one of pending, scheduled, processing, dead or NULL (got TEXT 'PENDING')"],
  ['SELECT honker_job_list(?,?,?)', ['q', 'pending\0x', 1n], "honker_job_list: state must be one of pending, scheduled, processing, dead or NULL (got TEXT 'pending')"],
  ['SELECT honker_job_list(?,?,?)', ['q', '', 1n], "honker_job_list: state must be one of pending, scheduled, processing, dead or NULL (got TEXT '')"],
  ['SELECT honker_job_list(?,?,?)', ['q', 'x'.repeat(100), 1n], `honker_job_list: state must be one of pending, scheduled, processing, dead or NULL (got TEXT '${'x'.repeat(40)}...')`],
  ['SELECT honker_job_list(?,?,?)', ['q', null, -1n], 'honker_job_list: limit must be >= 0 (got -1)'],
  ['SELECT honker_job_list(?,?,?)', ['q', null, null], 'honker_job_list: limit must be an integer (got NULL)'],
  ['SELECT honker_job_list(?,?,?)', ['q', 'dead', 2.5], 'honker_job_list: limit must be an integer (got REAL 2.5)'],
];

for (const [sql, params, message] of cases) {
  test(`cli.inspect-errors honker_job_list(${params.map((p) => (typeof p === 'bigint' ? `${p}n` : Buffer.isBuffer(p) ? 'blob' : JSON.stringify(p).slice(0, 20))).join(', ')})`, (t) => {
    const { db } = freshDb(t);
    t.is(sqlError(t, db, sql, ...params), message);
  });
}

test('cli.inspect-errors: honker_queues_stats takes no argument and works on a read-only connection', (t) => {
  const { db } = freshDb(t);
  t.is(scalar(db, 'SELECT honker_queues_stats()'), '[]');
  t.regex(sqlError(t, db, 'SELECT honker_queues_stats(1)'), /wrong number of arguments/);
  scalar(db, "SELECT honker_enqueue('q', '1', NULL, NULL, 0, 3, NULL)");
  db.pragma('query_only = ON');
  t.is(JSON.parse(scalar<string>(db, 'SELECT honker_queues_stats()'))[0].pending, 1);
  t.is(JSON.parse(scalar<string>(db, "SELECT honker_job_list('q', NULL, 5)")).length, 1);
});
