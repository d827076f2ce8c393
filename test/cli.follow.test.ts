/**
 * cli: `honker listen` and `honker tail` across processes. The CLI runs as a
 * child; once it says it is ready (stderr), this process notifies / publishes,
 * reads the child's stdout, then SIGINT ends it with exit 0.
 */
import test from './helpers/test.js';
import { open } from '../src/index.js';
import { cliChild, setupDb } from './helpers/cli.js';
import { tempDbPath } from './helpers/db.js';

test('cli listen: prints each notification committed after it started, then SIGINT exits 0', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'empty');
  const db = open(file);
  t.teardown(() => db.close());
  db.notify('orders', { id: 0 }); // before the listener: not printed
  const child = cliChild(t, ['listen', file, 'orders']);
  await child.waitForStderr("listening on 'orders'");
  db.notify('orders', { id: 1 });
  db.notify('other', { id: 99 });
  db.transaction(() => {
    db.notify('orders', 'two');
    db.notify('orders', [3]);
  });
  const lines = await child.first(3);
  t.deepEqual(lines.map((l) => l.split('  ')[2]), ['{"id":1}', '"two"', '[3]']);
  t.deepEqual(lines.map((l) => Number(l.split('  ')[0])), [2, 4, 5]);
  t.regex(lines[0]!.split('  ')[1]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  t.is(await child.kill('SIGINT'), 0);
  t.is(child.lines.length, 3);
});

test('cli listen --json: one JSON object per line', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'empty');
  const db = open(file);
  t.teardown(() => db.close());
  const child = cliChild(t, ['listen', file, 'orders', '--json']);
  await child.waitForStderr('listening on');
  const id = db.notify('orders', { total: 12.5 });
  const [line] = await child.first(1);
  const n = JSON.parse(line!);
  t.like(n, { id, channel: 'orders', payload: { total: 12.5 } });
  t.is(typeof n.created_at, 'number');
  t.is(await child.kill('SIGINT'), 0);
});

test('cli tail: new events only by default; SIGTERM exits 0 too', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'empty');
  const db = open(file);
  t.teardown(() => db.close());
  const events = db.stream('events');
  events.publish({ n: 1 });
  const child = cliChild(t, ['tail', file, 'events']);
  await child.waitForStderr("tailing 'events' after offset 1");
  events.publish({ n: 2 }, { key: 'k2' });
  const [line] = await child.first(1);
  t.deepEqual([line!.split('  ')[0], line!.split('  ')[2], line!.split('  ')[3]], ['2', 'k2', '{"n":2}']);
  child.signal('SIGTERM');
  t.is(await child.exited, 0);
});

test('cli tail --consumer: saves each printed offset, resumes after it; --from replays', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'empty');
  const db = open(file);
  t.teardown(() => db.close());
  const events = db.stream('events');
  events.publish('a');
  events.publish('b');
  const first = cliChild(t, ['tail', file, 'events', '--consumer', 'billing', '--json']);
  await first.waitForStderr("as consumer 'billing'");
  t.deepEqual((await first.first(2)).map((l) => JSON.parse(l).payload), ['a', 'b']);
  events.publish('c');
  t.like(JSON.parse((await first.first(3))[2]!), { offset: 3, topic: 'events', key: null, payload: 'c' });
  t.is(await first.kill('SIGINT'), 0);
  t.is(events.offset('billing'), 3);

  events.publish('d');
  const second = cliChild(t, ['tail', file, 'events', '--consumer', 'billing', '--json']);
  await second.waitForStderr('after offset 3');
  t.deepEqual((await second.first(1)).map((l) => JSON.parse(l).payload), ['d']);
  t.is(await second.kill('SIGINT'), 0);
  t.is(events.offset('billing'), 4);

  const replay = cliChild(t, ['tail', file, 'events', '--from', '1', '--json']);
  t.deepEqual((await replay.first(3)).map((l) => JSON.parse(l).offset), [2, 3, 4]);
  t.is(await replay.kill('SIGINT'), 0);
  t.is(events.offset('billing'), 4); // no consumer: nothing saved
});

test('cli tail --from past the last event: says so once on stderr, then waits for events after it', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'empty');
  const db = open(file);
  t.teardown(() => db.close());
  const events = db.stream('events');
  db.transaction(() => {
    for (let i = 1; i <= 37; i++) events.publish(i);
  });
  const end = cliChild(t, ['tail', file, 'events']);
  await end.waitForStderr('(Ctrl-C to stop)\n');
  t.is(await end.kill('SIGINT'), 0);
  t.is(end.stderr, "tailing 'events' after offset 37 (Ctrl-C to stop)\n");

  const past = cliChild(t, ['tail', file, 'events', '--from', '99999']);
  await past.waitForStderr('waiting for events after 99999\n');
  events.publish('not after 99999');
  t.is(await past.kill('SIGINT'), 0);
  t.is(
    past.stderr,
    "tailing 'events' after offset 99999 (Ctrl-C to stop)\n" +
      "offset 99999 is past the end (the last event of 'events' is 37); waiting for events after 99999\n",
  );
  t.deepEqual(past.lines, []);

  const empty = cliChild(t, ['tail', file, 'other', '--from', '5']);
  await empty.waitForStderr('waiting for events after 5\n');
  t.is(await empty.kill('SIGINT'), 0);
  t.is(empty.stderr, "tailing 'other' after offset 5 (Ctrl-C to stop)\noffset 5 is past the end ('other' has no event yet); waiting for events after 5\n");
});
