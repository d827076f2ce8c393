/**
 * Argument checks for the public API. Every message has the form
 *   `<method>: <option> must <rule> (got <value>)`
 * followed, where it helps, by `: <what to pass instead>`, and is thrown
 * synchronously, before anything is written.
 *
 * JSON (json(): job payloads, task arguments, notify, stream publish, results,
 * scheduler payloads) is strict: a value is taken only when JSON.stringify
 * stores it without a silent change, so what a reader parses back is what was
 * given. Refused, naming the path (`payload.items[2]`, `args[1].when`) and what
 * to pass instead:
 *   - NaN, Infinity and -Infinity (JSON writes null);
 *   - functions and symbols (dropped as object values, null in arrays);
 *   - undefined in an array, and the holes of a sparse array (null);
 *   - objects that are not plain (prototype Object.prototype or null) and have
 *     no toJSON: Map, Set, WeakMap, typed arrays, Error, RegExp, boxed
 *     primitives, class instances (they become {} or lose their class);
 *   - an Invalid Date (its toJSON gives null);
 *   - BigInt and cycles (JSON.stringify throws: its message is kept).
 * Kept, because the conversion is explicit and well known:
 *   - an object with a toJSON method (Date -> ISO string, Buffer ->
 *     {"type":"Buffer","data":[...]}, your own classes): toJSON is the object's
 *     chosen JSON form, and what it returns is not checked further;
 *   - undefined as an object property value: JSON leaves the property out,
 *     which reads back the same in JavaScript (`obj.x === undefined`);
 *   - symbol-keyed and non-enumerable properties: not data (structuredClone
 *     skips them too), as are extra non-index properties of an array.
 * Cost: one JSON.stringify and one walk of the value with an explicit stack
 * (no recursion limit below JSON.stringify's), about a fifth of the
 * stringify's time; the path is only searched for once a change is found.
 *
 * Names (name()) are non-empty strings that are not blank (only whitespace,
 * as \s sees it; ext/util.c refuses the same where a row is stored under one).
 * Times end at 9999-12-31T23:59:59Z (MAX_UNIX, as ext/util.h HONKER_MAX_UNIX):
 * time() and seconds() refuse later ones here, before the SQL call.
 */
import { HonkerError } from './errors.js';

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function invalid(where: string, name: string, rule: string, value: unknown): HonkerError {
  return new HonkerError('INVALID_ARGUMENT', `${where}: ${name} must ${rule} (got ${show(value)})`);
}

/** A name (queue, channel, topic, task, lock, owner, consumer, key, worker): a non-empty string, not blank. */
export function name(where: string, label: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(where, label, 'be a non-empty string', value);
  if (!/\S/.test(value)) throw invalid(where, label, 'not be blank', value);
  return value;
}

/** An integer >= min (and <= max when given). */
export function int(where: string, label: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const rule = max === Number.MAX_SAFE_INTEGER ? `be an integer >= ${min}` : `be an integer between ${min} and ${max}`;
    throw invalid(where, label, rule, value);
  }
  return value;
}

/** An optional integer >= min: undefined stays undefined. */
export function optInt(where: string, label: string, value: unknown, min: number): number | undefined {
  return value === undefined ? undefined : int(where, label, value, min);
}

/** Any safe integer (priorities may be negative). */
export function anyInt(where: string, label: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(where, label, 'be an integer', value);
  return value;
}

/** The latest time honker stores: 9999-12-31T23:59:59Z (ext/util.h HONKER_MAX_UNIX). */
export const MAX_UNIX = 253402300799;
const MAX_UNIX_TEXT = '9999-12-31T23:59:59Z';

/**
 * Seconds from now (delayS, expiresS, ttlS, visibilityTimeoutS …): an integer
 * >= min such that now + value ends by MAX_UNIX, the extension's own rule
 * (`queue.enqueue: delayS must end by 9999-12-31T23:59:59Z (got 9007199254740991)`).
 */
export function seconds(where: string, label: string, value: unknown, min: number): number {
  const s = int(where, label, value, min);
  if (s > MAX_UNIX - Math.floor(Date.now() / 1000)) throw invalid(where, label, `end by ${MAX_UNIX_TEXT}`, s);
  return s;
}

/** seconds(), or undefined when value is undefined. */
export function optSeconds(where: string, label: string, value: unknown, min: number): number | undefined {
  return value === undefined ? undefined : seconds(where, label, value, min);
}

/**
 * A point in time as unix seconds: a Date, or an integer >= 0 of seconds, up
 * to MAX_UNIX. A number past it that is a valid time in milliseconds (such as
 * Date.now()) gets that hint.
 */
