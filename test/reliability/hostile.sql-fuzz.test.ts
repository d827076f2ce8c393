/**
 * Hostile input, in process: every SQL function of test/extension.surface.txt
 * called through better-sqlite3 with random arguments — NULL, integers small,
 * negative and at the 64-bit limits, integral and fractional reals, NaN and
 * infinities, text with NULs, unicode and SQL-looking strings, 10,000-char
 * names, 1 MB payloads, blobs — half of the calls well typed (so they reach
 * the real work: claims of enqueued jobs, acks of claimed ones ...), half
 * with any type in any position. Each call must either return a result of
 * the function's documented shape (JSON that parses, 0/1 flags, names echoed
 * back exactly) or fail with a SQL error whose message starts with
 * "<function>: ". After each batch the file passes integrity_check, every
 * honker table and index is still there and the queue invariants hold.
 *
 * Seeded: the seed is logged; HONKER_FUZZ_SEED=<n> replays a run.
 * Short: 4,000 calls. Soak: 200,000 calls (a fresh file every 4,000: 1 MB payloads pile up).
 * Watcher functions never block: open only ever gets a missing path, waits
 * and closes only unknown handle ids (>= 1e9) or a timeout of 0..2 ms.
 */
import test from '../helpers/test.js';
import type { Statement } from 'better-sqlite3';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { freshDb, repoRoot } from '../helpers/db.js';
import { HOSTILE_NAMES, Rng, fuzzSeed, intactProblems, report, surface, tableCounts, type SurfaceFn } from './hostile-helpers.js';
import { scale } from './soak.js';

const CALLS = scale(4_000, 200_000);
const BATCH = 250;
const ROUND = 4_000;

type Kind =
  | 'name'
  | 'text'
  | 'textnull'
  | 'int'
  | 'pos'
  | 'anyint'
  | 'intnull'
  | 'id'
  | 'ids'
  | 'cron'
  | 'cronnull'
  | 'state'
  | 'flag'
  | 'now'
  | 'path'
  | 'backend'
  | 'watcher'
  | 'timeout';

type Shape = 'int' | 'flag' | 'one' | 'array' | 'object' | 'objectOrEmpty' | 'textOrNull' | 'wait';

