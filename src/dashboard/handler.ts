/**
 * dashboard(db, options): the request handler behind `honker dashboard` and
 * behind a dashboard mounted in an application's own server — a
 * `(req, res, next?) => void` for node:http, Express (it reads req.baseUrl
 * when mounted with app.use), Fastify or Hono's node adapter.
 *
 * Each request, in order:
 *   1. security headers on every answer: a strict Content-Security-Policy
 *      (scripts, styles, connections only from this origin; no inline code),
 *      nosniff, no framing, no referrer;
 *   2. the token, when one is set: `Authorization: Bearer <token>`, or the
 *      cookie set after a visit to `…/?token=<token>` (then redirected to
 *      the same URL without it); anything else is 401 with a message that
 *      says how to get in;
 *   3. the session: a random cookie per browser (HttpOnly, SameSite=Strict);
 *      every action is a POST carrying the session's token (an HMAC of the
 *      cookie, put in forms by the page script), else 403 — so another site
 *      cannot make a browser act here (CSRF); a POST from another Origin is
 *      403 too; read-only mode refuses every POST with 403;
 *   4. the route: pages (views.ts), the live stream (live.ts), assets
 *      (assets.ts), actions (data.ts).
 *
 * db is either engine's database (engine.ts): a SQLite Connection (open())
 * or a Postgres one (openPostgres() from 'honker/postgres').
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { HonkerError } from '../errors.js';
import { asset, packageVersion } from './assets.js';
import { LIST_STATES, sqlData, type ListState } from './data.js';
import { engineOf, type DashboardDatabase } from './engine.js';
import { LiveHub, type LiveRender } from './live.js';
import * as views from './views.js';

export interface DashboardOptions {
  /**
   * The path the dashboard is mounted under in a node:http server, e.g.
   * '/honker' (default: the root). Express's app.use('/honker', …) needs
   * none: req.baseUrl says it.
   */
  basePath?: string;
  /** Show no actions and refuse every POST (403). Default false. */
  readOnly?: boolean;
  /** When set, every request must carry it (see the file header). */
  token?: string;
}

/** A request handler for node:http and Express-style servers, with close(). */
export interface DashboardHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** End every live stream and refuse new ones; the database stays open (it is yours). */
  close(): Promise<void>;
  /** Open live pages (event streams). */
  readonly livePages: number;
}

