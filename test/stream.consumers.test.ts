/**
 * Streams across connections: global monotonic offsets, paging through
 * read_since, consumer offsets that never move back and are independent per
 * (consumer, topic).
 */
import test from './helpers/test.js';
import { freshDb, openDb, scalar } from './helpers/db.js';

const PUBLISH = 'SELECT honker_stream_publish(?, ?, ?)';
const READ = 'SELECT honker_stream_read_since(?, ?, ?)';
const SAVE = 'SELECT honker_stream_save_offset(?, ?, ?)';
const GET = 'SELECT honker_stream_get_offset(?, ?)';

type Event = { offset: number; topic: string; key: string | null; payload: string; created_at: number };

test('honker_stream_publish: offsets increase across topics and connections', (t) => {
  const { db, file } = freshDb(t);
  const other = openDb(file, { bootstrap: false });
  t.teardown(() => other.close());
  const offsets: number[] = [];
  for (let i = 0; i < 20; i++) {
    const conn = i % 3 === 0 ? other : db;
    offsets.push(scalar<number>(conn, PUBLISH, `topic${i % 4}`, null, `e${i}`));
  }
  t.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
  t.is(new Set(offsets).size, offsets.length);
  // a rolled-back publish is never seen, and the next offset is still larger
  db.exec('BEGIN');
  scalar(db, PUBLISH, 'topic0', null, 'lost');
  db.exec('ROLLBACK');
  const next = scalar<number>(other, PUBLISH, 'topic0', null, 'after');
  t.true(next > offsets[offsets.length - 1]);
  const payloads = JSON.parse(scalar<string>(db, READ, 'topic0', 0, 100)).map((e: Event) => e.payload);
  t.deepEqual(payloads, ['e0', 'e4', 'e8', 'e12', 'e16', 'after']);
});

test('honker_stream_read_since: paging with a limit returns every event once, in order', (t) => {
  const { db } = freshDb(t);
  const published: string[] = [];
  for (let i = 0; i < 25; i++) {
    scalar(db, PUBLISH, 'noise', null, `n${i}`);
    const payload = JSON.stringify({ i });
    scalar(db, PUBLISH, 'p', `k${i % 3}`, payload);
    published.push(payload);
  }
  const seen: Event[] = [];
  let offset = 0;
  let pages = 0;
  for (;;) {
    const page = JSON.parse(scalar<string>(db, READ, 'p', offset, 4)) as Event[];
    t.true(page.length <= 4);
    if (page.length === 0) break;
    pages++;
    seen.push(...page);
    offset = page[page.length - 1].offset;
  }
  t.is(pages, 7);
  t.deepEqual(
    seen.map((e) => e.payload),
    published,
  );
  t.true(seen.every((e) => e.topic === 'p' && typeof e.created_at === 'number'));
  t.deepEqual(
    seen.slice(0, 4).map((e) => e.key),
    ['k0', 'k1', 'k2', 'k0'],
  );
  for (let i = 1; i < seen.length; i++) t.true(seen[i].offset > seen[i - 1].offset);
});

test('honker_stream_save_offset: never moves back, also across connections and rollbacks', (t) => {
  const { db, file } = freshDb(t);
  const other = openDb(file, { bootstrap: false });
  t.teardown(() => other.close());
  t.is(scalar(db, SAVE, 'billing', 'orders', 10), 1);
  t.is(scalar(other, SAVE, 'billing', 'orders', 7), 0);
  t.is(scalar(other, GET, 'billing', 'orders'), 10);
  other.exec('BEGIN');
  t.is(scalar(other, SAVE, 'billing', 'orders', 20), 1);
  other.exec('ROLLBACK');
  t.is(scalar(db, GET, 'billing', 'orders'), 10);
  t.is(scalar(other, SAVE, 'billing', 'orders', 11), 1);
  t.is(scalar(db, GET, 'billing', 'orders'), 11);
});

test('honker_stream_save_offset: consumers are independent per (consumer, topic)', (t) => {
  const { db } = freshDb(t);
  t.is(scalar(db, SAVE, 'a', 'x', 5), 1);
  t.is(scalar(db, SAVE, 'a', 'y', 3), 1);
  t.is(scalar(db, SAVE, 'b', 'x', 1), 1);
  t.is(scalar(db, SAVE, 'x', 'a', 9), 1); // swapped order is another consumer
  t.is(scalar(db, SAVE, 'a', 'x', 4), 0);
  t.deepEqual(
    [GET, GET, GET, GET, GET].map((sql, i) => scalar(db, sql, ...[['a', 'x'], ['a', 'y'], ['b', 'x'], ['x', 'a'], ['b', 'y']][i])),
    [5, 3, 1, 9, 0],
  );
});
