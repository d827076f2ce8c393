/**
 * dashboard over HTTP (src/dashboard/): status codes and security headers,
 * escaping of hostile names, payloads and errors, the session token on
 * every POST, read-only mode, the access token, mounting under a path, the
 * live stream, and `honker dashboard` (host rule, URL, Ctrl-C).
 */
import test from './helpers/test.js';
import { cliChild, runCli } from './helpers/cli.js';
import { tempDbPath } from './helpers/db.js';
import { Browserish, HOSTILE_IMG, HOSTILE_SCRIPT, liveEvents, seed, serve } from './helpers/dashboard.js';
import { open } from '../src/index.js';
import { assetSizes } from '../src/dashboard/assets.js';
import { sqlData } from '../src/dashboard/data.js';
import { engineOf } from '../src/dashboard/engine.js';

const PAGES = ['/', '/queues/emails', '/queues/emails?state=dead', '/queues/emails?state=scheduled', '/jobs/4', '/jobs/5', '/jobs/7', '/schedules', '/streams', '/workers', '/notifications?channel=orders'];

test('dashboard.pages: every page answers 200 with a strict CSP and no inline script', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url } = await serve(t, file);
  const b = new Browserish();
  for (const path of PAGES) {
    const r = await b.fetch(url + path);
    t.is(r.status, 200, path);
    t.regex(String(r.headers['content-security-policy']), /default-src 'none'; script-src 'self'; style-src 'self'/);
    t.is(r.headers['x-content-type-options'], 'nosniff');
    t.is(r.headers['x-frame-options'], 'DENY');
    t.notRegex(r.body, /<script>|<script [^s]|<[a-z][^>]*\son[a-z]+=/i, `${path}: no inline script or handler`);
    t.regex(r.body, /<script src="\/assets\/dashboard\.js\?v=/);
  }
  t.is((await b.fetch(url + '/nope')).status, 404);
  t.is((await b.fetch(url + '/jobs/999999')).status, 404);
  t.is((await b.fetch(url + '/queues/nope')).status, 404);
  t.is((await b.fetch(url + '/', { method: 'DELETE' })).status, 405);
});

test('dashboard.assets: served from the package with their types, gzipped on request', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url } = await serve(t, file);
  const b = new Browserish();
  const js = await b.fetch(url + '/assets/uPlot.iife.min.js');
  t.is(js.status, 200);
  t.regex(String(js.headers['content-type']), /^text\/javascript/);
  t.regex(js.body, /uPlot/);
  t.is((await b.fetch(url + '/assets/dashboard.css')).headers['content-type'], 'text/css; charset=utf-8');
  t.is((await b.fetch(url + '/assets/dashboard.js', { headers: { 'Accept-Encoding': 'gzip' } })).headers['content-encoding'], 'gzip');
  t.is((await b.fetch(url + '/assets/../package.json')).status, 404);
  const sizes = assetSizes();
  t.log(sizes.map((s) => `${s.name} ${s.bytes} B (${s.gzipBytes} B gzipped)`).join(', '));
  t.true(sizes.reduce((n, s) => n + s.gzipBytes, 0) < 60_000, 'all assets together under 60 KB gzipped');
});

test('dashboard.escaping: hostile queue, channel and schedule names, payloads and errors are text everywhere', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url } = await serve(t, file);
  const b = new Browserish();
  const evil = encodeURIComponent(HOSTILE_IMG);
  const paths = [...PAGES, `/queues/${evil}?state=dead`, `/queues/${evil}?state=pending`, '/jobs/15', '/jobs/16', '/jobs/14', `/notifications?channel=${encodeURIComponent(HOSTILE_SCRIPT)}`, `/queues/${evil}/purge`];
  let seen = 0;
  for (const path of paths) {
    const r = await b.fetch(url + path);
    t.false(r.body.includes(HOSTILE_SCRIPT), `${path}: no raw <script>`);
    t.false(r.body.includes(HOSTILE_IMG), `${path}: no raw <img onerror>`);
    if (r.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;') || r.body.includes('&lt;img src=x onerror=alert(1)&gt;')) seen++;
  }
  t.true(seen >= 6, `the hostile text is shown, escaped, on most pages (${seen})`);
});

