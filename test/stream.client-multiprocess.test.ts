/**
 * Streams across processes: a named consumer in a child process
 * (test/fixtures/client-stream-consumer.ts) SIGKILLed while it holds an
 * event replays exactly that event after a restart, never one it finished,
 * never skipping one; live publish here -> subscriber in a child, and the
 * reverse (test/fixtures/client-stream-publisher.ts), with latencies logged.
 */
import test, { type ExecutionContext } from './helpers/test.js';
import { tempDbPath } from './helpers/db.js';
import { nowMs, openClient } from './helpers/client.js';
import { fixtureChild } from './helpers/child.js';
import { summary } from './helpers/stream-client.js';

type Line = {
  ready?: boolean;
  saved?: number;
  offset?: number;
  n?: number;
  at?: number;
  processing?: number;
  done?: boolean;
};

/** Run the consumer until it prints {"processing"} for payload hangAt, then SIGKILL it; its event lines. */
async function runUntilKilled(t: ExecutionContext, file: string, hangAt: number): Promise<Line[]> {
  const child = fixtureChild(t, 'client-stream-consumer', [file, 'orders', 'billing', String(hangAt), '-1']);
  const lines = await child.readUntil<Line>((l) => l.processing !== undefined);
  await child.kill('SIGKILL');
  t.is(child.signalCode, 'SIGKILL');
  return lines.filter((l) => l.offset !== undefined);
}

test('a consumer SIGKILLed while processing an event replays exactly that event, then the rest; never a finished one', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const s = db.stream<{ n: number }>('orders');
  const offsets: number[] = [];
  for (let n = 0; n < 20; n++) {
    offsets.push(s.publish({ n }, { key: `k${n}` }));
    db.stream('noise').publish({ n: -1 });
  }
  const delivered: number[][] = [];

  // Run 1: finishes 0..4, killed while holding 5.
  delivered.push((await runUntilKilled(t, file, 5)).map((l) => l.n ?? NaN));
  t.is(s.offset('billing'), offsets[4], 'events 0..4 finished and saved, 5 held');
  // Run 2: killed again while holding the replayed 5 (nothing finished).
  delivered.push((await runUntilKilled(t, file, 5)).map((l) => l.n ?? NaN));
  t.is(s.offset('billing'), offsets[4]);
  // Run 3: finishes 5..11, killed while holding 12.
  delivered.push((await runUntilKilled(t, file, 12)).map((l) => l.n ?? NaN));
  t.is(s.offset('billing'), offsets[11]);
  // Run 4: to the end, including events published while it runs.
  const last = fixtureChild(t, 'client-stream-consumer', [file, 'orders', 'billing', '-1', '-1']);
  t.deepEqual(await last.next<Line>(), { ready: true, saved: offsets[11] });
  const got = await last.readUntil<Line>((l) => l.n === 19);
  for (let n = 20; n < 25; n++) offsets.push(s.publish({ n }));
  got.push(...(await last.readUntil<Line>((l) => l.n === 24)));
  delivered.push(got.map((l) => l.n ?? NaN));
  // It printed 24 and came back for more (now waiting): that finished 24.
  const deadline = Date.now() + 10_000;
  while (s.offset('billing') !== offsets[24] && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.is(s.offset('billing'), offsets[24], 'asking for the next event finished 24');
  await last.kill('SIGKILL');

  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  t.deepEqual(delivered, [range(0, 5), [5], range(5, 12), range(12, 24)]);
  t.deepEqual(got.map((l) => l.offset), offsets.slice(12));
});