/** Argument kinds (well-typed mode) and result shape of every function of the surface. */
const SIGS: Record<string, { args: Kind[]; shape: Shape }> = {
  'honker_ack/2': { args: ['id', 'name'], shape: 'flag' },
  'honker_ack_batch/2': { args: ['ids', 'name'], shape: 'int' },
  'honker_bootstrap/0': { args: [], shape: 'one' },
  'honker_cancel/1': { args: ['id'], shape: 'flag' },
  'honker_claim_batch/4': { args: ['name', 'name', 'int', 'pos'], shape: 'array' },
  'honker_cron_error/1': { args: ['cron'], shape: 'textOrNull' },
  'honker_cron_next_after/2': { args: ['cron', 'now'], shape: 'int' },
  'honker_dead_get/1': { args: ['id'], shape: 'objectOrEmpty' },
  'honker_dead_list/2': { args: ['name', 'int'], shape: 'array' },
  'honker_dead_purge/2': { args: ['name', 'int'], shape: 'int' },
  'honker_dead_requeue/1': { args: ['id'], shape: 'flag' },
  'honker_enqueue/7': { args: ['name', 'text', 'intnull', 'intnull', 'anyint', 'pos', 'intnull'], shape: 'int' },
  'honker_enqueue_unique/8': {
    args: ['name', 'name', 'text', 'intnull', 'intnull', 'anyint', 'pos', 'intnull'],
    shape: 'int',
  },
  'honker_fail/3': { args: ['id', 'name', 'text'], shape: 'flag' },
  'honker_get_job/1': { args: ['id'], shape: 'objectOrEmpty' },
  'honker_heartbeat/3': { args: ['id', 'name', 'pos'], shape: 'flag' },
  'honker_history/2': { args: ['name', 'now'], shape: 'array' },
  'honker_job_errors/1': { args: ['id'], shape: 'array' },
  'honker_job_list/3': { args: ['name', 'state', 'int'], shape: 'array' },
  'honker_job_list/4': { args: ['name', 'state', 'int', 'int'], shape: 'array' },
  'honker_lock_acquire/3': { args: ['name', 'name', 'pos'], shape: 'flag' },
  'honker_lock_release/2': { args: ['name', 'name'], shape: 'flag' },
  'honker_lock_renew/3': { args: ['name', 'name', 'pos'], shape: 'flag' },
  'honker_notify_last_id/0': { args: [], shape: 'int' },
  'honker_notify_channels/0': { args: [], shape: 'array' },
  'honker_notify_prune/2': { args: ['intnull', 'intnull'], shape: 'int' },
  'honker_notify_read_since/3': { args: ['name', 'int', 'int'], shape: 'array' },
  'honker_notify_recent/2': { args: ['name', 'int'], shape: 'array' },
  'honker_queue_next_claim_at/1': { args: ['name'], shape: 'int' },
  'honker_queue_stats/1': { args: ['name'], shape: 'object' },
  'honker_queues_stats/0': { args: [], shape: 'array' },
  'honker_rate_limit_sweep/1': { args: ['int'], shape: 'int' },
  'honker_rate_limit_try/3': { args: ['name', 'int', 'pos'], shape: 'flag' },
  'honker_release/2': { args: ['id', 'name'], shape: 'flag' },
  'honker_result_get/1': { args: ['id'], shape: 'textOrNull' },
  'honker_result_save/3': { args: ['id', 'text', 'anyint'], shape: 'one' },
  'honker_result_sweep/0': { args: [], shape: 'int' },
  'honker_retry/4': { args: ['id', 'name', 'int', 'text'], shape: 'flag' },
  'honker_run_now/1': { args: ['id'], shape: 'flag' },
  'honker_scheduler_list/0': { args: [], shape: 'array' },
  'honker_scheduler_pause/1': { args: ['name'], shape: 'flag' },
  'honker_scheduler_register/6': { args: ['name', 'name', 'cron', 'text', 'anyint', 'intnull'], shape: 'one' },
  'honker_scheduler_register/7': { args: ['name', 'name', 'cron', 'text', 'anyint', 'intnull', 'pos'], shape: 'one' },
  'honker_scheduler_resume/1': { args: ['name'], shape: 'flag' },
  'honker_scheduler_soonest/0': { args: [], shape: 'int' },
  'honker_scheduler_tick/1': { args: ['now'], shape: 'array' },
  'honker_scheduler_unregister/1': { args: ['name'], shape: 'flag' },
  'honker_scheduler_update/6': { args: ['name', 'cronnull', 'textnull', 'intnull', 'intnull', 'flag'], shape: 'flag' },
  'honker_scheduler_update/8': {
    args: ['name', 'cronnull', 'textnull', 'intnull', 'intnull', 'flag', 'intnull', 'flag'],
    shape: 'flag',
  },
  'honker_stream_consumers/0': { args: [], shape: 'array' },
  'honker_stream_get_offset/2': { args: ['name', 'name'], shape: 'int' },
  'honker_stream_publish/3': { args: ['name', 'textnull', 'text'], shape: 'int' },
  'honker_stream_read_since/3': { args: ['name', 'int', 'int'], shape: 'array' },
  'honker_stream_save_offset/3': { args: ['name', 'name', 'id'], shape: 'flag' },
  'honker_streams/0': { args: [], shape: 'array' },
  'honker_sweep_expired/1': { args: ['name'], shape: 'int' },
  'honker_update_watcher_close/1': { args: ['watcher'], shape: 'one' },
  'honker_wal_autocheckpoint/1': { args: ['int'], shape: 'int' },
  'honker_update_watcher_open/2': { args: ['path', 'backend'], shape: 'int' },
  'honker_update_watcher_open/3': { args: ['path', 'backend', 'intnull'], shape: 'int' },
  'honker_update_watcher_wait/2': { args: ['watcher', 'timeout'], shape: 'wait' },
  'honker_worker_register/1': { args: ['name'], shape: 'int' },
  'honker_worker_unregister/1': { args: ['name'], shape: 'flag' },
  'honker_workers/0': { args: [], shape: 'array' },
  'honker_workers_rescue/0': { args: [], shape: 'int' },
  'notify/2': { args: ['name', 'text'], shape: 'int' },
};

