/**
 * Live pages: Server-Sent Events pushed after commits, never a poll of the
 * queue tables.
 *
 * One hub per dashboard, one wake loop per hub (wake.ts: it sleeps until a
 * commit from any process: on the SQLite file's watcher, or on Postgres on a
 * LISTEN subscription to what honker's functions notify; engine.ts),
 * whatever the number of open pages. After a commit the hub renders each
 * distinct view that open pages show once (a view is a page's path and query) and writes it to
 * every page showing that view whose last update differs; a page that is
 * current gets nothing. Updates are coalesced: at most one per
 * MIN_INTERVAL_MS, the commits of that interval folded into it. Besides
 * commits only time changes what a page shows (a delayed job becoming due),
 * so the hub also wakes at the next run_at or claim deadline the views
 * report, no sooner than TIME_REFRESH_MIN_MS after the last push. On
 * Postgres a claim, an ack without a result and a heartbeat notify nothing (a
 * NOTIFY in each would serialize committing workers), so there the hub also
 * asks the source every COMMIT_LOOK_MS whether anything committed (the
 * server's snapshot, no table read) and pushes when it did. While no
 * page is open the loop is stopped: an idle dashboard holds no waiter,
 * timer or LISTEN subscription (on Postgres the database's one LISTEN
 * connection, once made, stays open until db.close(), listening on nothing
 * for the dashboard). A comment line every HEARTBEAT_MS (one timer for all
 * pages) keeps proxies from closing quiet streams.
 */
import type { ServerResponse } from 'node:http';
import { wakeLoop } from '../wake.js';
import type { LiveSource } from './engine.js';

export const MIN_INTERVAL_MS = 1000;
const TIME_REFRESH_MIN_MS = 5000;
/** How often a page on Postgres looks for commits that notified nothing (LiveSource.committedSince). */
export const COMMIT_LOOK_MS = 1000;
const HEARTBEAT_MS = 25_000;

/** What a view sends: the page's live HTML and its charts' data, as JSON. */
export interface LiveRender {
  /** The update event's data (one JSON line), or undefined when the view no longer renders. */
  json: string | undefined;
  /** Unix seconds at which time alone changes what the view shows (0: never). */
  nextDueS: number;
}

interface Subscriber {
  res: ServerResponse;
  view: string;
  lastSent: string | undefined;
}

export class LiveHub {
  private readonly subscribers = new Set<Subscriber>();
  private loop: AbortController | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  /** Renders done (tests and the idle-cost measurement read it). */
  renders = 0;

  constructor(
    private readonly source: () => Promise<LiveSource>,
    private readonly render: (view: string) => Promise<LiveRender>,
    private readonly headers: Record<string, string>,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Turn res into an event stream of view's updates, starting with the current state. */
  add(res: ServerResponse, view: string): void {
    if (this.closed) {
      res.writeHead(503, { ...this.headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('the dashboard is closing\n');
      return;
    }
    res.writeHead(200, {
      ...this.headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const sub: Subscriber = { res, view, lastSent: undefined };
    this.subscribers.add(sub);
    res.on('close', () => this.remove(sub));
    this.start();
    // What changed between the page's render and this connection is sent at once.
    this.render(view).then(
      (r) => this.send(sub, r.json),
      (err: unknown) => this.fail(err),
    );
  }

  /** End every stream and stop the loop. */
  close(): void {
    this.closed = true;
    for (const sub of [...this.subscribers]) sub.res.end();
    this.subscribers.clear();
    this.stop();
  }

  private remove(sub: Subscriber): void {
    this.subscribers.delete(sub);
    if (this.subscribers.size === 0) this.stop();
  }

  private start(): void {
    if (this.loop || this.closed) return;
    this.loop = new AbortController();
    this.heartbeat = setInterval(() => {
      for (const sub of this.subscribers) sub.res.write(': ping\n\n');
    }, HEARTBEAT_MS);
    const signal = this.loop.signal;
    this.run(signal).catch((err: unknown) => this.fail(err));
  }

  /** The database closed, its watcher died or a render failed: tell the pages, then end their streams. */
  private fail(err: unknown): void {
    const message = JSON.stringify({ error: err instanceof Error ? err.message : String(err) });
    for (const sub of [...this.subscribers]) sub.res.end(`event: failure\ndata: ${message}\n\n`);
    this.subscribers.clear();
    this.stop();
  }

  private stop(): void {
    this.loop?.abort();
    this.loop = undefined;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const source = await this.source();
    try {
      await this.loopOn(source, signal);
    } finally {
      source.close();
    }
  }

  private async loopOn(source: LiveSource, signal: AbortSignal): Promise<void> {
    let lastPush = 0;
    let dirty = false;
    let dueMs = 0;
    let lookAt = 0; // when to ask source.committedSince next (Postgres)
    for (const wake = wakeLoop(source, { signal }); wake.look(); await wake.sleep()) {
      const now = Date.now();
      let looked = false; // committedSince was read just now
      if (wake.reason === 'change') dirty = true;
      else if (wake.reason === 'deadline' && !dirty) {
        if (dueMs > 0 && now >= dueMs) dirty = true; // time changed what a page shows
        else if (source.committedSince && now >= lookAt) {
          lookAt = now + COMMIT_LOOK_MS;
          looked = true;
          if (await source.committedSince()) dirty = true; // a claim, an ack, a heartbeat
          if (signal.aborted) return;
        }
      }
      if (dirty && now - lastPush < MIN_INTERVAL_MS) {
        wake.until(lastPush + MIN_INTERVAL_MS); // coalesce: this commit rides the next push
        continue;
      }
      if (dirty) {
        // Commits from here on are news to the next look (one during the render is looked at again).
        if (!looked) await source.committedSince?.();
        dueMs = await this.push();
        if (signal.aborted) return;
        lastPush = Date.now();
        lookAt = lastPush + COMMIT_LOOK_MS;
        dirty = false;
      }
      const due = dueMs > 0 ? Math.max(dueMs, lastPush + TIME_REFRESH_MIN_MS) : Infinity;
      const next = Math.min(due, source.committedSince ? lookAt : Infinity);
      if (next < Infinity) wake.until(next);
    }
  }

  /** Render each view shown once and send it where it changed; returns the earliest due time (ms, 0: none). */
  private async push(): Promise<number> {
    const byView = new Map<string, Subscriber[]>();
    for (const sub of this.subscribers) {
      const list = byView.get(sub.view);
      if (list) list.push(sub);
      else byView.set(sub.view, [sub]);
    }
    let due = 0;
    for (const [view, subs] of byView) {
      const r = await this.render(view);
      this.renders++;
      if (r.nextDueS > 0 && (due === 0 || r.nextDueS * 1000 < due)) due = r.nextDueS * 1000;
      for (const sub of subs) this.send(sub, r.json);
    }
    return due;
  }

  private send(sub: Subscriber, json: string | undefined): void {
    if (json === undefined || json === sub.lastSent || !this.subscribers.has(sub)) return; // unchanged, or gone during the render
    sub.lastSent = json;
    sub.res.write(`event: update\ndata: ${json}\n\n`);
  }
}
