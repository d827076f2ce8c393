/**
 * The leaks part of the reliability suite: run the churn fixture
 * (test/fixtures/reliability-leaks-churn.ts) in a child process of its own,
 * answer its listeners from this process, and judge its figures.
 */
import type { ExecutionContext } from 'ava';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { open } from '../../src/index.js';
import { fixturePath, LineChild, owned, tsxCommand, type Line } from '../helpers/child.js';

/** What the churn fixture (test/fixtures/reliability-leaks-churn.ts) runs, passed as JSON. */
export interface ChurnConfig {
  /** A directory for the database files. */
  dir: string;
  /** Rounds to run (round 0 is the warm-up)... */
  rounds: number;
  /** ...or, when > 0, rounds until this many ms have passed (at least `rounds`). */
  durationMs: number;
  iterators: number;
  batch: number;
  listeners: number;
  files: number;
  sqlWatchers: number;
  leak: boolean;
}

/** One {"kind":"round"} line of the fixture. */
export interface Round {
  round: number;
  ms: number;
  elapsedMs: number;
  rss: number;
  heapUsed: number;
  external: number;
  fds: number;
  fdTargets: Record<string, number>;
  threads: number;
  statusThreads: number;
  threadsOpen: number;
  resources: Record<string, number>;
  live: Record<string, number>;
  watchers: number;
  peakWaiters: number;
  expectedPeak: number;
  waiters: number;
  signals: number;
  users: number;
  /** Whether the long-lived database's watcher still trusts fs.watch (one FSEVENTWRAP). */
  fsWatch: boolean;
  pollMs: number;
  bad: number;
  badSamples: string[];
  retained: number;
}

export interface ChurnRun {
  rounds: Round[];
  done: { bad: number; pre: Omit<Round, 'round'>; after: Omit<Round, 'round'> } | undefined;
  exitCode: number | null;
  stderr: string;
  wallMs: number;
}

/**
 * Run the churn in a child (node --expose-gc --import=tsx), notifying each
 * round's parked listeners from this process; resolves when the child exits
 * (it is SIGKILLed after timeoutMs, and at teardown if still running).
 */
export async function runChurn(t: ExecutionContext, cfg: ChurnConfig, timeoutMs: number): Promise<ChurnRun> {
  const began = Date.now();
  const rounds: Round[] = [];
  let done: ChurnRun['done'];
  let error: string | undefined;
  const onLine = (line: Line): void => {
    if (line.kind === 'parked') db.notify(line.channel as string, { from: 'test', round: line.round });
    else if (line.kind === 'round') rounds.push(line as unknown as Round);
    else if (line.kind === 'done') done = line as unknown as ChurnRun['done'];
    else if (line.kind === 'error') error = line.message as string;
  };
  const [command, args] = tsxCommand(fixturePath('reliability-leaks-churn'), [JSON.stringify(cfg)], ['--expose-gc']);
  const child = owned(t, LineChild.json<Line>(command, args, { label: 'reliability-leaks-churn', onLine }));
  child.end(); // it reads nothing
  // The test process is the other side of the listeners' wake-up: its own connection and commit.
  const db = open(path.join(cfg.dir, 'main.db'));
  t.teardown(() => db.close());
  const timer = setTimeout(() => child.signal('SIGKILL'), timeoutMs);
  const exitCode = await child.exited;
  clearTimeout(timer);
  const stderr = child.stderr;
  if (error) t.log(`churn child error: ${error}`);
  return { rounds, done, exitCode, stderr: error ? `${error}\n${stderr}` : stderr, wallMs: Date.now() - began };
}

/**
 * How much the figures that must not grow did grow: from the baseline (the
 * round after the warm-up round 0) to every later round, and the RSS and
 * heap trend from the middle round to the last.
 */
export interface Verdict {
  /** Messages for each figure off its baseline; empty when none is. */
  drift: string[];
  rssGrowth: number;
  heapGrowth: number;
}

export function judge(rounds: Round[]): Verdict {
  const drift: string[] = [];
  const base = rounds[1];
  for (const r of rounds.slice(2)) {
    for (const key of ['fds', 'threads', 'statusThreads', 'watchers', 'waiters', 'signals', 'users'] as const) {
      if (r[key] !== base[key]) drift.push(`round ${r.round}: ${key} ${r[key]}, baseline ${base[key]}`);
    }
    for (const key of ['resources', 'live', 'fdTargets'] as const) {
      const a = JSON.stringify(withoutFsWatch(base[key], base.fsWatch));
      const b = JSON.stringify(withoutFsWatch(r[key], r.fsWatch));
      if (a !== b) drift.push(`round ${r.round}: ${key} ${JSON.stringify(r[key])}, baseline ${JSON.stringify(base[key])}`);
    }
  }
  const mid = rounds[Math.floor((rounds.length - 1 + 1) / 2)];
  const last = rounds[rounds.length - 1];
  return { drift, rssGrowth: last.rss - mid.rss, heapGrowth: last.heapUsed - mid.heapUsed };
}

/**
 * counts without the fs.watch handle of the long-lived database's watcher,
 * after checking there is exactly one while the watcher trusts fs.watch and
 * none after it fell back to polling (it does so when its poll finds a
 * commit no WAL event announced: a heuristic that a loaded machine can trip,
 * see leaks.watcher-fallback.test.ts). A leaked fs.watch still shows: the
 * FSEVENTWRAP count is then not 0/1 as expected, and the key is kept.
 */
function withoutFsWatch(counts: Record<string, number>, fsWatch: boolean): Record<string, number> {
  const expected = fsWatch ? 1 : 0;
  if ((counts.FSEVENTWRAP ?? 0) !== expected) return counts;
  const { FSEVENTWRAP: _dropped, ...rest } = counts;
  return rest;
}

/** Log figures and append them to HONKER_RELIABILITY_REPORT when it names a file. */
export function record(t: ExecutionContext, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ scenario: t.title, ...figures });
  t.log(line);
  const file = process.env.HONKER_RELIABILITY_REPORT;
  if (file) appendFileSync(file, `${line}\n`);
}
