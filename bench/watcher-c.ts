/**
 * Scenario 9 — the extension's watcher as every non-Node host uses it: a
 * /usr/bin/python3 process blocked in honker_update_watcher_wait (the SQL
 * functions over the C watcher, bench/lib/watcher-sql-waiter.py), commits made
 * here through better-sqlite3. Run: npx tsx bench/watcher-c.ts [--quick]
 * (HONKER_BENCH_SAMPLES, HONKER_BENCH_SECONDS override the sizes;
 * HONKER_EXT_PATH picks the library, as everywhere).
 *
 *   wake latency   this process commits one row (autocommit, WAL) while the
 *                  python process waits; a sample is the python process's
 *                  CLOCK_MONOTONIC when its wait returned minus ours just
 *                  before the commit, so it includes the commit, as in
 *                  scenario 4 (the notes give it from COMMIT's return too:
 *                  with synchronous=FULL the commit holds an fsync). A
 *                  random 2–8 ms pause before each commit. Cases,
 *                  interleaved in rounds: the 'kernel' backend, the 'poll'
 *                  backend (1 ms), and the floor: one byte on a Unix socket
 *                  to the same python process blocked in recv(), stamped
 *                  just before write(). Writers with synchronous=NORMAL
 *                  (honker's setting), then FULL (SQLite's default: an
 *                  fsync between the WAL frames and the wal-index, which the
 *                  kernel backend must wait out). Target: kernel p50 <= 0.5
 *                  ms.
 *   idle CPU       the python process's CPU over one blocked wait of N
 *                  seconds (nothing commits), as % of one core: from its own
 *                  CLOCK_PROCESS_CPUTIME_ID (ns) and from /proc/<pid>/stat
 *                  utime+stime (10 ms ticks), with its context switches per
 *                  second (/proc/<pid>/task/[*]/status, every thread: the
 *                  wakeups). Baselines in the same run: the same process
 *                  asleep with no watcher, and with a watcher open but no
 *                  wait (parked). Target: kernel <= 0.1% of a core.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extensionPath } from '../src/index.js';
import { LineChild } from '../test/helpers/child.js';
import { cpuMs } from '../test/helpers/watcher-client.js';
import { size, standalone, type BenchOptions } from './lib/options.js';
import { idlePause, pct } from './lib/measure.js';
import { addRow, section, type Section } from './lib/report.js';

const PYTHON = '/usr/bin/python3';
const WAITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'watcher-sql-waiter.py');
const monoNs = (): bigint => process.hrtime.bigint(); // CLOCK_MONOTONIC, as python's time.monotonic_ns
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Backend = 'kernel' | 'poll';
type Sync = 'NORMAL' | 'FULL';

function startWaiter(file: string): LineChild {
  const env = { ...process.env, DB: file, EXT: extensionPath().replace(/\.(so|dylib)$/, '') };
  return LineChild.text(PYTHON, [WAITER], { env, label: 'watcher-sql-waiter.py', timeoutMs: 60_000 });
}

/** Voluntary + involuntary context switches of every thread of pid so far. */
function switches(pid: number): number {
  let n = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      for (const m of status.matchAll(/_ctxt_switches:\s+(\d+)/g)) n += Number(m[1]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return n;
}

/** Wake samples in ms: from just before the commit, and from COMMIT's return. */
interface Wakes {
  fromStart: number[];
  fromReturn: number[];
  commit: number[];
}

/** `samples` wakes of one backend (one watcher opened for them, then closed). */
async function wakeSamples(py: LineChild, writer: Database.Database, backend: Backend, samples: number): Promise<Wakes> {
  const id = await py.ask(`open ${backend}`);
  const insert = writer.prepare('INSERT INTO events VALUES (1)');
  await py.ask(`wait ${id} 0`); // forget the commits of the previous case
  const out: Wakes = { fromStart: [], fromReturn: [], commit: [] };
  for (let i = 0; i < samples; i++) {
    py.send(`wait ${id} 5000`);
    await idlePause();
    const start = monoNs();
    insert.run();
    const committed = monoNs();
    const [r, woke] = (await py.next()).split(' ');
    if (r !== '1') throw new Error(`wait returned ${r}`);
    out.fromStart.push(Number(BigInt(woke) - start) / 1e6);
    out.fromReturn.push(Number(BigInt(woke) - committed) / 1e6);
    out.commit.push(Number(committed - start) / 1e6);
  }
  await py.ask(`close ${id}`);
  return out;
}

/** `samples` one-byte pings on a Unix socket to the python process blocked in recv(); ms each. */
async function floorSamples(py: LineChild, sock: net.Socket, samples: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    py.send('recv');
    await idlePause();
    const sent = monoNs();
    sock.write('x');
    out.push(Number(BigInt(await py.next()) - sent) / 1e6);
  }
  return out;
}

