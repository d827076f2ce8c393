/**
 * The dashboard's pages, rendered on the server as plain HTML with the
 * `html` tag (html.ts: every value escaped). A page is a title, an optional
 * set of charts (data for uPlot, drawn by assets/dashboard/dashboard.js) and
 * its live part: the HTML that live.ts renders again after a commit and
 * pushes to every open copy of the page. Forms carry no token here: the
 * page script adds the session's token (handler.ts) to every POST. Pages are
 * async: they read through DashboardData, whichever engine is under it.
 */
import type { ChannelRow, ConsumerRow, DashboardData, HistoryRow, JobRow, ListState, QueueRow, ScheduleRow, StreamRow, WorkerRow } from './data.js';
import { LIST_STATES } from './data.js';
import { html, raw, type Html } from './html.js';

export const PAGE_SIZE = 50;
const RECENT_NOTIFICATIONS = 50;

/** What a view needs besides the data. */
export interface ViewContext {
  base: string;
  readOnly: boolean;
  data: DashboardData;
  /** Running "requeue all" operations, by queue. */
  requeueProgress: ReadonlyMap<string, { done: number; total: number }>;
}

/** One chart: per-minute counts of completed, failed and dead jobs. */
export interface ChartData {
  title: string;
  x: number[];
  completed: number[];
  failed: number[];
  dead: number[];
}

export type NavItem = 'overview' | 'schedules' | 'streams' | 'workers' | 'notifications';

export interface Page {
  title: string;
  nav?: NavItem;
  status?: number;
  charts?: ChartData[];
  live: Html;
}

// --- formatting ----------------------------------------------------------------