const REQUEUE_BATCH = 500;
const MAX_BODY = 16 * 1024;
const SESSION_COOKIE = 'honker_session';
const AUTH_COOKIE = 'honker_auth';

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function hmac(key: string | Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

/** '' or '/path' without a trailing slash. */
function normalizeBase(base: string | undefined): string {
  if (base === undefined || base === '' || base === '/') return '';
  if (!base.startsWith('/')) throw new HonkerError('INVALID_ARGUMENT', `dashboard: basePath must start with '/' (got '${base}')`);
  return base.replace(/\/+$/, '');
}

function text(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(message + '\n');
}

async function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  const parsed = (req as { body?: unknown }).body; // a body parser (Express, Fastify) read it already
  if (parsed && typeof parsed === 'object' && !Buffer.isBuffer(parsed)) {
    return new URLSearchParams(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HonkerError('INVALID_ARGUMENT', 'request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The dashboard of db (see the file header and README "Dashboard"). */
export function dashboard(db: DashboardDatabase, options: DashboardOptions = {}): DashboardHandler {
  const engine = engineOf(db);
  const basePath = normalizeBase(options.basePath);
  const readOnly = options.readOnly === true;
  const token = options.token;
  if (token !== undefined && (typeof token !== 'string' || token.length < 8)) {
    throw new HonkerError('INVALID_ARGUMENT', 'dashboard: token must be a string of at least 8 characters');
  }
  const secret = randomBytes(32);
  const authValue = token === undefined ? undefined : hmac(token, 'honker-dashboard-auth');
  const data = sqlData(engine);
  const requeueProgress = new Map<string, { done: number; total: number }>();
  const running = new Set<Promise<void>>();
  const assetVersion = packageVersion();

  /** The page a view (path and query under the base) shows, or undefined for no such page. */
  async function page(base: string, view: string): Promise<views.Page | undefined> {
    const url = new URL(view, 'http://dashboard.invalid');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const c: views.ViewContext = { base, readOnly, data, requeueProgress };
    const back = base + view;
    if (parts.length === 0) return views.overviewPage(c);
    if (parts[0] === 'queues' && parts.length === 2) {
      const state = (url.searchParams.get('state') ?? 'pending') as ListState;
      if (!LIST_STATES.includes(state)) return views.messagePage('Unknown state', `state must be one of ${LIST_STATES.join(', ')}`, 400, base);
      const pageNo = Math.max(1, Math.min(1_000_000, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1));
      return views.queuePage(c, parts[1]!, state, pageNo, back);
    }
    if (parts[0] === 'queues' && parts.length === 3 && parts[2] === 'purge') return views.purgePage(c, parts[1]!);
    if (parts[0] === 'jobs' && parts.length === 2 && /^\d{1,15}$/.test(parts[1]!)) return views.jobPage(c, Number(parts[1]), back);
    if (parts.length === 1) {
      if (parts[0] === 'schedules') return views.schedulesPage(c);
      if (parts[0] === 'streams') return views.streamsPage(c);
      if (parts[0] === 'workers') return views.workersPage(c);
      if (parts[0] === 'notifications') {
        const channel = url.searchParams.get('channel');
        return views.notificationsPage(c, channel === null || channel === '' ? undefined : channel);
      }
    }
    return undefined;
  }

  const hubs = new Map<string, LiveHub>(); // one per base (a handler mounted at two paths has two)
  function hub(base: string): LiveHub {
    let h = hubs.get(base);
    if (!h) {
      const render = async (view: string): Promise<LiveRender> => {
        const p = await page(base, view);
        if (!p) return { json: undefined, nextDueS: 0 };
        const now = await data.now();
        return { json: JSON.stringify({ live: p.live.text, charts: p.charts }), nextDueS: await data.nextDue(await data.queues(), now) };
      };
      h = new LiveHub(() => engine.liveSource(), render, SECURITY_HEADERS);
      hubs.set(base, h);
    }
    return h;
  }

  async function requeueAll(queue: string): Promise<void> {
    if (requeueProgress.has(queue)) return;
    const progress = { done: 0, total: 0 };
    requeueProgress.set(queue, progress); // before the read below: a second click meanwhile finds it
    let total: number;
    try {
      total = (await data.queues()).find((q) => q.queue === queue)?.dead ?? 0;
    } catch (err) {
      requeueProgress.delete(queue);
      throw err;
    }
    if (total === 0) {
      requeueProgress.delete(queue);
      return;
    }
    progress.total = total;
    const work = (async () => {
      try {
        // Bounded by the count at the start: a job that dies again meanwhile is not requeued twice.
        while (progress.done < total && engine.isOpen) {
          const n = await data.requeueBatch(queue, Math.min(REQUEUE_BATCH, total - progress.done));
          if (n < 0) break;
          progress.done += n;
          await yieldLoop(); // other requests, and the live push of this batch's commit
        }
      } finally {
        requeueProgress.delete(queue);
      }
    })();
    running.add(work);
    work.finally(() => running.delete(work)).catch(() => undefined);
  }

  async function act(base: string, parts: string[], form: URLSearchParams): Promise<boolean> {
    const [kind, name, verb] = parts;
    if (kind === 'jobs' && /^\d{1,15}$/.test(name ?? '')) {
      const id = Number(name);
      if (verb === 'cancel') return data.cancel(id);
      if (verb === 'run-now') return data.runNow(id);
      if (verb === 'requeue') return data.requeue(id);
    }
    if (kind === 'queues' && name !== undefined) {
      if (verb === 'requeue-all') {
        await requeueAll(name);
        return true;
      }
      if (verb === 'purge') {
        if (form.get('confirm') !== name) throw new HonkerError('INVALID_ARGUMENT', 'purge needs its confirmation');
        await data.purge(name);
        return true;
      }
    }
    if (kind === 'schedules' && name !== undefined) {
      if (verb === 'pause') return data.pause(name);
      if (verb === 'resume') return data.resume(name);
    }
    void base;
    throw new HonkerError('INVALID_ARGUMENT', 'no such action');
  }

  async function handle(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void> {
    // 1. Where we are mounted, and the path under it.
    const expressBase = (req as { baseUrl?: unknown }).baseUrl;
    const rawUrl = req.url ?? '/';
    let base = basePath;
    let rest = rawUrl;
    if (typeof expressBase === 'string') {
      base = normalizeBase(expressBase);
    } else if (base) {
      if (rawUrl !== base && !rawUrl.startsWith(base + '/') && !rawUrl.startsWith(base + '?')) {
        if (next) return next();
        return text(res, 404, 'not found');
      }
      rest = rawUrl.slice(base.length);
    }
    if (!rest.startsWith('/')) rest = '/' + rest;
    const url = new URL(rest, 'http://dashboard.invalid');
    const method = req.method ?? 'GET';
    const jar = cookies(req);

    // 2. The token.
    if (authValue !== undefined) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const given = url.searchParams.get('token');
      const ok = (bearer !== undefined && same(bearer, token!)) || same(jar.get(AUTH_COOKIE) ?? '', authValue);
      if (!ok && given !== null && same(given, token!) && (method === 'GET' || method === 'HEAD')) {
        url.searchParams.delete('token');
        const location = base + url.pathname + (url.search || '');
        res.writeHead(303, {
          ...SECURITY_HEADERS,
          'Set-Cookie': `${AUTH_COOKIE}=${authValue}; Path=${base || '/'}; HttpOnly; SameSite=Strict`,
          Location: location,
          'Cache-Control': 'no-store',
        });
        res.end();
        return;
      }
      if (!ok) {
        return text(
          res,
          401,
          'honker dashboard: this dashboard needs its token. Open the URL that `honker dashboard` printed (it ends in ?token=...), or send the header Authorization: Bearer <token>.',
          { 'WWW-Authenticate': 'Bearer realm="honker dashboard"' },
        );
      }
    }

    // 3. The session.
    let session = jar.get(SESSION_COOKIE);
    const sessionHeaders: Record<string, string> = {};
    if (!session || !/^[A-Za-z0-9_-]{20,100}$/.test(session)) {
      session = randomBytes(24).toString('base64url');
      sessionHeaders['Set-Cookie'] = `${SESSION_COOKIE}=${session}; Path=${base || '/'}; HttpOnly; SameSite=Strict`;
    }
    const csrf = hmac(secret, session);
    const parts = url.pathname.split('/').filter(Boolean);

    // 4. Routes.
    if (parts[0] === 'assets' && parts.length === 2 && (method === 'GET' || method === 'HEAD')) {
      const a = asset(parts[1]!);
      if (!a) return text(res, 404, 'no such asset');
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': a.type,
        'Cache-Control': 'public, max-age=31536000, immutable',
        Vary: 'Accept-Encoding',
        ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
        'Content-Length': String(gzip ? a.gzip.length : a.body.length),
      });
      res.end(gzip ? a.gzip : a.body);
      return;
    }
    if (parts[0] === 'events' && parts.length === 1 && method === 'GET') {
      const view = url.searchParams.get('view') ?? '/';
      if (!view.startsWith('/') || view.startsWith('//') || (await page(base, view)) === undefined) return text(res, 404, 'no such view');
      hub(base).add(res, view);
      return;
    }
    if (method === 'POST') {
      if (readOnly) return text(res, 403, 'honker dashboard: this dashboard is read-only (started with --read-only): actions are refused.');
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== 'null' && req.headers.host !== undefined && new URL(origin).host !== req.headers.host) {
        return text(res, 403, 'honker dashboard: a request from another origin is refused.');
      }
      let form: URLSearchParams;
      try {
        form = await readBody(req);
      } catch (err) {
        return text(res, 413, `honker dashboard: ${(err as Error).message}`);
      }
      if (!same(form.get('_csrf') ?? '', csrf) || sessionHeaders['Set-Cookie']) {
        return text(res, 403, 'honker dashboard: missing or wrong session token (reload the page and try again).', sessionHeaders);
      }
      try {
        await act(base, parts, form);
      } catch (err) {
        if (err instanceof HonkerError && err.code === 'INVALID_ARGUMENT') return text(res, 400, `honker dashboard: ${err.message}`);
        throw err;
      }
      const back = form.get('back') ?? '';
      const safeBack = back.startsWith(base + '/') && !back.startsWith('//') && !/[\r\n]/.test(back) ? back : base + '/';
      res.writeHead(303, { ...SECURITY_HEADERS, Location: safeBack, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return text(res, 405, 'method not allowed', { Allow: 'GET, HEAD, POST' });
    const view = url.pathname + url.search;
    const p = await page(base, view);
    if (!p) {
      if (next && typeof expressBase !== 'string' && !basePath) return next();
      const missing = views.messagePage('Not found', `There is no dashboard page at ${url.pathname}.`, 404, base);
      return sendPage(res, missing, base, view, csrf, sessionHeaders);
    }
    sendPage(res, p, base, view, csrf, sessionHeaders);
  }

  function sendPage(res: ServerResponse, p: views.Page, base: string, view: string, csrf: string, headers: Record<string, string>): void {
    const body = views.layout(p, { base, file: engine.label, readOnly, csrf, view, assetVersion });
    res.writeHead(p.status ?? 200, { ...SECURITY_HEADERS, ...headers, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(body);
  }

  const handler = ((req, res, next) => {
    handle(req, res, next).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (next) return next(err);
      text(res, 500, `honker dashboard: ${err instanceof Error ? err.message : String(err)}`);
    });
  }) as DashboardHandler;
  Object.defineProperty(handler, 'livePages', { get: () => [...hubs.values()].reduce((n, h) => n + h.size, 0) });
  handler.close = async () => {
    for (const h of hubs.values()) h.close();
    await Promise.allSettled([...running]);
  };
  return handler;
}
