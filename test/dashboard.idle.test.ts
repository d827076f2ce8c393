/**
 * dashboard idle cost: 100 open live pages (plain HTTP clients holding the
 * event stream, not browsers) cost the `honker dashboard` process under 1%
 * of a core while nothing happens. Measured from /proc/<pid>/stat (utime +
 * stime) over 10 s and asserted with a 10x margin (< 10%), as the machine is
 * shared; the figure is logged.
 */
import { readFileSync } from 'node:fs';
import { Agent, get, type ClientRequest } from 'node:http';
import { cliChild } from './helpers/cli.js';
import { tempDbPath } from './helpers/db.js';
import { seed } from './helpers/dashboard.js';
import { sleep } from './helpers/client.js';
import { testIf } from './helpers/test-if.js';

const PAGES = 100;
const WINDOW_MS = 10_000;

/** utime + stime of pid, in clock ticks (100 per second on Linux). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

testIf(process.platform === 'linux', 'reads /proc')('dashboard.idle: 100 open live pages cost under 1% of a core while nothing happens', async (t) => {
  const file = tempDbPath(t);
  seed(file);
  const child = cliChild(t, ['dashboard', file, '--port', '0']);
  const line = await child.nextMatching((l) => l.startsWith('honker dashboard:'), 20_000);
  const url = /at (http:\/\/127\.0\.0\.1:\d+)\/ /.exec(line)![1]!;
  const agent = new Agent({ keepAlive: false, maxSockets: PAGES * 2 });
  const requests: ClientRequest[] = [];
  t.teardown(() => {
    for (const r of requests) r.destroy();
    agent.destroy();
  });
  let updates = 0;
  const views = ['/', '/queues/emails', '/queues/emails?state=dead', '/workers', '/streams'];
  await Promise.all(
    Array.from({ length: PAGES }, (_, i) =>
      new Promise<void>((resolve, reject) => {
        const req = get(`${url}/events?view=${encodeURIComponent(views[i % views.length]!)}`, { agent }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (d.includes('event: update')) {
              if (++updates <= PAGES) resolve();
            }
          });
        });
        req.on('error', reject);
        requests.push(req);
      }),
    ),
  );
  await sleep(1500); // the connections' own start-up settles
  const pid = child.proc.pid!;
  const before = cpuTicks(pid);
  const t0 = performance.now();
  await sleep(WINDOW_MS);
  const percent = ((cpuTicks(pid) - before) * 10 * 100) / (performance.now() - t0); // ticks of 10 ms
  t.log(`${PAGES} open pages, ${WINDOW_MS / 1000} s idle: ${percent.toFixed(2)}% of one core (${updates} updates sent, all at connect)`);
  t.is(updates, PAGES, 'nothing was pushed while nothing happened');
  t.true(percent < 10, `${percent.toFixed(2)}% of a core (target < 1%, asserted with a 10x margin)`);
});