/** Arguments a call may never get, whatever the mode: they would block or touch a real watcher. */
const PINNED: Partial<Record<Kind, true>> = { path: true, watcher: true, timeout: true };

const CLAIM_VERBS = new Set(['honker_ack', 'honker_ack_batch', 'honker_retry', 'honker_fail', 'honker_heartbeat', 'honker_release']);
// Blank names (only whitespace): refused where a row would be stored under them, accepted by lookups.
const NAMES = ['q', 'w', 'emails', ...HOSTILE_NAMES, ' ', '\t\u3000\ufeff'];
const SQLISH = [
  "'); DROP TABLE _honker_live;--",
  "' OR 1=1 --",
  '%s%n%s%n%p',
  '; VACUUM; ATTACH DATABASE "/tmp/x" AS x; --',
  '{"a":',
  '\\u0000',
  '[1,2,3]',
  '[]',
  '{}',
  '[1,"x"]',
  '[9223372036854775807,-9223372036854775808]',
  '* * * * *',
  '@every 0s',
];
const CRONS = ['* * * * *', '*/5 * * * * *', '0 3 * * *', '@hourly', '@every 90s', '0 0 30 2 *', '0 0 29 2 *', 'bad cron', ''];
const STATES = ['pending', 'scheduled', 'processing', 'dead', null];
const HUGE = [9223372036854775807n, -9223372036854775808n, 9223372036854775806n, 253402300799n, 253402300800n, 2n ** 31n];
const MB = 'p'.repeat(1 << 20);

function unicodeText(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng.int(6);
    if (r === 0) s += '\0';
    else if (r === 1) s += String.fromCodePoint(0x1f300 + rng.int(0x300)); // astral (4-byte UTF-8)
    else if (r === 2) s += String.fromCodePoint(0x4e00 + rng.int(0x5000)); // CJK
    else if (r === 3) s += String.fromCodePoint(rng.int(0x20)); // control characters
    else s += String.fromCodePoint(0x20 + rng.int(0x5f));
  }
  return s;
}

/** A value of any type, hostile on purpose. */
function anyValue(rng: Rng, ids: bigint[]): unknown {
  switch (rng.int(20)) {
    case 0:
    case 1:
      return null;
    case 2:
      return BigInt(rng.int(10));
    case 3:
      return -BigInt(rng.int(1000) + 1);
    case 4:
      return rng.pick(HUGE);
    case 5:
      return rng.pick([3, 1, 0, 60, -1]); // integral REAL (better-sqlite3 binds numbers as REAL)
    case 6:
      return rng.pick([3.5, -0.5, 1e300, -1e300, 9.3e18, Number.EPSILON]);
    case 7:
      return rng.pick([NaN, Infinity, -Infinity, -0]);
    case 8:
      return rng.pick(SQLISH);
    case 9:
      return unicodeText(rng, rng.int(40));
    case 10:
      return rng.chance(0.1) ? MB : 'n'.repeat(10_000);
    case 11:
      return Buffer.from(unicodeText(rng, rng.int(20)));
    case 12:
      return '';
    case 13:
      return rng.pick(NAMES);
    case 14:
      return ids.length ? rng.pick(ids) : 1n;
    default:
      return typed(rng, rng.pick(['name', 'text', 'int', 'id', 'ids', 'cron', 'now'] as Kind[]), ids);
  }
}

