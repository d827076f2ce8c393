/**
 * dashboard in a real browser: Debian's chromium driven by playwright-core
 * (it drives the installed browser through executablePath and downloads
 * nothing). Every page renders with data from a populated file; requeueing
 * a dead job moves the row; a commit from another process shows up live;
 * hostile payloads, names and errors render as text and open no dialog;
 * read-only mode has no buttons; a request without the token is refused.
 * Screenshots (desktop 1280 px, phone 390 px) go to a temp directory, or to
 * $HONKER_DASHBOARD_SCREENSHOTS when set (docs/ holds two of them).
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ExecutionContext } from 'ava';
import { fixtureChild } from './helpers/child.js';
import { tempDbPath } from './helpers/db.js';
import { HOSTILE_IMG, HOSTILE_SCRIPT, seed, serve } from './helpers/dashboard.js';
import { testIf } from './helpers/test-if.js';

const CHROMIUM = '/usr/bin/chromium';
const browserTest = testIf(existsSync(CHROMIUM), `no ${CHROMIUM} (apt-get install chromium)`);

/** Chromium with the flags this machine needs; playwright gives it a new empty profile directory. */
async function launch(t: ExecutionContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // No process-wide signal handlers (the guard would see them as left behind); teardown closes it.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    // Not the sanitizer run's LD_PRELOAD (npm run test:sanitize): that is for the extension, not the browser.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'LD_PRELOAD')) as Record<string, string>,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  return browser;
}

/** A page that fails the test on a script error or any dialog (alert, confirm …). */
async function watchedPage(t: ExecutionContext, browser: Browser, width: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  page.on('pageerror', (err) => t.fail(`page error: ${err.message}`));
  page.on('dialog', (d) => {
    t.fail(`a dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  return page;
}

const shotsDir = process.env.HONKER_DASHBOARD_SCREENSHOTS ?? mkdtempSync(path.join(os.tmpdir(), 'honker-dashboard-shots-'));
mkdirSync(shotsDir, { recursive: true });

browserTest('dashboard.browser: every page renders with data at 1280 and 390 px; hostile text stays text; screenshots', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url } = await serve(t, file);
  const browser = await launch(t);
  const evil = encodeURIComponent(HOSTILE_IMG);
  const pages: Array<[string, string, string]> = [
    ['overview', '/', 'emails'],
    ['queue-pending', '/queues/emails', 'user'],
    ['queue-dead', '/queues/emails?state=dead', 'mailbox full'],
    ['queue-hostile', `/queues/${evil}?state=dead`, HOSTILE_SCRIPT],
    ['job', '/jobs/4', 'smtp timeout'],
    ['job-hostile', '/jobs/15', HOSTILE_SCRIPT],
    ['schedules', '/schedules', 'nightly'],
    ['streams', '/streams', 'billing'],
    ['workers', '/workers', 'Workers'],
    ['notifications', `/notifications?channel=${encodeURIComponent(HOSTILE_SCRIPT)}`, HOSTILE_IMG],
  ];
  for (const [device, width] of [['desktop', 1280], ['phone', 390]] as const) {
    const page = await watchedPage(t, browser, width);
    for (const [name, p, expected] of pages) {
      await page.goto(url + p);
      await page.waitForSelector('#live');
      t.true((await page.textContent('#live'))!.includes(expected), `${device} ${name}: shows ${expected}`);
      t.is(await page.locator('#live script, #live img').count(), 0, `${device} ${name}: no element from data`);
      if (name === 'overview') {
        await page.waitForSelector('.chart-box .uplot canvas');
        t.is(await page.locator('.chart-box .uplot').count(), 2, 'two uPlot charts');
      }
      await page.screenshot({ path: path.join(shotsDir, `${device}-${name}.png`), fullPage: true });
    }
    // The hostile queue name is the link's text, not markup.
    await page.goto(url + '/');
    t.is(await page.locator('a.name', { hasText: HOSTILE_IMG }).count(), 1);
    await page.close();
  }
  t.log(`screenshots in ${shotsDir}`);
});

browserTest('dashboard.browser: requeueing a dead job moves its row out of the dead list', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url, db } = await serve(t, file);
  const browser = await launch(t);
  const page = await watchedPage(t, browser, 1280);
  await page.goto(url + '/queues/emails?state=dead');
  const rows = page.locator('table.jobs tbody tr');
  t.is(await rows.count(), 2);
  const id = Number(await rows.first().locator('td').first().textContent());
  await rows.first().getByRole('button', { name: 'Requeue' }).click();
  await page.waitForURL(/state=dead/);
  await page.waitForFunction(() => document.querySelectorAll('table.jobs tbody tr').length === 1);
  t.is(db.queue('emails').getJob(id)?.state, 'pending');
  await page.goto(url + '/queues/emails?state=pending');
  t.true(await page.locator('table.jobs tbody tr td:first-child', { hasText: String(id) }).count() === 1);
});

browserTest('dashboard.browser: a commit from another process shows up live', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const { url } = await serve(t, file);
  const browser = await launch(t);
  const page = await watchedPage(t, browser, 1280);
  await page.goto(url + '/');
  await page.waitForSelector('#live-dot.on');
  t.is(await page.locator('a.name', { hasText: 'live-from-child' }).count(), 0);
  const child = fixtureChild(t, 'client-queue-enqueue', [file, 'live-from-child', '1', '0']);
  await child.nextMatching<{ kind: string }>((l) => l.kind === 'sent');
  const committed = Date.now();
  await page.locator('a.name', { hasText: 'live-from-child' }).waitFor({ timeout: 5000 });
  t.log(`shown ${Date.now() - committed} ms after the other process's commit`);
  t.pass();
});

browserTest('dashboard.browser: read-only mode has no buttons; without the token the page is refused', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const ro = await serve(t, file, { readOnly: true });
  const browser = await launch(t);
  const page = await watchedPage(t, browser, 1280);
  for (const p of ['/', '/queues/emails?state=dead', '/jobs/4', '/jobs/5', '/schedules']) {
    await page.goto(ro.url + p);
    t.is(await page.locator('#live button, #live form[method="post"]').count(), 0, p);
  }
  t.is(await page.locator('.badge-readonly').count(), 1);
  const locked = await serve(t, file, { token: 'open-sesame-42' });
  const refused = await page.goto(locked.url + '/');
  t.is(refused!.status(), 401);
  t.regex((await page.textContent('body'))!, /needs its token/);
  const ok = await page.goto(locked.url + '/?token=open-sesame-42');
  t.is(ok!.status(), 200);
  t.is(new URL(page.url()).search, '', 'the token leaves the address bar');
});