/** A unix time as an ISO-like UTC string, with data-ts for the script's relative time. */
function time(ts: number | null | undefined, relative = true): Html {
  if (ts === null || ts === undefined) return html`<span class="muted">–</span>`;
  const iso = new Date(ts * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return html`<time datetime="${new Date(ts * 1000).toISOString()}" title="${iso}"${relative ? html` data-ts="${ts}"` : ''}>${iso}</time>`;
}

/** Seconds as "3s", "4m 10s", "2h 5m", "3d 4h". */
export function age(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** A stored payload: pretty JSON when it parses, else the text as stored. */
export function pretty(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

/** A one-line preview of a payload, at most n characters. */
function preview(payload: string, n = 80): string {
  let text = payload;
  try {
    text = JSON.stringify(JSON.parse(payload));
  } catch {
    // not JSON: shown as stored
  }
  return text.length > n ? text.slice(0, n - 1) + '…' : text;
}

const enc = encodeURIComponent;

function queueUrl(c: ViewContext, queue: string, state?: ListState, page?: number): string {
  const q = new URLSearchParams();
  if (state) q.set('state', state);
  if (page && page > 1) q.set('page', String(page));
  const s = q.toString();
  return `${c.base}/queues/${enc(queue)}${s ? `?${s}` : ''}`;
}

function badge(state: string): Html {
  return html`<span class="badge badge-${state}">${state}</span>`;
}

/** A POST form with one button; nothing in read-only mode. */
function action(c: ViewContext, path: string, label: string, opts: { back: string; kind?: string; fields?: Record<string, string> } ): Html {
  if (c.readOnly) return html``;
  const fields = Object.entries(opts.fields ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
  return html`<form class="inline" method="post" action="${c.base}${path}"><input type="hidden" name="back" value="${opts.back}">${fields}<button type="submit" class="btn ${opts.kind ?? ''}">${label}</button></form>`;
}

/** Columns whose cells are numbers (right-aligned, as their cells). */
const NUMERIC = new Set(['ID', 'Pending', 'Scheduled', 'Processing', 'Dead', 'Oldest pending', 'Done 1h', 'Failed 1h', 'Dead 1h', 'Priority', 'Attempts', 'Attempt', 'Last offset', 'Consumers', 'Offset', 'Lag (events)', 'Slot', 'Claims']);

function table(head: string[], rows: Html[], empty: string, cls = ''): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<div class="table-wrap"><table class="${cls}"><thead><tr>${head.map((h) => html`<th${NUMERIC.has(h) ? raw(' class="num"') : ''}>${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

function section(title: string, body: Html, extra: Html = html``): Html {
  return html`<section class="card"><div class="card-head"><h2>${title}</h2>${extra}</div>${body}</section>`;
}

// --- charts ----------------------------------------------------------------------

/**
 * Per-minute counts from history rows (summed over queues) for [from, to): one
 * point per `bucket` seconds, the value being jobs per minute in that bucket.
 */
export function chart(title: string, rows: readonly HistoryRow[], from: number, to: number, bucket: number): ChartData {
  const n = Math.ceil((to - from) / bucket);
  const out: ChartData = { title, x: [], completed: Array(n).fill(0), failed: Array(n).fill(0), dead: Array(n).fill(0) };
  for (let i = 0; i < n; i++) out.x.push(from + i * bucket);
  const perMinute = 60 / bucket;
  for (const r of rows) {
    const i = Math.floor((r.minute - from) / bucket);
    if (i < 0 || i >= n) continue;
    out.completed[i] += r.completed * perMinute;
    out.failed[i] += r.failed * perMinute;
    out.dead[i] += r.dead * perMinute;
  }
  for (const k of ['completed', 'failed', 'dead'] as const) out[k] = out[k].map((v) => Math.round(v * 100) / 100);
  return out;
}

/** The hour chart (per minute) and the day chart (10-minute buckets) of queue, or of every queue. */
export async function charts(c: ViewContext, queue: string | null, now: number): Promise<ChartData[]> {
  const minute = now - (now % 60);
  const hourFrom = minute - 59 * 60;
  const dayTo = minute + 60 - ((minute + 60) % 600) + 600;
  const dayFrom = dayTo - 86400;
  const rows = await c.data.history(queue, Math.min(hourFrom, dayFrom));
  return [
    chart('Last hour — jobs per minute', rows, hourFrom, minute + 60, 60),
    chart('Last day — jobs per minute (10-minute averages)', rows, dayFrom, dayTo, 600),
  ];
}

function totals(rows: readonly HistoryRow[], since: number): Map<string, { completed: number; failed: number; dead: number }> {
  const out = new Map<string, { completed: number; failed: number; dead: number }>();
  for (const r of rows) {
    if (r.minute < since) continue;
    const t = out.get(r.queue) ?? { completed: 0, failed: 0, dead: 0 };
    t.completed += r.completed;
    t.failed += r.failed;
    t.dead += r.dead;
    out.set(r.queue, t);
  }
  return out;
}

// --- pages -------------------------------------------------------------------------

async function queuesTable(c: ViewContext, queues: readonly QueueRow[], now: number): Promise<Html> {
  const hour = totals(await c.data.history(null, now - (now % 60) - 59 * 60), 0);
  const rows = queues.map((q) => {
    const t = hour.get(q.queue) ?? { completed: 0, failed: 0, dead: 0 };
    return html`<tr>
<td><a class="name" href="${queueUrl(c, q.queue)}">${q.queue}</a></td>
<td class="num"><a href="${queueUrl(c, q.queue, 'pending')}">${num(q.pending)}</a></td>
<td class="num"><a href="${queueUrl(c, q.queue, 'scheduled')}">${num(q.scheduled)}</a></td>
<td class="num"><a href="${queueUrl(c, q.queue, 'processing')}">${num(q.processing)}</a></td>
<td class="num${q.dead > 0 ? ' warn' : ''}"><a href="${queueUrl(c, q.queue, 'dead')}">${num(q.dead)}</a></td>
<td class="num">${q.oldest_pending_at === null ? html`<span class="muted">–</span>` : html`<span data-age="${q.oldest_pending_at}">${age(now - q.oldest_pending_at)}</span>`}</td>
<td class="num">${num(t.completed)}</td><td class="num">${num(t.failed)}</td><td class="num">${num(t.dead)}</td>
</tr>`;
  });
  return table(
    ['Queue', 'Pending', 'Scheduled', 'Processing', 'Dead', 'Oldest pending', 'Done 1h', 'Failed 1h', 'Dead 1h'],
    rows,
    'No queues yet: enqueue a job and it shows here.',
    'queues',
  );
}

function schedulesTable(c: ViewContext, schedules: readonly ScheduleRow[], back: string): Html {
  const rows = schedules.map(
    (s) => html`<tr>
<td class="name">${s.name}</td><td><a href="${queueUrl(c, s.queue)}">${s.queue}</a></td><td><code>${s.cron_expr}</code></td>
<td>${s.enabled ? time(s.next_fire_at) : html`<span class="muted">paused</span>`}</td>
<td>${badge(s.enabled ? 'active' : 'paused')}</td>
<td class="actions">${s.enabled ? action(c, `/schedules/${enc(s.name)}/pause`, 'Pause', { back }) : action(c, `/schedules/${enc(s.name)}/resume`, 'Resume', { back })}</td>
</tr>`,
  );
  return table(['Name', 'Queue', 'Schedule', 'Next fire', 'State', ''], rows, 'No schedules.');
}

function streamsTables(streams: readonly StreamRow[], consumers: readonly ConsumerRow[]): Html {
  const srows = streams.map(
    (s) => html`<tr><td class="name">${s.topic}</td><td class="num">${num(s.head)}</td><td>${time(s.last_at)}</td><td class="num">${num(s.consumers)}</td></tr>`,
  );
  const crows = consumers.map(
    (k) =>
      html`<tr><td class="name">${k.topic}</td><td>${k.consumer}</td><td class="num">${num(k.offset)}</td><td class="num">${num(k.head)}</td><td class="num${k.lag > 0 ? ' warn' : ''}">${num(k.lag)}${k.lag >= 1_000_000 ? '+' : ''}</td></tr>`,
  );
  return html`${table(['Topic', 'Last offset', 'Last event', 'Consumers'], srows, 'No streams.')}
<h3>Consumers</h3>${table(['Topic', 'Consumer', 'Offset', 'Last offset', 'Lag (events)'], crows, 'No named consumers.')}`;
}

export async function overviewPage(c: ViewContext): Promise<Page> {
  const now = await c.data.now();
  const [queues, schedules, streams, consumers] = await Promise.all([c.data.queues(), c.data.schedules(), c.data.streams(), c.data.consumers()]);
  const live = html`${section('Queues', await queuesTable(c, queues, now))}
${section('Schedules', schedulesTable(c, schedules, `${c.base}/`), html`<a class="more" href="${c.base}/schedules">All schedules →</a>`)}
${section('Streams', streamsTables(streams, consumers), html`<a class="more" href="${c.base}/streams">Streams →</a>`)}`;
  return { title: 'Overview', nav: 'overview', charts: await charts(c, null, now), live };
}

function jobRow(c: ViewContext, j: JobRow, state: ListState, back: string): Html {
  const when = state === 'dead' ? time(j.died_at) : state === 'processing' ? time(j.claim_expires_at) : time(j.run_at);
  const act =
    state === 'dead'
      ? action(c, `/jobs/${j.id}/requeue`, 'Requeue', { back })
      : state === 'scheduled'
        ? action(c, `/jobs/${j.id}/run-now`, 'Run now', { back })
        : html``;
  return html`<tr>
<td class="num"><a href="${c.base}/jobs/${j.id}">${j.id}</a></td>
<td>${when}</td><td class="num">${j.priority}</td><td class="num">${j.attempts}/${j.max_attempts}</td>
${state === 'processing' ? html`<td>${j.worker_id}</td>` : ''}
<td class="payload"><code>${preview(j.payload)}</code></td>
<td class="error">${j.last_error ?? ''}</td>
<td class="actions">${act}</td>
</tr>`;
}

export async function queuePage(c: ViewContext, queue: string, state: ListState, page: number, back: string): Promise<Page> {
  const now = await c.data.now();
  const stats = (await c.data.queues()).find((q) => q.queue === queue);
  if (!stats) {
    return {
      title: `Queue ${queue}`,
      status: 404,
      live: section('Unknown queue', html`<p>No queue named <strong class="name">${queue}</strong> has a live or dead job.</p><p><a href="${c.base}/">Back to the overview</a></p>`),
    };
  }
  const jobs = await c.data.jobs(queue, state, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE);
  const more = jobs.length > PAGE_SIZE;
  const tabs = LIST_STATES.map(
    (s) => html`<a class="tab${s === state ? ' active' : ''}" href="${queueUrl(c, queue, s)}">${s} <span class="count">${num(stats[s])}</span></a>`,
  );
  const whenHead = state === 'dead' ? 'Died' : state === 'processing' ? 'Claim expires' : 'Run at';
  const head = ['ID', whenHead, 'Priority', 'Attempts', ...(state === 'processing' ? ['Worker'] : []), 'Payload', 'Last error', ''];
  const progress = c.requeueProgress.get(queue);
  const deadTools =
    state === 'dead' && !c.readOnly && stats.dead > 0
      ? html`<div class="tools">${action(c, `/queues/${enc(queue)}/requeue-all`, `Requeue all ${num(stats.dead)}`, { back })}<a class="btn danger" href="${c.base}/queues/${enc(queue)}/purge">Purge…</a></div>`
      : html``;
  const progressBar = progress
    ? html`<div class="progress" role="status"><progress max="${progress.total}" value="${progress.done}"></progress> requeued ${num(progress.done)} of ${num(progress.total)}</div>`
    : html``;
  const pager = html`<nav class="pager">${page > 1 ? html`<a class="btn" href="${queueUrl(c, queue, state, page - 1)}">← Newer</a>` : ''}<span class="muted">page ${page}</span>${more ? html`<a class="btn" href="${queueUrl(c, queue, state, page + 1)}">Older →</a>` : ''}</nav>`;
  const live = html`<div class="tabs">${tabs}</div>
${progressBar}${deadTools}
${table(head, jobs.slice(0, PAGE_SIZE).map((j) => jobRow(c, j, state, back)), `No ${state} jobs.`, 'jobs')}
${pager}`;
  return { title: `Queue ${queue}`, charts: await charts(c, queue, now), live: section(`Queue ${queue}`, live) };
}

export async function jobPage(c: ViewContext, id: number, back: string): Promise<Page> {
  const job = await c.data.job(id);
  if (!job) {
    return {
      title: `Job ${id}`,
      status: 404,
      live: section(`Job ${id}`, html`<p>No live or dead job has id ${id}: it was acked, cancelled or purged.</p><p><a href="${c.base}/">Back to the overview</a></p>`),
    };
  }
  const now = await c.data.now();
  const state = job.state === 'pending' && job.run_at > now ? 'scheduled' : job.state;
  const errors = await c.data.jobErrors(id);
  const facts: Array<[string, Html | string | number]> = [
    ['Queue', html`<a href="${queueUrl(c, job.queue)}">${job.queue}</a>`],
    ['State', badge(state)],
    ['Attempts', `${job.attempts} of ${job.max_attempts}`],
    ['Priority', job.priority],
    ['Worker', job.worker_id ?? html`<span class="muted">–</span>`],
    ['Created', time(job.created_at)],
    ['Run at', time(job.run_at)],
  ];
  if (job.claim_expires_at !== null) facts.push(['Claim expires', time(job.claim_expires_at)]);
  if (job.expires_at !== null) facts.push(['Expires', time(job.expires_at)]);
  if (job.died_at !== undefined) facts.push(['Died', time(job.died_at)]);
  const actions =
    state === 'dead'
      ? action(c, `/jobs/${id}/requeue`, 'Retry now (requeue)', { back })
      : html`${state === 'scheduled' ? action(c, `/jobs/${id}/run-now`, 'Retry now', { back }) : ''}${action(c, `/jobs/${id}/cancel`, 'Cancel', { back, kind: 'danger' })}`;
  const errorRows = errors.map((e) => html`<tr><td class="num">${e.attempt}</td><td>${time(e.created_at)}</td><td class="error"><pre>${e.error}</pre></td></tr>`);
  const body = html`<dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
${c.readOnly ? '' : html`<div class="tools">${actions}</div>`}
<h3>Payload</h3><pre class="payload-full">${pretty(job.payload)}</pre>
<h3>Errors</h3>${table(['Attempt', 'At', 'Error'], errorRows, job.last_error ? '' : 'No failed attempt.')}
${errors.length === 0 && job.last_error ? html`<pre class="error">${job.last_error}</pre>` : ''}`;
  return { title: `Job ${id}`, live: section(`Job ${id}`, body) };
}

export async function purgePage(c: ViewContext, queue: string): Promise<Page> {
  const stats = (await c.data.queues()).find((q) => q.queue === queue);
  const dead = stats?.dead ?? 0;
  const back = queueUrl(c, queue, 'dead');
  const body = c.readOnly
    ? html`<p>This dashboard is read-only.</p>`
    : dead === 0
      ? html`<p>Queue <strong class="name">${queue}</strong> has no dead job.</p><p><a href="${back}">Back</a></p>`
      : html`<p>Delete all <strong>${num(dead)}</strong> dead jobs of queue <strong class="name">${queue}</strong> and their error history? This cannot be undone.</p>
<div class="tools">${action(c, `/queues/${enc(queue)}/purge`, `Purge ${num(dead)} dead jobs`, { back, kind: 'danger', fields: { confirm: queue } })}<a class="btn" href="${back}">Keep them</a></div>`;
  return { title: `Purge ${queue}`, live: section('Purge dead jobs', body) };
}

export async function schedulesPage(c: ViewContext): Promise<Page> {
  return { title: 'Schedules', nav: 'schedules', live: section('Schedules', schedulesTable(c, await c.data.schedules(), `${c.base}/schedules`)) };
}

export async function streamsPage(c: ViewContext): Promise<Page> {
  const [streams, consumers] = await Promise.all([c.data.streams(), c.data.consumers()]);
  return { title: 'Streams', nav: 'streams', live: section('Streams', streamsTables(streams, consumers)) };
}

export async function workersPage(c: ViewContext): Promise<Page> {
  const workers: WorkerRow[] = await c.data.workers();
  const claims = new Map<string, JobRow[]>();
  for (const q of await c.data.queues()) {
    if (q.processing === 0) continue;
    for (const j of await c.data.jobs(q.queue, 'processing', 200, 0)) {
      const list = claims.get(j.worker_id ?? '') ?? [];
      list.push(j);
      claims.set(j.worker_id ?? '', list);
    }
  }
  const claimList = (jobs: readonly JobRow[] | undefined): Html =>
    jobs?.length
      ? html`${jobs.map((j) => html`<a class="chip" href="${c.base}/jobs/${j.id}" title="${j.queue}: claim expires ${new Date((j.claim_expires_at ?? 0) * 1000).toISOString()}">${j.queue}#${j.id}</a>`)}`
      : html`<span class="muted">none</span>`;
  const rows = workers.map(
    (w) => html`<tr>
<td class="name">${w.worker_id}</td><td>${badge(w.alive ? 'alive' : 'dead')}</td>
<td>${w.alive ? html`now <span class="muted">(holds its lock)</span>` : html`<span class="muted">gone; its claims lapse at the next claim</span>`}</td>
<td>${w.host} <span class="muted">pid ${w.pid}</span></td><td class="num">${w.slot}</td><td>${time(w.registered_at)}</td>
<td class="num">${num(w.claims)}</td><td>${claimList(claims.get(w.worker_id))}</td>
</tr>`,
  );
  const registered = new Set(workers.map((w) => w.worker_id));
  const others = [...claims.entries()].filter(([id]) => !registered.has(id));
  const otherRows = others.map(
    ([id, jobs]) =>
      html`<tr><td class="name">${id}</td><td class="num">${num(jobs.length)}</td><td>${time(Math.max(...jobs.map((j) => j.claim_expires_at ?? 0)))}</td><td>${claimList(jobs)}</td></tr>`,
  );
  const body = html`${table(['Worker', 'State', 'Last seen', 'Host', 'Slot', 'Registered', 'Claims', 'Jobs it holds'], rows, 'No registered worker.')}
<h3>Claims by unregistered workers</h3>
<p class="muted">Workers that never called honker_worker_register are rescued by the visibility timeout only.</p>
${table(['Worker', 'Claims', 'Latest claim expiry', 'Jobs it holds'], otherRows, 'None.')}`;
  return { title: 'Workers', nav: 'workers', live: section('Workers', body) };
}

export async function notificationsPage(c: ViewContext, channel: string | undefined): Promise<Page> {
  const channels: ChannelRow[] = await c.data.channels();
  const list = channels.map(
    (ch) =>
      html`<a class="tab${ch.channel === channel ? ' active' : ''}" href="${c.base}/notifications?channel=${enc(ch.channel)}">${ch.channel} <span class="count">#${ch.last_id}</span></a>`,
  );
  const picker = html`<form class="channel" method="get" action="${c.base}/notifications"><label>Channel <input name="channel" value="${channel ?? ''}" placeholder="orders" required></label><button class="btn" type="submit">Tail</button></form>`;
  let tail: Html = html`<p class="empty">Pick a channel to tail its notifications live.</p>`;
  if (channel !== undefined) {
    const rows = (await c.data.recentNotifications(channel, RECENT_NOTIFICATIONS)).map((n) => html`<tr><td class="num">${n.id}</td><td>${time(n.created_at)}</td><td class="payload"><code>${preview(n.payload, 200)}</code></td></tr>`);
    tail = html`<h3>Newest on <span class="name">${channel}</span> <span class="live-note">live</span></h3>${table(['ID', 'At', 'Payload'], rows, 'No notification on this channel yet; new ones appear here as they commit.', 'tail')}`;
  }
  return {
    title: channel === undefined ? 'Notifications' : `Notifications on ${channel}`,
    nav: 'notifications',
    live: section('Notifications', html`${picker}<div class="tabs wrap">${list}</div>${tail}`),
  };
}

export function messagePage(title: string, message: string, status: number, base: string): Page {
  return { title, status, live: section(title, html`<p>${message}</p><p><a href="${base}/">Back to the overview</a></p>`) };
}

// --- layout --------------------------------------------------------------------------

const NAV: Array<[NavItem, string, string]> = [
  ['overview', 'Overview', '/'],
  ['schedules', 'Schedules', '/schedules'],
  ['streams', 'Streams', '/streams'],
  ['workers', 'Workers', '/workers'],
  ['notifications', 'Notifications', '/notifications'],
];

export interface LayoutOptions {
  base: string;
  /** The database the header names: a file's path or a URL without its password. */
  file: string;
  readOnly: boolean;
  csrf: string;
  /** The path and query this page was rendered for (the live view's key). */
  view: string;
  assetVersion: string;
}

/** The whole document around a page. */
export function layout(page: Page, o: LayoutOptions): string {
  const nav = NAV.map(([key, label, path]) => html`<a href="${o.base}${path}"${page.nav === key ? raw(' class="active" aria-current="page"') : ''}>${label}</a>`);
  const chartDivs = page.charts?.map((ch, i) => html`<figure class="chart card"><figcaption>${ch.title}</figcaption><div class="chart-box" id="chart-${i}" data-chart="${JSON.stringify(ch)}"></div></figure>`);
  const v = o.assetVersion;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · honker</title><link rel="icon" href="data:,">
<meta name="honker-csrf" content="${o.csrf}">
<link rel="stylesheet" href="${o.base}/assets/uPlot.min.css?v=${v}"><link rel="stylesheet" href="${o.base}/assets/dashboard.css?v=${v}">
<script src="${o.base}/assets/uPlot.iife.min.js?v=${v}" defer></script><script src="${o.base}/assets/dashboard.js?v=${v}" defer></script>
</head><body data-base="${o.base}" data-view="${o.view}">
<header class="top"><a class="brand" href="${o.base}/">honker</a><span class="file" title="${o.file}">${o.file}</span>${o.readOnly ? html`<span class="badge badge-readonly">read-only</span>` : ''}<span id="live-dot" class="live-dot" title="connecting">live</span></header>
<nav class="nav">${nav}</nav>
<main>${chartDivs?.length ? html`<div class="charts">${chartDivs}</div>` : ''}<div id="live">${page.live}</div></main>
</body></html>`.text;
}
