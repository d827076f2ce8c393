/**
 * cron: the pure-C parser (ext/cron.c) and next-boundary search (ext/cron_next.c).
 *   - test/c/cron.test.c is compiled with -Wall -Wextra -Werror and run with
 *     TZ=America/New_York and TZ=UTC (its table covers every field kind,
 *     names, macros, @every, the Vixie day rule, month ends, Feb 29, DST and
 *     error messages), and once more under ASan+UBSan when cc supports it;
 *   - honker_cron_next_after answers the same through SQL in a sqlite3 CLI
 *     child whose TZ is set, so local time really is the process's zone.
 */
import test from './helpers/test.js';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { extStem, repoRoot, tempDir, tempDbPath, openDb } from './helpers/db.js';
import { ccBuilds, testIf } from './helpers/test-if.js';

const sources = ['test/c/cron.test.c', 'ext/cron.c', 'ext/cron_next.c'].map((f) => path.join(repoRoot, f));

/** Compile the C unit test with extra flags; returns the binary path. */
function compile(dir: string, flags: string[]): { bin: string; status: number; output: string } {
  const bin = path.join(dir, 'cron_test');
  const r = spawnSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', ...flags, ...sources, '-o', bin], {
    encoding: 'utf8',
  });
  return { bin, status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

function runIn(bin: string, tz: string, extraEnv: Record<string, string> = {}) {
  return spawnSync(bin, [], { encoding: 'utf8', env: { ...process.env, ...extraEnv, TZ: tz }, timeout: 120_000 });
}

for (const tz of ['America/New_York', 'UTC']) {
  test(`cron.parser C unit test passes with TZ=${tz}`, (t) => {
    const c = compile(tempDir(t), tz === 'UTC' ? ['-O2'] : []);
    t.is(c.status, 0, c.output);
    const r = runIn(c.bin, tz);
    t.is(r.status, 0, r.stdout + r.stderr);
    t.regex(r.stdout, /^ok \d+ checks, 0 failures$/m);
  });
}

const sanitize = ['-fsanitize=address,undefined', '-fno-sanitize-recover=undefined'];
const withSanitizers = testIf(ccBuilds(sanitize), 'cc cannot build with -fsanitize=address,undefined here');

withSanitizers('cron.parser C unit test passes under ASan+UBSan (America/New_York)', (t) => {
  const c = compile(tempDir(t), ['-g', ...sanitize]);
  t.is(c.status, 0, c.output);
  const r = runIn(c.bin, 'America/New_York', { ASAN_OPTIONS: 'detect_leaks=1' });
  t.is(r.status, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /^ok \d+ checks, 0 failures$/m);
});

/** Unix seconds of a wall time at a fixed UTC offset in hours. */
function at(y: number, mo: number, d: number, h: number, mi: number, s: number, offsetH: number): number {
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - offsetH * 3600;
}

/** Evaluate honker_cron_next_after for each [expr, from] in a sqlite3 CLI with TZ set. */
function nextAfterInZone(file: string, tz: string, cases: Array<[string, number]>): string[] {
  const sql = cases.map(([expr, from]) => `SELECT honker_cron_next_after('${expr}', ${from});`).join('\n');
  const r = spawnSync('sqlite3', ['-batch', '-bail', file], {
    input: `.load ${extStem}\n${sql}\n`,
    encoding: 'utf8',
    env: { ...process.env, TZ: tz },
  });
  if (r.status !== 0) throw new Error(`sqlite3 failed: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}

test('cron.parser honker_cron_next_after follows the process TZ (America/New_York DST, UTC)', (t) => {
  const file = tempDbPath(t);
  openDb(file).close();
  const ny: Array<[string, number, number]> = [
    // plain local time: 03:00 EDT
    ['0 3 * * *', at(2026, 4, 19, 10, 0, 0, -4), at(2026, 4, 20, 3, 0, 0, -4)],
    // spring forward 2026-03-08: 02:30 does not exist -> 03:00 EDT, once
    ['30 2 * * *', at(2026, 3, 7, 3, 0, 0, -5), at(2026, 3, 8, 3, 0, 0, -4)],
    ['30 2 * * *', at(2026, 3, 8, 3, 0, 0, -4), at(2026, 3, 9, 2, 30, 0, -4)],
    // fall back 2026-11-01: 01:30 happens twice, fires the first time only
    ['30 1 * * *', at(2026, 10, 31, 12, 0, 0, -4), at(2026, 11, 1, 1, 30, 0, -4)],
    ['30 1 * * *', at(2026, 11, 1, 1, 30, 0, -4), at(2026, 11, 2, 1, 30, 0, -5)],
    ['0 * * * *', at(2026, 11, 1, 1, 0, 0, -4), at(2026, 11, 1, 2, 0, 0, -5)],
    // names, macros and the Vixie rule in local time
    ['0 9 * * MON-FRI', at(2026, 4, 24, 10, 0, 0, -4), at(2026, 4, 27, 9, 0, 0, -4)],
    ['@daily', at(2026, 4, 19, 12, 0, 0, -4), at(2026, 4, 20, 0, 0, 0, -4)],
    ['0 0 13 * 5', at(2026, 4, 10, 12, 0, 0, -4), at(2026, 4, 13, 0, 0, 0, -4)],
    // @every is anchored to the epoch, not to the zone
    ['@every 1d', at(2026, 4, 19, 12, 0, 0, -4), at(2026, 4, 20, 0, 0, 0, 0)],
  ];
  t.deepEqual(
    nextAfterInZone(file, 'America/New_York', ny.map(([e, f]) => [e, f])),
    ny.map(([, , want]) => String(want)),
  );
  const utc: Array<[string, number, number]> = [
    ['0 3 * * *', at(2026, 4, 19, 10, 0, 0, 0), at(2026, 4, 20, 3, 0, 0, 0)],
    ['30 2 * * *', at(2026, 3, 8, 1, 59, 59, 0), at(2026, 3, 8, 2, 30, 0, 0)],
    ['@daily', at(2026, 4, 19, 12, 0, 0, 0), at(2026, 4, 20, 0, 0, 0, 0)],
  ];
  t.deepEqual(
    nextAfterInZone(file, 'UTC', utc.map(([e, f]) => [e, f])),
    utc.map(([, , want]) => String(want)),
  );
});

test('cron.parser honker_scheduler_register computes next_fire_at in the process TZ', (t) => {
  const file = tempDbPath(t);
  openDb(file).close();
  // Register '0 0 * * *' in two zones 5 hours apart: next_fire_at differs by the offset (mod a day).
  const run = (tz: string) => {
    const r = spawnSync('sqlite3', ['-batch', '-bail', file], {
      input: `.load ${extStem}\nSELECT honker_scheduler_register('midnight', 'q', '0 0 * * *', 'p', 0, NULL);\nSELECT next_fire_at FROM _honker_scheduler_tasks;\n`,
      encoding: 'utf8',
      env: { ...process.env, TZ: tz },
    });
    t.is(r.status, 0, r.stderr);
    return Number(r.stdout.trim().split('\n')[1]);
  };
  t.is(run('UTC') % 86400, 0);
  t.is(run('Etc/GMT+5') % 86400, 5 * 3600); // GMT+5 is UTC-5 in POSIX sign convention
});
