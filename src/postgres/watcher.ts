/**
 * The Postgres wake path: one LISTEN connection per process and database,
 * however many iterators wait on it (src/watcher.ts is its SQLite twin).
 *
 * How a commit in another process reaches a waiting iterator here:
 *   1. every honker function that makes work or a notification calls
 *      pg_notify on a channel per kind and name — `honker:q:emails`,
 *      `honker:n:orders`, `honker:r:42` … (pg/util.sql honker_wake) — which
 *      Postgres delivers when, and only if, the transaction commits;
 *   2. this watcher's own pg.Client LISTENs on the channels its waiters need
 *      (subscribe(), counted: LISTEN on the first subscriber, UNLISTEN after
 *      the last), so the server sends this process only those; each
 *      notification bumps its channel's generation and resolves its waiters;
 *   3. a waiter subscribes before its first look, reads generation(keys)
 *      before each look and waits for it to change (src/wake.ts), so a commit
 *      landing while it looks is never missed.
 * Loss: when the LISTEN connection fails (the backend was terminated, the
 * server restarted, the network dropped), the watcher reconnects with backoff
 * (50 ms doubling to 2 s) for as long as it is used, LISTENs again on every
 * subscribed channel, then bumps every key: every waiter looks again, which
 * finds whatever was committed while nobody listened. Waiters keep waiting
 * across the loss; their deadlines still fire.
 *
 * Worker liveness rides on the same connection (pg/lifeline.sql): a
 * registered worker's advisory lock lives as long as this session, i.e. as
 * long as this process; after a reconnect the registrations are made again.
 *
 * The socket is unref'd while nobody waits (an open database does not keep
 * the process alive, as with SQLite); each waiter's deadline timer is ref'd.
 * The last release() closes the connection and rejects every waiter with the
 * CLOSED error.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { abortError, HonkerError } from '../errors.js';
import type { WakeReason, WaitOptions } from '../watcher.js';
import { atWallClock } from '../wake.js';

/** The channel every honker_wake also notifies (pg/util.sql): waiters that watch everything (the dashboard). */
export const ANY_WAKE_KEY = 'honker:*';

/** The channel honker_wake(kind, name) notifies (pg/util.sql honker_wake_key). */
export function wakeKey(kind: string, name: string | number): string {
  const text = String(name);
  return Buffer.byteLength(text) + kind.length + 8 > 63
    ? `honker:${kind}#${createHash('md5').update(text).digest('hex')}`
    : `honker:${kind}:${text}`;
}

/** A channel name as a quoted SQL identifier. */
function ident(channel: string): string {
  return `"${channel.replace(/"/g, '""')}"`;
}

interface Waiter {
  keys: readonly string[];
  since: number;
  settle: (reason: WakeReason | Error) => void;
}

const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 2000;

export class PgWatcher {
  private static readonly shared = new Map<string, PgWatcher>();

  /** The shared watcher of this database (by connection key), created on first use; pair with release(). */
  static acquire(key: string, makeClient: () => pg.Client): PgWatcher {
    let w = PgWatcher.shared.get(key);
    if (!w || w.closed) {
      w = new PgWatcher(key, makeClient);
      PgWatcher.shared.set(key, w);
    }
    w.refs++;
    return w;
  }