/** A Unix socket server the python process connects to; resolves with our end. */
async function socketTo(py: LineChild, dir: string): Promise<{ sock: net.Socket; server: net.Server }> {
  const sockPath = path.join(dir, 'floor.sock');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(sockPath, r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  await py.ask(`sock ${sockPath}`);
  const sock = await accepted;
  sock.setNoDelay(true);
  return { sock, server };
}

interface Cpu {
  pct: number; // CLOCK_PROCESS_CPUTIME_ID over the window, % of one core
  statPct: number; // /proc/<pid>/stat utime+stime over the window (10 ms ticks)
  wakeups: number; // context switches per second, every thread
}

/** The python process's CPU over one command (`cpuwait <id> <ms>` or `cpusleep <ms>`). */
async function cpuOf(py: LineChild, command: string): Promise<Cpu> {
  const stat0 = cpuMs(py.pid);
  const sw0 = switches(py.pid);
  const t0 = performance.now();
  const [, cpuNs, wallNs] = (await py.ask(command, 600_000)).split(' ').map(Number);
  const wallMs = performance.now() - t0;
  return {
    pct: (100 * cpuNs) / wallNs,
    statPct: (100 * (cpuMs(py.pid) - stat0)) / wallMs,
    wakeups: ((switches(py.pid) - sw0) * 1000) / wallMs,
  };
}

/** Sum the rounds of one CPU case: total CPU over total time. */
const cpuMean = (xs: Cpu[]): Cpu => ({
  pct: xs.reduce((a, x) => a + x.pct, 0) / xs.length,
  statPct: xs.reduce((a, x) => a + x.statPct, 0) / xs.length,
  wakeups: xs.reduce((a, x) => a + x.wakeups, 0) / xs.length,
});

export async function watcherBench(o: BenchOptions): Promise<Section> {
  const samples = Number(process.env.HONKER_BENCH_SAMPLES ?? size(o, 150, 500));
  const seconds = Number(process.env.HONKER_BENCH_SECONDS ?? size(o, 3, 10));
  const rounds = 5;
  const s = section('watcher', `9. The C watcher from python (SQL functions): wake latency, ${samples} samples per case; CPU of a blocked wait over ${seconds} s`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'watched.db');
  const writer = new Database(file);
  writer.pragma('journal_mode = WAL');
  writer.exec('CREATE TABLE events(x)');
  const py = startWaiter(file);
  const { sock, server } = await socketTo(py, dir);

  // --- wake latency: rounds interleave the cases, so machine drift hits all of them.
  const lat: Record<string, number[]> = {};
  const add = (k: string, xs: number[]) => (lat[k] = [...(lat[k] ?? []), ...xs]);
  const per = Math.ceil(samples / rounds);
  for (let round = 0; round < rounds; round++) {
    for (const sync of ['NORMAL', 'FULL'] as Sync[]) {
      writer.pragma(`synchronous = ${sync}`);
      if (sync === 'NORMAL') add('floor', await floorSamples(py, sock, per));
      for (const backend of ['kernel', 'poll'] as Backend[]) {
        const w = await wakeSamples(py, writer, backend, per);
        add(`${backend} ${sync}`, w.fromStart);
        add(`${backend} ${sync} from return`, w.fromReturn);
        add(`commit ${sync}`, w.commit);
      }
    }
  }
  const sorted = (k: string) => [...lat[k]].sort((a, b) => a - b);
  const ms = (x: number) => x.toFixed(2);
  for (const sync of ['NORMAL', 'FULL'] as Sync[]) {
    const [k, q, c] = [sorted(`kernel ${sync} from return`), sorted(`poll ${sync} from return`), sorted(`commit ${sync}`)];
    s.notes.push(
      `synchronous=${sync}: the commit itself took p50 ${ms(pct(c, 50))} ms, p99 ${ms(pct(c, 99))} ms; from COMMIT's return, kernel p50 ${ms(pct(k, 50))} / p99 ${ms(pct(k, 99))} ms, poll p50 ${ms(pct(q, 50))} / p99 ${ms(pct(q, 99))} ms`,
    );
  }
  const floor = sorted('floor');
  const f = { 50: pct(floor, 50), 99: pct(floor, 99) };
  for (const p of [50, 99] as const) addRow(s, { name: `Unix socket to python (floor) p${p}`, value: f[p], unit: 'ms' });
  for (const sync of ['NORMAL', 'FULL'] as Sync[]) {
    const k = sorted(`kernel ${sync}`);
    const q = sorted(`poll ${sync}`);
    for (const p of [50, 99] as const) {
      addRow(s, {
        name: `synchronous=${sync}: kernel p${p}`,
        value: pct(k, p),
        unit: 'ms',
        ratio: pct(k, p) / f[p],
        baseline: `socket p${p} (${f[p].toFixed(3)} ms); ratio = ours / floor`,
        target: p === 50 && sync === 'NORMAL' ? { of: 'value', op: '<=', bound: 0.5 } : undefined,
      });
      addRow(s, {
        name: `synchronous=${sync}: poll p${p}`,
        value: pct(q, p),
        unit: 'ms',
        ratio: pct(q, p) / f[p],
        baseline: `socket p${p} (${f[p].toFixed(3)} ms); ratio = ours / floor`,
      });
      addRow(s, {
        name: `synchronous=${sync}: kernel ÷ poll p${p}`,
        value: pct(k, p),
        unit: 'ms',
        ratio: pct(k, p) / pct(q, p),
        baseline: `poll p${p} (${pct(q, p).toFixed(3)} ms)`,
      });
    }
  }
  sock.destroy();
  server.close();

  // --- idle CPU of the blocked python process, cases interleaved over rounds.
  const windowMs = seconds * 1000;
  const cpu: Record<string, Cpu[]> = {};
  const push = (k: string, c: Cpu) => (cpu[k] = [...(cpu[k] ?? []), c]);
  for (let round = 0; round < size(o, 1, 2); round++) {
    push('none', await cpuOf(py, `cpusleep ${windowMs}`));
    for (const backend of ['kernel', 'poll'] as Backend[]) {
      const id = await py.ask(`open ${backend}`);
      await sleep(500); // past the linger: the thread parks
      push(`${backend} parked`, await cpuOf(py, `cpusleep ${windowMs}`));
      push(`${backend} blocked`, await cpuOf(py, `cpuwait ${id} ${windowMs}`));
      await py.ask(`close ${id}`);
    }
  }
  const none = cpuMean(cpu.none);
  const poll = cpuMean(cpu['poll blocked']);
  const row = (name: string, c: Cpu, target?: number) => {
    addRow(s, {
      name,
      value: c.pct,
      unit: '%',
      ratio: poll.pct > 0 ? c.pct / poll.pct : undefined,
      baseline: `poll, one blocked wait (${poll.pct.toFixed(3)}%)`,
      target: target === undefined ? undefined : { of: 'value', op: '<=', bound: target },
    });
    addRow(s, { name: `  … /proc/<pid>/stat utime+stime`, value: c.statPct, unit: '%' });
    addRow(s, {
      name: `  … context switches/s, every thread`,
      value: c.wakeups,
      unit: '/s',
      ratio: none.wakeups > 0 ? c.wakeups / none.wakeups : undefined,
      baseline: `asleep, no watcher (${none.wakeups.toFixed(1)}/s)`,
    });
  };
  row('python asleep, no watcher', none);
  row('kernel, watcher open, no wait (parked)', cpuMean(cpu['kernel parked']));
  row('kernel, one blocked wait', cpuMean(cpu['kernel blocked']), 0.1);
  row('poll, watcher open, no wait (parked)', cpuMean(cpu['poll parked']));
  row('poll, one blocked wait', poll);
  py.send('quit');
  await py.finish();
  writer.close();
  const sqliteVersion = execFileSync(PYTHON, ['-c', 'import sqlite3; print(sqlite3.sqlite_version)'], { encoding: 'utf8' }).trim();
  s.notes.push(
    `waiter: ${PYTHON} (stdlib sqlite3, SQLite ${sqliteVersion}) in honker_update_watcher_wait; writer: better-sqlite3 in the bench process; latency in ${rounds} interleaved rounds`,
  );
  s.notes.push(`CPU: ${size(o, 1, 2)} round(s) of ${seconds} s per case, mean; CLOCK_PROCESS_CPUTIME_ID is ns-exact, /proc/<pid>/stat has 10 ms ticks (${(1 / seconds).toFixed(2)}% resolution)`);
  return s;
}

await standalone(import.meta.url, watcherBench);