/** A value of the kind a function expects (mostly valid, sometimes at the edge). */
function typed(rng: Rng, kind: Kind, ids: bigint[]): unknown {
  switch (kind) {
    case 'name':
      return rng.chance(0.4) ? 'q' : rng.pick(NAMES); // mostly one queue, so calls meet each other's rows
    case 'text':
      return rng.chance(0.02) ? MB : rng.chance(0.5) ? rng.pick(SQLISH) : unicodeText(rng, rng.int(30));
    case 'textnull':
      return rng.chance(0.3) ? null : typed(rng, 'text', ids);
    case 'int':
      return BigInt(rng.int(20));
    case 'pos':
      return BigInt(1 + rng.int(600));
    case 'anyint':
      return rng.chance(0.1) ? rng.pick(HUGE) : BigInt(rng.int(21) - 10);
    case 'intnull':
      return rng.chance(0.5) ? null : BigInt(rng.int(120));
    case 'id':
      return ids.length && rng.chance(0.8) ? rng.pick(ids) : BigInt(rng.int(50));
    case 'ids': {
      const n = rng.int(4);
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(String(ids.length ? rng.pick(ids) : BigInt(rng.int(9))));
      return `[${out.join(',')}]`;
    }
    case 'cron':
      return rng.pick(CRONS);
    case 'cronnull':
      return rng.chance(0.5) ? null : rng.pick(CRONS);
    case 'state':
      return rng.pick(STATES);
    case 'flag':
      return BigInt(rng.int(2));
    case 'now':
      return BigInt(Math.floor(Date.now() / 1000) + rng.int(7200));
    case 'path':
      return rng.chance(0.7) ? '/nonexistent-honker-fuzz/x.db' : rng.pick([null, 1n, Buffer.from('x'), 2.5]);
    case 'backend':
      return rng.pick([null, '', 'polling', 'poll', 'kernel', "'; --", 3n]);
    case 'watcher':
      return rng.pick([1_000_000_000n + BigInt(rng.int(100)), 9223372036854775807n, null, 'x', 1.5]);
    case 'timeout':
      return BigInt(rng.int(3));
  }
}

/** Why result is not of the function's documented shape (null when it is). */
function shapeProblem(shape: Shape, name: string, args: unknown[], result: unknown): string | null {
  const isInt = typeof result === 'number' && Number.isInteger(result);
  switch (shape) {
    case 'int':
      return isInt ? null : 'not an integer';
    case 'flag':
      return result === 0 || result === 1 ? null : 'not 0 or 1';
    case 'one':
      return result === 1 ? null : 'not 1';
    case 'wait':
      return result === -1 || result === 0 || result === 1 ? null : 'not -1, 0 or 1';
    case 'textOrNull':
      return result === null || typeof result === 'string' ? null : 'not TEXT or NULL';
    case 'objectOrEmpty':
      if (result === '') return null;
    // falls through
    case 'object':
    case 'array': {
      if (typeof result !== 'string') return 'not TEXT';
      let parsed: unknown;
      try {
        parsed = JSON.parse(result);
      } catch (err) {
        return `not JSON (${(err as Error).message})`;
      }
      const isArray = Array.isArray(parsed);
      if ((shape === 'array') !== isArray || typeof parsed !== 'object' || parsed === null) return 'not a JSON ' + shape;
      if (!isArray) return null;
      // Names are echoed back exactly (the JSON round trip keeps NULs, quotes, unicode).
      const rows = parsed as Record<string, unknown>[];
      const echo: Record<string, [string, number][]> = {
        honker_claim_batch: [
          ['queue', 0],
          ['worker_id', 1],
        ],
        honker_notify_read_since: [['channel', 0]],
        honker_stream_read_since: [['topic', 0]],
        honker_dead_list: [['queue', 0]],
        honker_job_list: [['queue', 0]],
      };
      for (const [key, i] of echo[name] ?? []) {
        for (const row of rows) if (row[key] !== args[i]) return `${key} ${JSON.stringify(row[key])} is not the argument`;
      }
      return null;
    }
  }
}

/** Run one call; a failure is recorded in failures. */
function callOnce(
  stmt: Statement<unknown[]>,
  name: string,
  key: string,
  shape: Shape,
  args: unknown[],
  failures: string[],
): { error: boolean; result?: unknown } {
  let result: unknown;
  try {
    result = stmt.get(...args);
  } catch (err) {
    const msg = (err as Error).message;
    if (!msg.startsWith(`${name}: `)) failures.push(`${key}: error without the function name: ${msg}`);
    return { error: true };
  }
  const problem = shapeProblem(shape, name, args, result);
  if (problem) failures.push(`${key}(${JSON.stringify(args.map(String)).slice(0, 300)}) -> ${String(result).slice(0, 200)}: ${problem}`);
  return { error: false, result };
}

