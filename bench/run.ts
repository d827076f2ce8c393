/**
 * `npm run bench [-- --quick] [--only enqueue,claim,…] [--json file] [--markdown file]`
 *
 * Runs the scenarios in order, prints each as a table (every figure next to
 * the baseline it was measured against in this run, as a ratio, with its
 * target), then the targets missed. --quick runs the short versions (the
 * whole run in under 2 minutes); --json writes every row; --markdown writes
 * the tables bench/README.md keeps. The exit code is 0 even when a target is
 * missed (the run is a measurement); pass --strict to make it 1. `scaling`
 * runs only when named (--only scaling); --long runs the long versions where
 * a scenario has them (scaling: a 10-minute steady run).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { backlogBench } from './claim-backlog.js';
import { claimBench } from './claim.js';
import { drainBench } from './drain.js';
import { enqueueBench } from './enqueue.js';
import { framesBench } from './frames.js';
import { idleBench } from './idle-cost.js';
import type { BenchOptions } from './lib/options.js';
import { markdownSection, printSection, type Section } from './lib/report.js';
import { peersBench } from './peers.js';
import { scalingBench } from './scaling.js';
import { streamBench } from './stream.js';
import { wakeBench } from './wake-latency.js';
import { wakePartsBench } from './wake-parts.js';
import { watcherBench } from './watcher-c.js';

const SCENARIOS: Record<string, (o: BenchOptions) => Promise<Section>> = {
  enqueue: enqueueBench,
  claim: claimBench,
  drain: drainBench,
  wake: wakeBench,
  'wake-parts': wakePartsBench,
  idle: idleBench,
  stream: streamBench,
  backlog: backlogBench,
  peers: peersBench,
  watcher: watcherBench,
  frames: framesBench,
  scaling: scalingBench,
};
/** Run only when named (`--only scaling`): its full version fills 10M-row files and takes ~10 minutes on its own. */
const ON_REQUEST = new Set(['scaling']);

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    long: { type: 'boolean', default: false },
    only: { type: 'string' },
    json: { type: 'string' },
    markdown: { type: 'string' },
    strict: { type: 'boolean', default: false },
  },
});
const names = values.only ? values.only.split(',').map((n) => n.trim()) : Object.keys(SCENARIOS).filter((n) => !ON_REQUEST.has(n));
for (const n of names) {
  if (!SCENARIOS[n]) {
    console.error(`bench: unknown scenario "${n}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
    process.exit(2);
  }
}

const started = Date.now();
const header = `honker bench${values.quick ? ' --quick' : ''} — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown cpu'}), WAL + synchronous=NORMAL on ${os.tmpdir()}`;
console.log(header);
const sections: Section[] = [];
for (const n of names) {
  const t0 = Date.now();
  const s = await SCENARIOS[n]({ quick: values.quick, long: values.long });
  s.notes.push(`scenario took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  printSection(s);
  sections.push(s);
}
const missed = sections.flatMap((s) => s.rows.filter((r) => r.met === false).map((r) => `${s.title}: ${r.name}`));
console.log(`\n${missed.length === 0 ? 'every target met' : `targets missed (${missed.length}):\n  ${missed.join('\n  ')}`}`);
console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (values.json) writeFileSync(values.json, JSON.stringify({ header, sections }, null, 2) + '\n');
if (values.markdown) writeFileSync(values.markdown, [header, ...sections.map(markdownSection)].join('\n\n') + '\n');
if (values.strict && missed.length > 0) process.exitCode = 1;
