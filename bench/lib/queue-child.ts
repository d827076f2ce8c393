/**
 * A process running one queue library (bench/lib/queues.ts) for the
 * end-to-end, concurrent and wake scenarios:
 *   tsx bench/lib/queue-child.ts <lib> <file> drain <n> <pollMs>
 *       prints {ready}; on "go" consumes until n jobs ran, prints {ms}
 *   tsx bench/lib/queue-child.ts <lib> <file> serve <pollMs>
 *       prints {ready}; consumes, stamping each job's delay since its
 *       payload's t (clock shared across processes); on "stop" prints
 *       {n, delays, rss: {ready, end, peak}} (KiB)
 *   tsx bench/lib/queue-child.ts <lib> <file> share <pollMs>
 *       one of several consumers of one pre-filled queue: prints {ready};
 *       on "go" consumes; on "stop" prints {n, lastAt} (its job count, the
 *       clock at its last job), {wallMs, cpuMs, runqMs} of its main thread
 *       from "go" to "stop" (/proc/self/schedstat) and {rss: {ready, end, peak}}
 *   tsx bench/lib/queue-child.ts <lib> <file> produce <ms> [perS]
 *       prints {ready}; on "go" enqueues {t} one job per transaction for ms,
 *       yielding to the event loop between jobs, flat out or at perS jobs/s;
 *       prints {n}
 */
import { clock, rssSelf, schedSelf } from './measure.js';
import { openQueue, type LibName } from './queues.js';

/** Call onLine with each non-blank line written on stdin. */
function stdinLines(onLine: (line: string) => void): void {
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onLine(line);
    }
  });
}

/** Write one JSON line; resolves once it is flushed (a pipe write can still be pending at process.exit). */
const reply = (obj: unknown): Promise<void> =>
  new Promise((resolve) => process.stdout.write(JSON.stringify(obj) + '\n', () => resolve()));

const [lib, file, mode, arg, pollArg] = process.argv.slice(2) as [LibName, string, string, string, string?];
const q = await openQueue(lib, file);
const stop = new AbortController();
const commands: Record<string, () => void> = {};
stdinLines((line) => commands[line]?.());

if (mode === 'drain') {
  const n = Number(arg);
  let seen = 0;
  let t0 = 0;
  let done: Promise<void> = Promise.resolve();
  commands.go = () => {
    t0 = performance.now();
    void q
      .consume(
        () => {
          if (++seen === n) {
            const ms = performance.now() - t0;
            stop.abort();
            done = reply({ ms, n });
          }
        },
        stop.signal,
        Number(pollArg),
      )
      .then(() => done)
      .then(() => process.exit(0));
  };
  await reply({ ready: true });
} else if (mode === 'serve') {
  const delays: number[] = [];
  const ready = rssSelf().rssKb;
  commands.stop = () => stop.abort();
  await reply({ ready: true });
  await q.consume((p) => void delays.push(clock() - (p.t as number)), stop.signal, Number(arg));
  const { rssKb, peakKb } = rssSelf();
  await reply({ n: delays.length, delays, rss: { ready, end: rssKb, peak: peakKb } });
  process.exit(0);
} else if (mode === 'share') {
  let n = 0;
  let lastAt = 0;
  const ready = rssSelf().rssKb;
  let before = schedSelf();
  let spent = before;
  let goAt = 0;
  let stopAt = 0;
  commands.go = () => {
    before = schedSelf();
    goAt = clock();
    void q
      .consume(() => void (n++, (lastAt = clock())), stop.signal, Number(arg))
      .then(async () => {
        const { rssKb, peakKb } = rssSelf();
        const cpuMs = spent.cpuMs - before.cpuMs;
        await reply({ n, lastAt, wallMs: stopAt - goAt, cpuMs, runqMs: spent.runqMs - before.runqMs, rss: { ready, end: rssKb, peak: peakKb } });
        process.exit(0);
      });
  };
  // Read before stopping: the time the shutdown takes is not the drain's.
  commands.stop = () => {
    spent = schedSelf();
    stopAt = clock();
    stop.abort();
  };
  await reply({ ready: true });
} else if (mode === 'produce') {
  const ms = Number(arg);
  const perS = Number(pollArg ?? 0); // 0: flat out
  commands.go = async () => {
    let n = 0;
    const t0 = performance.now();
    const end = t0 + ms;
    for (let now = t0; now < end; now = performance.now()) {
      if (perS > 0 && n >= ((now - t0) * perS) / 1000) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      await q.enqueue({ t: clock(), n: n++ });
      await new Promise((r) => setImmediate(r));
    }
    await reply({ n });
    process.exit(0);
  };
  await reply({ ready: true });
} else {
  throw new Error(`unknown mode ${mode}`);
}