test('every SQL function survives random and hostile arguments', (t) => {
  const seed = fuzzSeed(t);
  const rng = new Rng(seed);
  let db = freshDb(t).db;
  const fns = surface();
  const missing = fns.filter((f) => !SIGS[`${f.name}/${f.arity}`]).map((f) => `${f.name}/${f.arity}`);
  t.deepEqual(missing, [], 'every function of test/extension.surface.txt has a signature here');
  const stmts = new Map<string, Statement<unknown[]>>();
  const ids: bigint[] = [];
  const claimed: [bigint, string][] = [];
  const perFn = new Map<string, { ok: number; err: number; one: number }>();
  const failures: string[] = [];
  let errors = 0;
  let batches = 0;
  const started = Date.now();
  // The queue's life cycle is picked more often, so claims meet jobs and worker verbs meet claims.
  const WEIGHT: Record<string, number> = { honker_enqueue: 4, honker_claim_batch: 4, ...Object.fromEntries([...CLAIM_VERBS].map((v) => [v, 2])) };
  const pool = fns.flatMap((f) => Array<SurfaceFn>(WEIGHT[f.name] ?? 1).fill(f));
  let rounds = 1;
  for (let call = 0; call < CALLS && failures.length < 5; call++) {
    if (call > 0 && call % ROUND === 0) {
      // A fresh file every ROUND calls keeps the soak's database (and its JSON answers) bounded.
      const problems = intactProblems(db);
      if (problems.length) failures.push(`end of round ${rounds}: ${problems.join('; ')}`);
      db.close();
      db = freshDb(t).db;
      stmts.clear();
      ids.length = 0;
      claimed.length = 0;
      rounds++;
    }
    const fn = pool[rng.int(pool.length)];
    const key = `${fn.name}/${fn.arity}`;
    const sig = SIGS[key];
    let stmt = stmts.get(key);
    if (!stmt) {
      stmt = db.prepare<unknown[]>(`SELECT ${fn.name}(${Array(fn.arity).fill('?').join(', ')})`).pluck();
      stmts.set(key, stmt);
    }
    const wellTyped = rng.chance(0.5);
    const args = sig.args.map((kind) => (wellTyped || PINNED[kind] ? typed(rng, kind, ids) : anyValue(rng, ids)));
    // A worker's verbs on a job it really holds, most of the time, so ack/retry/fail reach their work.
    if (wellTyped && CLAIM_VERBS.has(fn.name) && claimed.length && rng.chance(0.7)) {
      const [id, worker] = rng.pick(claimed);
      args[0] = fn.name === 'honker_ack_batch' ? `[${id}]` : id;
      args[1] = worker;
    }
    const tally = perFn.get(key) ?? { ok: 0, err: 0, one: 0 };
    perFn.set(key, tally);
    const outcome = callOnce(stmt, fn.name, key, sig.shape, args, failures);
    if (outcome.error) {
      tally.err++;
      errors++;
    } else {
      tally.ok++;
      if (outcome.result === 1) tally.one++;
      const result = outcome.result;
      if (sig.shape === 'int' && typeof result === 'number' && result > 0 && Number.isSafeInteger(result)) {
        ids.push(BigInt(result));
        if (ids.length > 64) ids.shift();
      }
      if (fn.name === 'honker_claim_batch' && typeof result === 'string') {
        for (const job of JSON.parse(result) as { id: number; worker_id: string }[]) {
          claimed.push([BigInt(job.id), job.worker_id]);
          if (claimed.length > 32) claimed.shift();
        }
      }
    }
    if ((call + 1) % BATCH === 0) {
      batches++;
      const problems = intactProblems(db);
      if (problems.length) failures.push(`after call ${call + 1}: ${problems.join('; ')}`);
    }
  }
  const problems = intactProblems(db);
  t.deepEqual(failures, [], `seed ${seed}`);
  t.deepEqual(problems, [], `seed ${seed}`);
  // Every function was reached, and most of them both ways (a result and an error).
  const never = fns.filter((f) => !perFn.has(`${f.name}/${f.arity}`)).map((f) => f.name);
  t.deepEqual(never, [], 'every function was called');
  const succeeded = [...perFn.values()].filter((v) => v.ok > 0).length;
  // honker_update_watcher_open/2 and /3 only ever get a missing file: they never succeed here.
  const neverOk = [...perFn.entries()].filter(([, v]) => v.ok === 0).map(([k]) => k);
  t.deepEqual(neverOk.sort(), ['honker_update_watcher_open/2', 'honker_update_watcher_open/3'], 'functions that never returned');
  report(t, {
    seed,
    calls: CALLS,
    rounds,
    errors,
    batches,
    functions: fns.length,
    functionsSucceeded: succeeded,
    // How often the worker verbs really acted (result 1), not just answered.
    acted: Object.fromEntries([...CLAIM_VERBS].map((k) => [k, [...perFn].find(([f]) => f.startsWith(k + '/'))?.[1].one ?? 0])),
    rows: tableCounts(db),
    ms: Date.now() - started,
  });
});

