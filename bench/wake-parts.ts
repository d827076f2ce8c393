/**
 * Scenario 12 — where the time of a wake goes: notify → listen done by hand,
 * phase by phase, next to the client doing the same.
 *   npx tsx bench/wake-parts.ts [--quick]   (HONKER_BENCH_SAMPLES overrides)
 *
 * This process writes with a raw connection that loaded the extension (so
 * its commits touch <db>-wake, as any honker writer's do): after a random
 * 2–8 ms pause, a stamp, then `SELECT notify('ping', '{"t":stamp}')`. It
 * alternates between two files, each watched by a child process:
 *   by hand  fs.watch on the directory; on the `-wake` event: PRAGMA
 *            data_version, and when it moved, honker_notify_read_since on
 *            the same connection: the least a listener through the file can
 *            do. Stamped at the event, after data_version, after the read;
 *   client   db.listen('ping') of src/ (its watcher's own read-only
 *            connection for data_version, the iterator's query on the
 *            database's connection), stamped when the iterator resumes.
 * Alternating puts both under the same machine: runs here differ by 2x from
 * one to the next, the two sides of one run do not. A sample is the child's
 * clock minus the stamp (performance.timeOrigin + now(), shared by the
 * processes to a few µs). What it showed (2026-12-06): bench/README.md,
 * scenario 4, "Where the tail goes".
 */
import { mkdirSync, watch } from 'node:fs';
import path from 'node:path';
import { open } from '../src/index.js';
import { benchChild } from './lib/child.js';
import { benchDir, clock, honkerDb, idlePause, pct } from './lib/measure.js';
import { isEntry, size, standalone, type BenchOptions } from './lib/options.js';
import { addRow, section, type Section } from './lib/report.js';

type Mode = 'hand' | 'client';

/** Phases of the by-hand listener, ms each; the client fills `total` only. */
interface Parts {
  event: number[];
  dataVersion: number[];
  read: number[];
  total: number[];
}

/* --- child: listens on file until it has `samples` notifications, then prints its Parts --- */

async function child(mode: Mode, file: string, samples: number): Promise<void> {
  const parts: Parts = { event: [], dataVersion: [], read: [], total: [] };
  const done = (): void => {
    process.stdout.write(JSON.stringify(parts) + '\n');
  };
  if (mode === 'client') {
    const db = open(file);
    const it = db.listen<{ t: number }>('ping');
    const first = it.next(); // subscribed from here
    process.stdout.write('ready\n');
    for (let next = await first; !next.done; next = await it.next()) {
      parts.total.push(clock() - next.value.payload.t);
      if (parts.total.length === samples) break;
    }
    await it.return?.(undefined);
    db.close();
    return done();
  }
  const db = honkerDb(file);
  const version = db.prepare('PRAGMA data_version').pluck();
  const read = db.prepare("SELECT honker_notify_read_since('ping', ?, 100)").pluck();
  const wakeName = `${path.basename(file)}-wake`;
  let seen = version.get() as number;
  let after = db.prepare('SELECT honker_notify_last_id()').pluck().get() as number;
  await new Promise<void>((resolve) => {
    const w = watch(path.dirname(file), (_event, name) => {
      if (String(name) !== wakeName) return;
      const atEvent = clock();
      const v = version.get() as number;
      const atVersion = clock();
      if (v === seen) return; // our own connection's commits never move it; none here
      seen = v;
      const rows = JSON.parse(read.get(after) as string) as { id: number; payload: string }[];
      const atRead = clock();
      for (const row of rows) {
        after = row.id;
        const { t } = JSON.parse(row.payload) as { t: number };
        parts.event.push(atEvent - t);
        parts.dataVersion.push(atVersion - atEvent);
        parts.read.push(atRead - atVersion);
        parts.total.push(atRead - t);
      }
      if (parts.total.length >= samples) {
        w.close();
        resolve();
      }
    });
    process.stdout.write('ready\n');
  });
  db.close();
  done();
}

/* --- parent: the writer --- */

export async function wakePartsBench(o: BenchOptions): Promise<Section> {
  const samples = Number(process.env.HONKER_BENCH_SAMPLES ?? size(o, 150, 500));
  const s = section('wake-parts', `12. Where a wake's time goes: notify → listen by hand, phase by phase, and the client (${samples} samples each)`);
  const dir = benchDir();
  const sides = (['hand', 'client'] as const).map((mode) => {
    mkdirSync(path.join(dir, mode));
    const file = path.join(dir, mode, 'parts.db');
    const db = honkerDb(file);
    return { mode, db, notify: db.prepare("SELECT notify('ping', ?)").pluck(), commit: [] as number[], child: benchChild('wake-parts.ts', ['--child', mode, file, String(samples)]) };
  });
  for (const side of sides) await side.child.next(); // ready
  for (let i = 0; i < samples; i++) {
    for (const side of sides) {
      await idlePause();
      const t = clock();
      side.notify.get(JSON.stringify({ t }));
      side.commit.push(clock() - t);
    }
  }
  const parts: Record<Mode, Parts> = { hand: await sides[0]!.child.nextJson<Parts>(), client: await sides[1]!.child.nextJson<Parts>() };
  for (const side of sides) {
    await side.child.finish();
    side.db.close();
  }
  const rows: [string, number[]][] = [
    ["writer: SELECT notify's commit, after its pause", [...sides[0]!.commit, ...sides[1]!.commit]],
    ['by hand: stamp → the -wake event', parts.hand.event],
    ['by hand: PRAGMA data_version', parts.hand.dataVersion],
    ['by hand: honker_notify_read_since', parts.hand.read],
    ['by hand: stamp → rows read (total)', parts.hand.total],
  ];
  for (const [name, xs] of rows) for (const p of [50, 99] as const) addRow(s, { name: `${name} p${p}`, value: pct(xs, p), unit: 'ms' });
  const hand = parts.hand.total;
  const client = parts.client.total;
  for (const p of [50, 99] as const) {
    addRow(s, {
      name: `client: stamp → db.listen resumed p${p}`,
      value: pct(client, p),
      unit: 'ms',
      ratio: pct(client, p) / pct(hand, p),
      baseline: `by hand p${p} (${pct(hand, p).toFixed(2)} ms); ratio = client / by hand`,
    });
  }
  s.notes.push('the writer alternates between the two files, a random 2–8 ms pause before each commit; by hand reads on one connection, the client on two (its watcher\'s and the database\'s)');
  return s;
}

if (isEntry(import.meta.url) && process.argv[2] === '--child') await child(process.argv[3] as Mode, process.argv[4]!, Number(process.argv[5]));
await standalone(import.meta.url, wakePartsBench);