  private refs = 0;
  private closed = false;
  private client: pg.Client | undefined;
  private connecting = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs = RECONNECT_MIN_MS;
  private readonly gens = new Map<string, number>();
  private global = 0;
  private readonly waiters = new Set<Waiter>();
  /** Channels subscribed to, with their subscriber counts. */
  private readonly channels = new Map<string, number>();
  /** Channels the current client LISTENs on. */
  private listening = new Set<string>();
  /** Worker ids registered through this connection, with their nesting depth. */
  private readonly registrations = new Map<string, number>();
  /** Connections made so far (1 = the first; more = reconnects). */
  connects = 0;
  /** The backend pid of the LISTEN connection, while connected (tests terminate it). */
  backendPid: number | undefined;
  private readonly connectedWaiters: Array<() => void> = [];
  /** Queries in flight on the LISTEN connection (its socket stays ref'd meanwhile). */
  private busy = 0;
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly key: string,
    private readonly makeClient: () => pg.Client,
  ) {
    this.connect();
  }

  /** A number that changes when a notification of one of keys arrives, or after a reconnect. */
  generation(keys: readonly string[]): number {
    let g = this.global;
    for (const k of keys) g += this.gens.get(k) ?? 0;
    return g;
  }

  /** Resolve once generation(keys) differs from since, at deadlineMs, or reject (a signal, close). */
  wait(keys: readonly string[], since: number, options: WaitOptions = {}): Promise<WakeReason> {
    if (this.closed) return Promise.reject(new HonkerError('CLOSED', 'honker: the Postgres database was closed'));
    if (this.generation(keys) !== since) return Promise.resolve('change');
    for (const s of options.signals ?? []) if (s?.aborted) return Promise.reject(abortError(s, 'honker wait'));
    return new Promise<WakeReason>((resolve, reject) => {
      let cancelDeadline: (() => void) | undefined;
      const signals = (options.signals ?? []).filter((s): s is AbortSignal => s !== undefined);
      const onAbort = (e: Event) => waiter.settle(abortError(e.target as AbortSignal, 'honker wait'));
      const waiter: Waiter = {
        keys,
        since,
        settle: (reason) => {
          if (!this.waiters.delete(waiter)) return;
          cancelDeadline?.();
          for (const s of signals) s.removeEventListener('abort', onAbort);
          this.updateRef();
          if (reason instanceof Error) reject(reason);
          else resolve(reason);
        },
      };
      this.waiters.add(waiter);
      for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
      if (options.deadlineMs !== undefined) cancelDeadline = atWallClock(options.deadlineMs, () => waiter.settle('deadline'));
      this.updateRef();
    });
  }

  /**
   * LISTEN on keys (counted): resolves once the server listens on them (or,
   * while disconnected, at once: the reconnect LISTENs and wakes everyone).
   * Pair with unsubscribe(keys).
   */
  async subscribe(keys: readonly string[]): Promise<void> {
    const fresh: string[] = [];
    for (const k of keys) {
      const n = this.channels.get(k) ?? 0;
      this.channels.set(k, n + 1);
      if (n === 0) fresh.push(k);
    }
    if (this.client && fresh.length > 0) await this.syncChannels(this.client);
  }

  /** LISTEN on every subscribed channel the client does not listen on yet. */
  private async syncChannels(client: pg.Client): Promise<void> {
    const missing = [...this.channels.keys()].filter((k) => !this.listening.has(k));
    if (missing.length === 0) return;
    for (const k of missing) this.listening.add(k);
    try {
      await this.run(client, missing.map((k) => `LISTEN ${ident(k)}`).join('; '));
    } catch {
      for (const k of missing) this.listening.delete(k); // the reconnect LISTENs them
    }
  }

  unsubscribe(keys: readonly string[]): void {
    const gone: string[] = [];
    for (const k of keys) {
      const n = this.channels.get(k) ?? 0;
      if (n <= 1) {
        this.channels.delete(k);
        this.gens.delete(k);
        if (n === 1) gone.push(k);
      } else this.channels.set(k, n - 1);
    }
    const client = this.client;
    if (client && gone.length > 0 && !this.closed) {
      for (const k of gone) this.listening.delete(k);
      this.run(client, gone.map((k) => `UNLISTEN ${ident(k)}`).join('; ')).catch(() => undefined);
    }
  }

  /** Resolves once the LISTEN connection is up (tests use it; waiters do not need it). */
  connected(): Promise<void> {
    if (this.client) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  /** Register worker id on the LISTEN session (pg/lifeline.sql); made again after each reconnect. */
  async register(workerId: string): Promise<void> {
    this.registrations.set(workerId, (this.registrations.get(workerId) ?? 0) + 1);
    const client = this.client;
    if (client) await this.run(client, 'SELECT honker_worker_register($1)', [workerId]).catch(() => undefined);
  }

  async unregister(workerId: string): Promise<void> {
    const depth = this.registrations.get(workerId) ?? 0;
    if (depth === 0) return;
    if (depth === 1) this.registrations.delete(workerId);
    else this.registrations.set(workerId, depth - 1);
    const client = this.client;
    if (client) await this.run(client, 'SELECT honker_worker_unregister($1)', [workerId]).catch(() => undefined);
  }

  /** Drop one reference; the last one closes the connection and rejects every waiter. */
  release(): void {
    if (--this.refs > 0 || this.closed) return;
    this.closed = true;
    if (PgWatcher.shared.get(this.key) === this) PgWatcher.shared.delete(this.key);
    clearTimeout(this.retryTimer);
    const err = new HonkerError('CLOSED', 'honker: the Postgres database was closed');
    for (const w of [...this.waiters]) w.settle(err);
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => undefined);
  }

  private onNotification(key: string | undefined): void {
    if (key === undefined || !this.channels.has(key)) return;
    this.gens.set(key, (this.gens.get(key) ?? 0) + 1);
    for (const w of [...this.waiters]) if (w.keys.includes(key)) w.settle('change');
  }

  /** After a (re)connect: every waiter looks again. */
  private bumpAll(): void {
    this.global++;
    for (const w of [...this.waiters]) w.settle('change');
  }

  private connect(): void {
    if (this.closed || this.connecting) return;
    this.connecting = true;
    const client = this.makeClient();
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (this.client === client) {
        this.client = undefined;
        this.backendPid = undefined;
      }
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (n) => this.onNotification(n.channel));
    const setup = async () => {
      await client.connect();
      this.listening = new Set();
      this.chain = Promise.resolve();
      for (const [id, depth] of this.registrations) {
        for (let i = 0; i < depth; i++) await this.run(client, 'SELECT honker_worker_register($1)', [id]);
      }
    };
    setup().then(
      () => {
        this.connecting = false;
        if (this.closed || lost) {
          client.end().catch(() => undefined);
          if (!this.closed && lost) this.scheduleReconnect();
          return;
        }
        this.client = client;
        this.backendPid = (client as unknown as { processID?: number }).processID;
        this.connects++;
        this.backoffMs = RECONNECT_MIN_MS;
        this.updateRef();
        // Every subscribed channel, including those added while this connected; then everyone looks.
        this.syncChannels(client).then(() => {
          if (this.client !== client) return;
          this.bumpAll();
          for (const r of this.connectedWaiters.splice(0)) r();
        });
      },
      () => {
        this.connecting = false;
        onLost();
      },
    );
  }

  private scheduleReconnect(): void {
    if (this.closed || this.connecting || this.retryTimer) return;
    const ms = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, ms);
    if (this.waiters.size === 0) this.retryTimer.unref();
  }

  /** A query on the LISTEN connection, keeping the process alive until it answers. */
  private async run(client: pg.Client, text: string, values?: unknown[]): Promise<void> {
    this.busy++;
    this.updateRef();
    // One query at a time on this client (pg 9 drops the implicit queue).
    const turn = this.chain.then(() => client.query(text, values));
    this.chain = turn.then(
      () => undefined,
      () => undefined,
    );
    try {
      await turn;
    } finally {
      this.busy--;
      this.updateRef();
    }
  }

  /** Keep the process alive only while someone waits (or a query of ours is in flight). */
  private updateRef(): void {
    const stream = (this.client as unknown as { connection?: { stream?: { ref?: () => void; unref?: () => void } } })?.connection?.stream;
    if (this.waiters.size > 0 || this.busy > 0) {
      stream?.ref?.();
      this.retryTimer?.ref();
    } else {
      stream?.unref?.();
      this.retryTimer?.unref();
    }
  }
}