test('dashboard.actions: a POST needs the session token; with it a dead job is requeued', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url, db } = await serve(t, file);
  const b = new Browserish();
  const page = await b.fetch(url + '/queues/emails?state=dead');
  const deadId = db.queue('emails').dead.list()[0]!.id;
  // No token, a wrong one, or another browser's (no session cookie): refused, nothing changes.
  t.is((await b.fetch(`${url}/jobs/${deadId}/requeue`, { form: { back: '/' } })).status, 403);
  t.is((await b.fetch(`${url}/jobs/${deadId}/requeue`, { form: { _csrf: 'x'.repeat(43) } })).status, 403);
  const other = new Browserish();
  const r403 = await other.fetch(`${url}/jobs/${deadId}/requeue`, { form: { _csrf: Browserish.csrf(page.body) } });
  t.is(r403.status, 403);
  t.regex(r403.body, /session token/);
  // Another origin: refused even with the token.
  t.is((await b.fetch(`${url}/jobs/${deadId}/requeue`, { form: { _csrf: Browserish.csrf(page.body) }, headers: { Origin: 'http://evil.example' } })).status, 403);
  t.is(db.queue('emails').dead.get(deadId)?.id, deadId);
  const ok = await b.fetch(`${url}/jobs/${deadId}/requeue`, { form: { _csrf: Browserish.csrf(page.body), back: '/queues/emails?state=dead' } });
  t.is(ok.status, 303);
  t.is(ok.headers.location, '/queues/emails?state=dead');
  t.is(db.queue('emails').dead.get(deadId), null);
  t.is(db.queue('emails').getJob(deadId)?.state, 'pending');
  // A back link off the dashboard is not followed.
  const off = await b.fetch(`${url}/schedules/nightly/pause`, { form: { _csrf: Browserish.csrf(page.body), back: 'https://evil.example/' } });
  t.is(off.headers.location, '/');
  // Purge needs its confirmation field.
  t.is((await b.fetch(`${url}/queues/emails/purge`, { form: { _csrf: Browserish.csrf(page.body) } })).status, 400);
  t.is((await b.fetch(`${url}/queues/emails/purge`, { form: { _csrf: Browserish.csrf(page.body), confirm: 'emails' } })).status, 303);
  t.is(db.queue('emails').stats().dead, 0);
});

test('dashboard.actions: requeue all moves every dead job back in batches, cancel and run now act on live jobs', async (t) => {
  const file = tempDbPath(t);
  const { url, db } = await serve(t, file);
  const q = db.queue('bulk', { maxAttempts: 1 });
  db.transaction(() => {
    for (let i = 0; i < 1203; i++) q.enqueue(i); // three batches of 500 or fewer
  });
  for (let left = 1203; left > 0; left -= 200) for (const j of q.claimBatch('w', 200)) j.fail('no');
  t.is(q.stats().dead, 1203);
  const later = q.enqueue('later', { delayS: 3600 });
  const gone = q.enqueue('cancel me');
  const b = new Browserish();
  const csrf = Browserish.csrf((await b.fetch(url + '/')).body);
  t.is((await b.fetch(`${url}/queues/bulk/requeue-all`, { form: { _csrf: csrf, back: '/' } })).status, 303);
  for (const end = Date.now() + 10_000; q.stats().dead > 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  t.like(q.stats(), { dead: 0, pending: 1204 });
  t.is((await b.fetch(`${url}/jobs/${later}/run-now`, { form: { _csrf: csrf, back: '/' } })).status, 303);
  t.true(q.getJob(later)!.runAt <= Math.floor(Date.now() / 1000) + 1);
  t.is((await b.fetch(`${url}/jobs/${gone}/cancel`, { form: { _csrf: csrf, back: '/' } })).status, 303);
  t.is(q.getJob(gone), null);
});

test('dashboard.actions: a requeue batch commits before any other code runs, so no write of another request joins it', async (t) => {
  const db = open(tempDbPath(t));
  t.teardown(() => db.close());
  const q = db.queue('bulk', { maxAttempts: 1 });
  for (let i = 0; i < 3; i++) q.enqueue(i);
  for (const j of q.claimBatch('w', 3)) j.fail('no');
  const data = sqlData(engineOf(db));
  const moved = data.requeueBatch('bulk', 500);
  // What another request's handler would run next: it must not find a transaction open.
  t.false(db.raw.inTransaction, 'the batch committed before requeueBatch returned');
  t.is(await moved, 3);
  t.like(q.stats(), { dead: 0, pending: 3 });
  t.is(await data.requeueBatch('bulk', 500), -1);
});

test('dashboard.readOnly: no forms, every POST refused with a message', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url, db } = await serve(t, file, { readOnly: true });
  const b = new Browserish();
  for (const path of PAGES) t.notRegex((await b.fetch(url + path)).body, /<form[^>]*method="post"/, path);
  const page = await b.fetch(url + '/');
  const r = await b.fetch(`${url}/queues/emails/purge`, { form: { _csrf: Browserish.csrf(page.body), confirm: 'emails' } });
  t.is(r.status, 403);
  t.regex(r.body, /read-only/);
  t.is(db.queue('emails').stats().dead, 2);
});