test('a consumer SIGKILLed at a random moment resumes at the first unsaved event: nothing skipped, at most the held one replayed', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const s = db.stream<{ n: number }>('orders');
  const offsets = db.transaction(() => Array.from({ length: 1000 }, (_, n) => s.publish({ n })));
  for (const killAfterMs of [150, 400, 700]) {
    const saved = s.offset('billing');
    const child = fixtureChild(t, 'client-stream-consumer', [file, 'orders', 'billing', '-1', '-1', '2']);
    const first = await child.next<Line>();
    t.is(first.saved, saved);
    await new Promise((r) => setTimeout(r, killAfterMs));
    await child.kill('SIGKILL');
    const seen: Line[] = [];
    for (;;) {
      const l = await child.next<Line>(1).catch(() => undefined);
      if (!l) break;
      seen.push(l);
    }
    const after = s.offset('billing');
    const startIndex = saved === 0 ? 0 : offsets.indexOf(saved) + 1;
    // It started right after the saved offset, in order, one by one...
    t.deepEqual(
      seen.map((l) => l.offset),
      offsets.slice(startIndex, startIndex + seen.length),
    );
    // ...and saved everything it asked past: at most the last event it received is unsaved.
    const lastSeen = seen.length ? offsets.indexOf(seen[seen.length - 1].offset ?? -1) : startIndex - 1;
    const savedIndex = offsets.indexOf(after);
    t.true(savedIndex === lastSeen || savedIndex === lastSeen - 1, `saved index ${savedIndex}, last seen ${lastSeen}`);
    t.log(`killed after ${killAfterMs} ms: received ${seen.length}, saved offset ${saved} -> ${after}`);
  }
  // The survivor reads the rest from the saved offset (plus a few new events, so there is a rest).
  for (let n = 1000; n < 1005; n++) offsets.push(s.publish({ n }));
  const savedBefore = s.offset('billing');
  const rest = fixtureChild(t, 'client-stream-consumer', [file, 'orders', 'billing', '-1', String(offsets[1004])]);
  const lines = (await rest.finish(60_000)) as Line[];
  const events = lines.filter((l) => l.offset !== undefined).map((l) => l.offset);
  t.deepEqual(events, offsets.slice(offsets.indexOf(savedBefore) + 1));
  t.is(s.offset('billing'), offsets[1004]);
  t.deepEqual(lines[lines.length - 1], { done: true, saved: offsets[1004] });
});

test('live: publish here -> named consumer in a child process, in order, exactly once (latency logged)', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const s = db.stream<{ n: number }>('orders');
  const N = 60;
  const child = fixtureChild(t, 'client-stream-consumer', [file, 'orders', 'live', '-1', '-1']);
  t.deepEqual(await child.next<Line>(), { ready: true, saved: 0 });
  const lat: number[] = [];
  const offsets: number[] = [];
  for (let n = 0; n < N; n++) {
    offsets.push(s.publish({ n }, { key: `k${n}` }));
    const at = nowMs();
    const line = await child.next<Line>(10_000);
    t.is(line.n, n);
    t.is(line.offset, offsets[n]);
    lat.push((line.at ?? 0) - at);
    await new Promise((r) => setTimeout(r, 5));
  }
  // A burst: 200 without pause.
  for (let n = N; n < N + 200; n++) offsets.push(s.publish({ n }));
  const burst = await child.readUntil<Line>((l) => l.n === N + 199);
  t.deepEqual(
    burst.map((l) => l.offset),
    offsets.slice(N),
  );
  await child.kill();
  t.log(`publish here -> consumer in child: ${summary(lat)}`);
  t.true(Math.max(...lat) < 2000);
});

test('live: publish in a child process -> subscriber here, in order, exactly once (latency logged)', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const ac = new AbortController();
  const it = db.stream<{ n: number }>('orders').subscribe({ consumer: 'here', signal: ac.signal });
  const N = 60;
  const child = fixtureChild(t, 'client-stream-publisher', [file, 'orders', String(N), '15']);
  const got: Array<{ n: number; offset: number; key: string | null; at: number }> = [];
  for await (const ev of it) {
    got.push({ n: ev.payload.n, offset: ev.offset, key: ev.key, at: nowMs() });
    if (got.length === N) break;
  }
  const lines = ((await child.finish()) as Array<Line & { n?: number }>).filter((l) => l.n !== undefined);
  t.deepEqual(
    got.map((g) => g.n),
    Array.from({ length: N }, (_, i) => i),
  );
  t.deepEqual(
    got.map((g) => g.offset),
    lines.map((l) => l.offset),
  );
  t.deepEqual(
    got.map((g) => g.key),
    got.map((g) => `k${g.n}`),
  );
  const lat = got.map((g, i) => g.at - (lines[i].at ?? 0));
  t.log(`publish in child -> subscriber here: ${summary(lat)}`);
  t.true(Math.max(...lat) < 2000);
  ac.abort();
});