test('SQL-looking names and payloads are stored as data, never run', (t) => {
  const { db } = freshDb(t);
  const evil = [
    "'); DROP TABLE _honker_live;--",
    "x'); DELETE FROM _honker_locks; SELECT ('",
    '"); DROP TABLE _honker_stream; --',
    "1; ATTACH DATABASE '/tmp/honker-hostile-attached.db' AS pwn; --",
  ];
  db.prepare("SELECT honker_lock_acquire('keep', 'me', 600)").get();
  for (const s of evil) {
    const id = db.prepare('SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)').pluck().get(s, s) as number;
    t.is(db.prepare('SELECT json_extract(honker_get_job(?), ?)').pluck().get(id, '$.payload'), s);
    db.prepare('SELECT notify(?, ?)').get(s, s);
    db.prepare('SELECT honker_stream_publish(?, ?, ?)').get(s, s, s);
    t.is(db.prepare('SELECT honker_lock_acquire(?, ?, 60)').pluck().get(s, s), 1);
    t.is(db.prepare("SELECT honker_scheduler_register(?, ?, '@hourly', ?, 0, NULL)").pluck().get(s, s, s), 1);
  }
  t.deepEqual(intactProblems(db), []);
  t.is(db.prepare("SELECT count(*) FROM pragma_database_list WHERE name = 'pwn'").pluck().get(), 0);
  t.is(db.prepare("SELECT owner FROM _honker_locks WHERE name = 'keep'").pluck().get(), 'me');
  t.deepEqual(tableCounts(db), {
    ...tableCounts(db),
    _honker_live: evil.length,
    _honker_notifications: evil.length,
    _honker_stream: evil.length,
    _honker_locks: evil.length + 1,
    _honker_scheduler_tasks: evil.length,
  });
});

test('the libFuzzer harness fuzz/sql.c calls every SQL function, and the corpus stays small', (t) => {
  const src = readFileSync(path.join(repoRoot, 'fuzz', 'sql.c'), 'utf8');
  const table = /fuzz_fns\[\] = \{([\s\S]*?)\n\};/.exec(src)?.[1] ?? '';
  const inHarness = [...table.matchAll(/\{"(\w+)", (\d+)\}/g)].map((m) => `${m[1]}/${m[2]}`);
  t.deepEqual(inHarness, surface().map((f) => `${f.name}/${f.arity}`));
  let files = 0;
  let bytes = 0;
  for (const dir of ['cron', 'sql']) {
    const root = path.join(repoRoot, 'fuzz', 'corpus', dir);
    for (const f of readdirSync(root)) {
      files++;
      bytes += statSync(path.join(root, f)).size;
    }
  }
  t.true(files > 0 && files < 200, `${files} corpus files`);
  t.true(bytes < 1 << 20, `${bytes} corpus bytes`);
});

// Found by this fuzz: ids_json was validated by json_valid()/json_each(), which stop at the
// first NUL, so '[1]\0garbage' acked job 1. queue_check_ids now refuses a NUL.
test('honker_ack_batch refuses ids_json with bytes after a NUL', (t) => {
  const { db } = freshDb(t);
  db.prepare("SELECT honker_enqueue('q', '{}', NULL, NULL, 0, 3, NULL)").get();
  const [job] = JSON.parse(db.prepare("SELECT honker_claim_batch('q', 'w', 1, 60)").pluck().get() as string) as { id: number }[];
  let message = '';
  try {
    db.prepare('SELECT honker_ack_batch(?, ?)').get(`[${job.id}]\0, "garbage"`, 'w');
  } catch (err) {
    message = (err as Error).message;
  }
  t.is(message, 'honker_ack_batch: ids_json must be a JSON array of integers (got malformed JSON)');
  t.is(db.prepare('SELECT count(*) FROM _honker_live').pluck().get(), 1, 'the job is still there');
});