test('dashboard.token: refused without it, with a message; ?token= sets a cookie; a bearer header works', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url } = await serve(t, file, { token: 'sesame-sesame' });
  const b = new Browserish();
  const no = await b.fetch(url + '/');
  t.is(no.status, 401);
  t.regex(no.body, /needs its token/);
  t.is((await b.fetch(url + '/assets/dashboard.js')).status, 401);
  t.is((await b.fetch(url + '/?token=wrong-token')).status, 401);
  const login = await b.fetch(url + '/queues/emails?token=sesame-sesame');
  t.is(login.status, 303);
  t.is(login.headers.location, '/queues/emails');
  t.is((await b.fetch(url + '/queues/emails')).status, 200);
  t.is((await new Browserish().fetch(url + '/', { headers: { Authorization: 'Bearer sesame-sesame' } })).status, 200);
});

test('dashboard.mount: under a base path of a node:http server, and with Express-style req.baseUrl', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url } = await serve(t, file, { basePath: '/ops/honker' });
  const b = new Browserish();
  const r = await b.fetch(url + '/');
  t.is(r.status, 200);
  t.regex(r.body, /href="\/ops\/honker\/queues\/emails"/);
  t.is((await b.fetch(url + '/assets/dashboard.css')).status, 200);
  t.is((await b.fetch(url.replace('/ops/honker', '/other'))).status, 404);
  // Express strips the mount path from req.url and sets req.baseUrl.
  const { dashboard } = await import('../src/index.js');
  const db = open(file);
  const h = dashboard(db);
  t.teardown(async () => {
    await h.close();
    db.close();
  });
  const body = await new Promise<string>((resolve) => {
    const res = {
      headersSent: false,
      writeHead: () => res,
      end: (text: string) => resolve(text),
    };
    h({ url: '/queues/emails', method: 'GET', headers: {}, baseUrl: '/admin/jobs' } as never, res as never);
  });
  t.regex(body, /href="\/admin\/jobs\/queues\/emails\?state=dead"/);
});

test('dashboard.live: the event stream sends the current view, then an update after a commit from another connection', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url, handler } = await serve(t, file);
  const writer = open(file);
  t.teardown(() => writer.close());
  const { events } = liveEvents(t, url);
  const until = async (pred: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !pred() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
    return pred();
  };
  t.true(await until(() => events.join('').includes('event: update'), 5000));
  t.is(handler.livePages, 1);
  const before = events.join('').split('event: update').length;
  writer.queue('fresh-queue-from-elsewhere').enqueue({ hi: 1 });
  t.true(await until(() => events.join('').split('event: update').length > before, 3000), 'an update within 3 s of the commit');
  t.regex(events.join(''), /fresh-queue-from-elsewhere/);
  t.is((await new Browserish().fetch(`${url}/events?view=${encodeURIComponent('/nope')}`)).status, 404);
});

test('cli dashboard: refuses another address without a token, with a message that says so', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const r = await runCli(['dashboard', file, '--host', '0.0.0.0']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^honker dashboard: --host 0\.0\.0\.0 would let other machines reach the dashboard: pass --token <secret>/);
  const short = await runCli(['dashboard', file, '--token', 'short']);
  t.is(short.code, 2);
  t.regex(short.stderr, /--token must be at least 8 characters/);
  t.is((await runCli(['dashboard', tempDbPath(t, 'missing.db')])).code, 1);
});

test('cli dashboard: prints its URL, serves, refuses a foreign Host, and stops cleanly on SIGINT', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const child = cliChild(t, ['dashboard', file, '--port', '0', '--read-only']);
  const line = await child.nextMatching((l) => l.startsWith('honker dashboard:'), 20_000);
  const url = /at (http:\/\/127\.0\.0\.1:\d+\/) /.exec(line)![1]!;
  t.regex(line, /\(read-only\)/);
  const b = new Browserish();
  const page = await b.fetch(url);
  t.is(page.status, 200);
  t.regex(page.body, /read-only/);
  t.is((await b.fetch(url, { headers: { Host: 'evil.example:80' } })).status, 403, 'DNS rebinding: a foreign Host is refused');
  child.proc.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.proc.once('exit', (c) => resolve(c)));
  t.is(code, 0);
});