export function time(where: string, label: string, value: unknown): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw invalid(where, label, 'be a valid Date', 'Invalid Date');
    const s = Math.floor(ms / 1000);
    if (s > MAX_UNIX) throw invalid(where, label, `be a Date or unix seconds up to ${MAX_UNIX_TEXT}`, value);
    return s;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(where, label, 'be a Date or unix seconds (an integer >= 0)', value);
  }
  if (value <= MAX_UNIX) return value;
  if (value / 1000 <= MAX_UNIX) {
    const year = new Date(value * 1000).getUTCFullYear() || Math.floor(1970 + value / 31556952);
    throw new HonkerError(
      'INVALID_ARGUMENT',
      `${where}: ${label} ${value} looks like milliseconds (year ${year}): pass new Date(ms) or Math.floor(ms / 1000)`,
    );
  }
  throw invalid(where, label, `be a Date or unix seconds up to ${MAX_UNIX_TEXT}`, value);
}

/**
 * JSON text of a value, refusing anything JSON.stringify would silently change
 * (the rules are in this file's header).
 */
export function json(where: string, label: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new HonkerError('INVALID_ARGUMENT', `${where}: ${label} must be JSON-serialisable (${(err as Error).message})`);
  }
  if (text === undefined) throw invalid(where, label, 'be JSON-serialisable', value);
  // JSON.stringify succeeded: no BigInt, no cycle, so the walk ends.
  const found = jsonChange(value);
  if (found) {
    const { rule, got, hint } = found.change;
    throw new HonkerError('INVALID_ARGUMENT', `${where}: ${label}${found.path} must ${rule} (got ${got}): ${hint}`);
  }
  return text;
}

/** What JSON.stringify would silently change: the message's rule, value and hint. */
interface JsonChange {
  rule: string;
  got: string;
  hint: string;
}

const change = (rule: string, got: string, hint: string): JsonChange => ({ rule, got, hint });
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The common case, checked in the loops without a call: a string, a boolean, null or a finite number. */
function kept(x: unknown): boolean {
  const t = typeof x;
  return t === 'string' || t === 'boolean' || x === null || (t === 'number' && Number.isFinite(x));
}

/** What JSON would change in a value that is not an object (an array element when inArray), or undefined. */
function leafChange(value: unknown, inArray: boolean): JsonChange | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? undefined : change('be a finite number', String(value), 'JSON would store null; pass null or a number');
    case 'undefined': // an object property: JSON leaves it out, which reads back the same
      return inArray ? change('be JSON-serialisable', 'undefined', 'JSON would store null; pass null') : undefined;
    case 'function':
    case 'symbol':
      return change(
        'be JSON-serialisable',
        typeof value === 'function' ? 'a function' : String(value),
        inArray ? 'JSON would store null; pass null' : 'JSON would drop it; leave it out or pass null',
      );
    default: // string, boolean, null (bigint: JSON.stringify threw already)
      return undefined;
  }
}

/**
 * A silent change JSON would make to value, with its path (`.items[2]`), or
 * undefined. An explicit stack instead of recursion walks any depth
 * JSON.stringify accepts (recursion ran out of stack at about half of it);
 * a node's own values are checked before what is nested in them. The path is
 * only searched for once a change is found (pathTo), so the walk itself keeps
 * nothing but the stack.
 */
function jsonChange(value: unknown): { change: JsonChange; path: string } | undefined {
  if (typeof value !== 'object' || value === null) {
    const found = leafChange(value, false);
    return found && { change: found, path: '' };
  }
  const stack: object[] = [value];
  while (stack.length > 0) {
    const node = stack.pop() as object;
    if (typeof (node as { toJSON?: unknown }).toJSON === 'function') {
      if (node instanceof Date && Number.isNaN(node.getTime())) {
        const found = change('be a valid Date', 'Invalid Date', 'JSON would store null; pass null or a valid Date');
        return { change: found, path: pathTo(value, node) };
      }
      continue; // its toJSON is its chosen JSON form
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (kept(item)) continue;
        if (typeof item === 'object') {
          stack.push(item as object);
          continue;
        }
        const found =
          item === undefined && !(i in node)
            ? change('not be a hole of a sparse array', 'an empty slot', 'JSON would store null; pass null')
            : leafChange(item, true);
        if (found) return { change: found, path: pathTo(value, node) + segment(i) };
      }
      continue;
    }
    const proto: unknown = Object.getPrototypeOf(node);
    // Plain: Object.prototype (of any realm: its own prototype is null) or null.
    if (proto !== Object.prototype && proto !== null && Object.getPrototypeOf(proto) !== null) {
      return { change: notPlain(node), path: pathTo(value, node) };
    }
    const record = node as Record<string, unknown>;
    // for-in allocates no array of keys (a third faster than Object.keys here); an inherited
    // enumerable property (a polluted Object.prototype) is skipped, as JSON.stringify skips it.
    for (const key in record) {
      const item = record[key];
      if (kept(item) || !Object.hasOwn(record, key)) continue;
      if (typeof item === 'object') {
        stack.push(item as object);
        continue;
      }
      const found = leafChange(item, false);
      if (found) return { change: found, path: pathTo(value, node) + segment(key) };
    }
  }
  return undefined;
}

