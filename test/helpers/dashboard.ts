/**
 * Dashboard test helpers: a populated database (with hostile names, payloads
 * and errors), a dashboard served on a free loopback port for one test, and
 * a tiny HTTP client that keeps the session cookie like a browser.
 */
import type { ExecutionContext } from 'ava';
import { createServer, get, request, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dashboard, open, type DashboardDatabase, type DashboardHandler, type DashboardOptions, type HonkerDatabase } from '../../src/index.js';

export const HOSTILE_SCRIPT = '<script>alert(1)</script>';
export const HOSTILE_IMG = '<img src=x onerror=alert(1)>';

/** Fill file: queues emails, reports and a hostile one; dead jobs; a schedule; a stream; notifications. */
export function seed(file: string): void {
  const db = open(file);
  try {
    const emails = db.queue('emails', { maxAttempts: 2 });
    const evil = db.queue(HOSTILE_IMG);
    db.transaction(() => {
      for (let i = 0; i < 12; i++) emails.enqueue({ to: `user${i}@example.com` });
      emails.enqueue({ to: 'later@example.com' }, { delayS: 3600 });
      db.queue('reports').enqueue({ day: '2026-12-05' });
      evil.enqueue({ html: HOSTILE_SCRIPT, img: HOSTILE_IMG });
      evil.enqueue(HOSTILE_SCRIPT);
    });
    for (const j of emails.claimBatch('worker-1', 3)) j.ack();
    const [a, b, c] = emails.claimBatch('worker-2', 3);
    a!.retry({ delayS: 600, error: `smtp timeout ${HOSTILE_SCRIPT}` });
    b!.fail(new Error(`bad address ${HOSTILE_IMG}`));
    c!.fail(new Error('mailbox full'));
    evil.claimBatch(`w${HOSTILE_IMG}`, 1)[0]!.fail(HOSTILE_SCRIPT);
    db.scheduler().add({ name: 'nightly', queue: 'reports', schedule: '0 3 * * *' });
    db.scheduler().add({ name: HOSTILE_SCRIPT, queue: HOSTILE_IMG, schedule: '@every 1h' });
    const s = db.stream('orders');
    for (let i = 0; i < 5; i++) s.publish({ order: i });
    db.raw.prepare("SELECT honker_stream_save_offset('billing', 'orders', 2)").get();
    db.notify('orders', { id: 1 });
    db.notify(HOSTILE_SCRIPT, HOSTILE_IMG);
  } finally {
    db.close();
  }
}

export interface Served {
  url: string;
  db: HonkerDatabase;
  handler: DashboardHandler;
}

/** dashboard(db, options) on 127.0.0.1:<free port>, either engine; server and streams closed after the test (not db). */
export async function serveDatabase(t: ExecutionContext, db: DashboardDatabase, options: DashboardOptions = {}): Promise<{ url: string; handler: DashboardHandler }> {
  const handler = dashboard(db, options);
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    await handler.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${options.basePath ?? ''}`, handler };
}

/** A live page's event stream for view: what arrives is collected in events; the request ends after the test. */
export function liveEvents(t: ExecutionContext, url: string, view = '/'): { events: string[]; req: ClientRequest } {
  const events: string[] = [];
  // agent: false — a connection of its own, never an idle keep-alive socket of the global agent
  // (one left to a closed server of an earlier test on the same port would hang up).
  const req = get(`${url}/events?view=${encodeURIComponent(view)}`, { agent: false }, (res) => {
    t.is(res.headers['content-type'], 'text/event-stream; charset=utf-8');
    res.setEncoding('utf8');
    res.on('data', (d: string) => events.push(d));
  });
  // Destroying a request whose response has not arrived yet (a test that ends first, on a
  // loaded machine) makes it emit "socket hang up": expected then, a failure before.
  let ended = false;
  req.on('error', (err) => {
    if (!ended) t.fail(`the live stream ${url}/events failed: ${err.message}`);
  });
  t.teardown(() => {
    ended = true;
    req.destroy();
  });
  return { events, req };
}

/** serveDatabase on the file; the database is closed after the server (teardowns run last-registered first). */
export async function serve(t: ExecutionContext, file: string, options: DashboardOptions = {}, db = open(file)): Promise<Served> {
  t.teardown(() => db.close());
  return { ...(await serveDatabase(t, db, options)), db };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A client that keeps cookies (like a browser) and never follows redirects. */
export class Browserish {
  private readonly jar = new Map<string, string>();

  fetch(url: string, opts: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
      const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const req = request(
        url,
        {
          agent: false, // see liveEvents
          method: opts.method ?? (body ? 'POST' : 'GET'),
          headers: {
            ...(cookie ? { Cookie: cookie } : {}),
            ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
            ...opts.headers,
          },
        },
        (res) => {
          for (const c of res.headers['set-cookie'] ?? []) {
            const [pair] = c.split(';');
            const i = pair!.indexOf('=');
            this.jar.set(pair!.slice(0, i), pair!.slice(i + 1));
          }
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** The session token of a page (its meta tag). */
  static csrf(page: string): string {
    return /<meta name="honker-csrf" content="([^"]+)">/.exec(page)![1]!;
  }
}
