/**
 * ava's `test`, with a guard: a test that leaves a watcher, worker, timer,
 * server or child process behind fails, naming what it left.
 *
 * Every test file imports `test` from here instead of 'ava'. Each test's
 * implementation runs in an AsyncLocalStorage context; an async hook records
 * the handles created in that context (timers, fs.watch, child processes,
 * sockets and servers, signal listeners) and forgets each one when Node
 * destroys it (cleared, fired, closed, reaped). After the test and its
 * teardowns, whatever is still alive fails the test. Attribution follows
 * async context, so tests of one file running at once never blame each other.
 * A handle may take a moment to go (a killed child is reaped, a socket
 * closes): the guard waits up to SETTLE_MS for them before it fails.
 *
 * Node does not destroy an unref'd setInterval until it is cleared, and a
 * honker watcher or checkpoint timer is exactly that: a database a test
 * forgot to close fails here.
 */
import ava, { type ExecutionContext, type TestFn } from 'ava';
import { AsyncLocalStorage, createHook } from 'node:async_hooks';

/** Handle types whose survival past a test is a leak (timers, watchers, processes, sockets). */
const TRACKED = new Set([
  'Timeout',
  'FSEVENTWRAP',
  'STATWATCHER',
  'PROCESSWRAP',
  'PIPEWRAP',
  'TCPWRAP',
  'TCPSERVERWRAP',
  'UDPWRAP',
  'SIGNALWRAP',
  'HTTPINCOMINGMESSAGE',
  'HTTPCLIENTREQUEST',
]);
/** How long handles may take to go away after a test before the guard fails it. */
const SETTLE_MS = 3000;

interface Handle {
  type: string;
  resource: object;
}

interface Record {
  handles: Map<number, Handle>;
}

const current = new AsyncLocalStorage<Record>();
const owners = new Map<number, Record>();

createHook({
  init(asyncId, type, _trigger, resource) {
    if (!TRACKED.has(type)) return;
    const record = current.getStore();
    if (!record) return;
    record.handles.set(asyncId, { type, resource });
    owners.set(asyncId, record);
  },
  destroy(asyncId) {
    const record = owners.get(asyncId);
    if (!record) return;
    owners.delete(asyncId);
    record.handles.delete(asyncId);
  },
}).enable();

/** One line naming a handle: a timer's delay and callback, a child's pid … */
function describe(handle: Handle): string {
  const r = handle.resource as {
    _idleTimeout?: number;
    _repeat?: number | null;
    _onTimeout?: { name?: string; toString(): string };
    pid?: number;
    spawnfile?: string;
  };
  if (handle.type === 'Timeout') {
    const fn = r._onTimeout;
    const what = fn?.name || fn?.toString().replace(/\s+/g, ' ').slice(0, 80) || '?';
    return `${r._repeat ? 'setInterval' : 'setTimeout'}(${r._idleTimeout} ms): ${what}`;
  }
  return handle.type;
}

async function settled(record: Record): Promise<void> {
  const until = Date.now() + SETTLE_MS;
  while (record.handles.size > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (record.handles.size === 0) return;
  const left = [...record.handles.values()].map(describe);
  throw new Error(`the test left ${left.length} handle(s) behind after ${SETTLE_MS} ms:\n  ${left.join('\n  ')}`);
}

type Impl = (t: ExecutionContext, ...args: unknown[]) => unknown;

/** impl, run in its own tracking context, with the guard as its last teardown. */
function guarded(impl: Impl): Impl {
  return (t, ...args) => {
    const record: Record = { handles: new Map() };
    t.teardown(() => settled(record)); // teardowns run last-in first-out: this one runs last
    return current.run(record, () => impl(t, ...args));
  };
}

/** register(title, impl, ...args) with impl guarded; the other arguments (macro arguments) as given. */
function wrap<F extends object>(register: F): F {
  const call = register as unknown as (...args: unknown[]) => unknown;
  const wrapped = (...args: unknown[]): unknown => {
    const i = args.findIndex((a) => typeof a === 'function');
    if (i >= 0) args[i] = guarded(args[i] as Impl);
    return call(...args);
  };
  return Object.assign(wrapped, register) as unknown as F;
}

/**
 * Run fn outside the guard: handles it creates belong to no test (a test
 * server the file's hooks own, restarted by a test, outlives that test).
 */
export function unguarded<T>(fn: () => T): T {
  return current.exit(fn);
}

const test: TestFn = Object.assign(wrap(ava), { serial: wrap(ava.serial), only: wrap(ava.only), failing: wrap(ava.failing) });

export default test;
export type { ExecutionContext };