/** The path from root to target, an object jsonChange met under root ('' for root itself). */
function pathTo(root: object, target: object): string {
  const stack: [object, string][] = [[root, '']];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [object, string];
    if (node === target) return path;
    if (typeof (node as { toJSON?: unknown }).toJSON === 'function') continue;
    const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((item, i) => [i, item]) : Object.entries(node);
    for (const [key, item] of entries) {
      if (typeof item === 'object' && item !== null) stack.push([item, path + segment(key)]);
    }
  }
  return '';
}

/** One step of a path: `[2]`, `.name` or `["odd key"]`. */
function segment(key: string | number): string {
  return typeof key === 'number' ? `[${key}]` : IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** An object JSON would turn into {} or strip of its class, and what to pass instead. */
function notPlain(value: object): JsonChange {
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  const rule = 'be a plain object or array';
  const a = (name: string) => `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`;
  if (ArrayBuffer.isView(value) && tag !== 'DataView') {
    return change(rule, a(tag), 'JSON would store an object keyed by index; pass Array.from(value)');
  }
  switch (tag) {
    case 'Map':
      return change(rule, 'a Map', 'JSON would store {}; pass Object.fromEntries(map)');
    case 'Set':
      return change(rule, 'a Set', 'JSON would store {}; pass [...set]');
    case 'WeakMap':
    case 'WeakSet':
    case 'WeakRef':
      return change(rule, a(tag), 'JSON would store {}; copy what you need into a plain object');
    case 'ArrayBuffer':
    case 'SharedArrayBuffer':
    case 'DataView':
      return change(rule, a(tag), 'JSON would store {}; pass Array.from(new Uint8Array(buffer))');
    case 'Error':
      return change(rule, `an Error (${show((value as Error).message)})`, 'JSON would store {}; pass { message: error.message }');
    case 'RegExp':
      return change(rule, `a RegExp (${String(value)})`, 'JSON would store {}; pass regexp.source');
    case 'Promise':
      return change(rule, 'a Promise', 'JSON would store {}; await it first');
    case 'Number':
    case 'String':
    case 'Boolean':
      return change(rule, `${a(tag)} object`, 'pass the primitive (value.valueOf())');
  }
  const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } }).constructor?.name;
  const got = typeof ctor === 'string' && ctor !== '' && ctor !== 'Object' ? a(ctor) : `an object of class ${tag}`;
  return change(
    rule,
    got,
    'JSON would keep only its own fields and drop its class; pass a plain object ({ ...value }) or give the class a toJSON()',
  );
}

/**
 * Reject unknown option keys, with a hint for a near miss
 * (`queue.enqueue: unknown option "delay" (did you mean "delayS"?)`).
 */
export function options<T extends object>(where: string, value: T | undefined, known: readonly string[]): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(where, 'options', 'be an object', value);
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = closest(key, known);
    throw new HonkerError(
      'INVALID_ARGUMENT',
      `${where}: unknown option ${JSON.stringify(key)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`,
    );
  }
  return value;
}

/**
 * The known name nearest to key, if near enough. Ignoring case, a name costs
 * the characters missing when one is a prefix of the other (delay -> delayS:
 * 1), else its edit distance; the cost is weighed against the longer name, so
 * "retry" is nearer "retries" (3 of 7) than "retryDelayS" (6 of 11), and
 * "visibility" finds "visibilityTimeoutS" (8 of 18). The nearest is offered
 * when it is a prefix differing by at most 60%, or a misspelling by less
 * than half ("since" suggests nothing rather than "signal").
 */
export function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestShare = Infinity;
  let bestIsPrefix = false;
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    const prefix = c.startsWith(lower) || lower.startsWith(c);
    const share = (prefix ? Math.abs(c.length - lower.length) : editDistance(lower, c)) / Math.max(c.length, lower.length);
    if (share < bestShare) {
      best = candidate;
      bestShare = share;
      bestIsPrefix = prefix;
    }
  }
  return bestShare <= 0.6 && (bestIsPrefix || bestShare < 0.5) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** An AbortSignal or undefined. */
export function signal(where: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalid(where, 'signal', 'be an AbortSignal', value);
  return value;
}

/** A postgres:// or postgresql:// URL: what openPostgres and the CLI take for a Postgres database (no pg import needed to tell). */
export function isPostgresUrl(value: unknown): value is string {
  return typeof value === 'string' && /^postgres(ql)?:\/\//i.test(value);
}
