/**
 * Scenario 6 — streams.
 *   npx tsx bench/stream.ts [--quick]
 *
 * publish 1/tx and 100/tx (stream.publish) against raw single-row and
 * 100-row INSERTs of the same JSON into a plain table; replay of 100,000
 * events (20,000 with --quick) through subscribe() from offset 0 against a
 * raw `SELECT … ORDER BY id` iteration parsing the same JSON; live publish in
 * this process → subscriber in another process, one-way p50/p99 next to a
 * Unix-socket ping between two processes measured in the same run.
 */
import path from 'node:path';
import { open } from '../src/index.js';
import { benchChild } from './lib/child.js';
import { benchDir, checkpointOf, clock, interleaved, rawInserts, median, medianRatio, payload, pct, rate, rawDb, sleep } from './lib/measure.js';
import { isEntry, size, standalone, type BenchOptions } from './lib/options.js';
import { addRow, fmtNum, section, type Section } from './lib/report.js';
import { runSocket } from './wake-latency.js';

/** Child: subscribe to topic "live", stamp each event's delay, print them on {done}. */
async function child(file: string): Promise<void> {
  const db = open(file);
  const delays: number[] = [];
  const it = db.stream<{ t: number; done?: boolean }>('live').subscribe({ fromOffset: 0 });
  const first = it.next();
  process.stdout.write('ready\n');
  for (let next = await first; !next.done; next = await it.next()) {
    const now = clock();
    if (next.value.payload.done) break;
    delays.push(now - next.value.payload.t);
  }
  process.stdout.write(JSON.stringify(delays) + '\n');
  db.close();
}

async function liveLatency(file: string, samples: number): Promise<number[]> {
  const db = open(file);
  const live = db.stream<{ t: number; done?: boolean }>('live');
  const c = benchChild('stream.ts', ['--child', file]);
  await c.next(); // ready
  for (let i = 0; i < samples; i++) {
    await sleep(2 + Math.random() * 6);
    live.publish({ t: clock() });
  }
  live.publish({ t: 0, done: true });
  const delays = await c.nextJson<number[]>();
  await c.finish();
  db.close();
  return delays;
}

export async function streamBench(o: BenchOptions): Promise<Section> {
  const s = section('stream', '6. Streams');
  const dir = benchDir();
  const ms = size(o, 300, 1200);
  const rounds = size(o, 3, 5);

  const raw = rawDb(path.join(dir, 'raw.db'));
  const rawEvents = rawInserts(raw, 'events', 'orders');
  const db = open(path.join(dir, 'honker.db'));
  const orders = db.stream('orders');
  const pub100 = (base: number) =>
    db.transaction(() => {
      for (let k = 0; k < 100; k++) orders.publish(payload(base + k));
    });
  let i = 0;
  const r = await interleaved(rounds, {
    raw1: () => rate(() => rawEvents.one(i++), ms, 1, checkpointOf(raw)),
    pub1: () => rate(() => void orders.publish(payload(i++)), ms, 1, checkpointOf(db.raw)),
    raw100: () => rate(() => rawEvents.many((i += 100), 100), ms, 100, checkpointOf(raw)),
    pub100: () => rate(() => pub100((i += 100)), ms, 100, checkpointOf(db.raw)),
  });
  addRow(s, { name: 'stream.publish, 1/tx', value: median(r.pub1), unit: 'events/s', ratio: medianRatio(r.pub1, r.raw1), baseline: `raw INSERT 1/tx (${fmtNum(median(r.raw1))}/s)` });
  addRow(s, { name: 'stream.publish, 100/tx', value: median(r.pub100), unit: 'events/s', ratio: medianRatio(r.pub100, r.raw100), baseline: `raw INSERT 100/tx (${fmtNum(median(r.raw100))}/s)` });

  // Replay: the same number of events in both stores, read back from the start.
  const n = size(o, 20_000, 100_000);
  const replayDb = open(path.join(dir, 'replay.db'));
  const replay = replayDb.stream('replay');
  const rawReplay = rawDb(path.join(dir, 'replay-raw.db'));
  const rawReplayEvents = rawInserts(rawReplay, 'events', 'replay');
  replayDb.transaction(() => {
    for (let k = 0; k < n; k++) replay.publish(payload(k));
  });
  rawReplayEvents.many(0, n);
  const scan = rawReplay.prepare("SELECT id, payload FROM events WHERE name = 'replay' ORDER BY id");
  const rr = await interleaved(rounds, {
    honker: async () => {
      const stop = new AbortController();
      const t0 = performance.now();
      let seen = 0;
      for await (const ev of replay.subscribe({ fromOffset: 0, signal: stop.signal })) {
        if (ev.payload === undefined) throw new Error('no payload');
        if (++seen === n) stop.abort();
      }
      return (n * 1000) / (performance.now() - t0);
    },
    raw: async () => {
      const t0 = performance.now();
      let seen = 0;
      for (const row of scan.iterate() as Iterable<{ id: number; payload: string }>) {
        JSON.parse(row.payload);
        seen++;
      }
      if (seen !== n) throw new Error('raw replay count');
      return (n * 1000) / (performance.now() - t0);
    },
  });
  addRow(s, { name: `replay ${n.toLocaleString('en-US')} events via subscribe()`, value: median(rr.honker), unit: 'events/s', ratio: medianRatio(rr.honker, rr.raw), baseline: `raw SELECT … ORDER BY id + JSON.parse (${fmtNum(median(rr.raw))}/s)` });

  const samples = size(o, 150, 500);
  const socket = await runSocket(dir, samples);
  const floor = [...socket.aToB, ...socket.bToA];
  const live = await liveLatency(path.join(dir, 'live.db'), samples);
  for (const p of [50, 99]) {
    addRow(s, { name: `live publish → subscriber (other process) p${p}`, value: pct(live, p), unit: 'ms', ratio: pct(live, p) / pct(floor, p), baseline: `Unix socket p${p} (${pct(floor, p).toFixed(2)} ms)` });
  }
  s.notes.push(`${rounds} interleaved rounds; live latency over ${samples} events with a 2–8 ms pause before each`);
  for (const c of [db, replayDb]) c.close();
  for (const c of [raw, rawReplay]) c.close();
  return s;
}

if (isEntry(import.meta.url) && process.argv[2] === '--child') await child(process.argv[3]);
await standalone(import.meta.url, streamBench);
