/**
 * Build and run the libFuzzer harnesses of fuzz/ under ASan + UBSan.
 *
 *   tsx scripts/fuzz.ts [--seconds N] [--only cron|sql] [--merge]
 *
 * Builds build/fuzz/cron_fuzz (fuzz/cron.c + ext/cron.c, ext/cron_next.c) and
 * build/fuzz/sql_fuzz (fuzz/sql.c + every ext/*.c compiled in with
 * -DSQLITE_CORE, linked to the system libsqlite3) with clang
 * -fsanitize=fuzzer,address,undefined, then runs them in parallel for N
 * seconds each (default 60) on a temp copy of fuzz/corpus/<name>, so the
 * repository is never written. --merge then adds the new inputs that reach
 * new edges to fuzz/corpus/<name> (libFuzzer -set_cover_merge=1 -use_counters=0;
 * keep the corpus under 200 files and 1 MB).
 *
 * Exits non-zero when a harness crashes, leaks, times out (10 s per input) or
 * a sanitizer reports, printing the reproducer path and the command that
 * replays it. Logs: build/fuzz/<name>.log. Needs clang with libFuzzer
 * (Debian: clang + libclang-rt-14-dev) and, for sql, libsqlite3-dev.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'build', 'fuzz');
const clang = process.env.CC_FUZZ ?? 'clang';

interface Harness {
  name: 'cron' | 'sql';
  sources: string[];
  flags: string[];
  libs: string[];
  env: NodeJS.ProcessEnv;
  /** libFuzzer options of this harness. */
  run: string[];
}

const extSources = readdirSync(path.join(root, 'ext'))
  .filter((f) => f.endsWith('.c'))
  .sort()
  .map((f) => path.join('ext', f));

const harnesses: Harness[] = [
  // DST transitions are where cron arithmetic goes wrong: fuzz in a zone that has them.
  { name: 'cron', sources: ['fuzz/cron.c', 'ext/cron.c', 'ext/cron_next.c'], flags: [], libs: [], env: { TZ: 'America/New_York' }, run: ['-max_len=4096'] },
  {
    name: 'sql',
    sources: ['fuzz/sql.c', ...extSources],
    // SQLITE_CORE: the extension is compiled in; sqlite3_api=1 satisfies watcher.c's "was it loaded" check.
    flags: ['-DSQLITE_CORE', '-Dsqlite3_api=1'],
    libs: ['-lsqlite3', '-lpthread', '-lm'],
    env: { TZ: 'America/New_York' },
    // An input is a program of up to 64 calls: let it be long from the start (len_control=0).
    run: ['-max_len=2048', '-len_control=0'],
  },
];

function usage(msg: string): never {
  console.error(`fuzz: ${msg}\nusage: tsx scripts/fuzz.ts [--seconds N] [--only cron|sql] [--merge]`);
  process.exit(2);
}

function parseArgs(argv: string[]): { seconds: number; only: string | null; merge: boolean } {
  let seconds = 60;
  let only: string | null = null;
  let merge = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') {
      seconds = Number(argv[++i]);
      if (!Number.isInteger(seconds) || seconds < 1) usage(`--seconds must be an integer >= 1 (got ${argv[i]})`);
    } else if (a === '--only') {
      only = argv[++i] ?? '';
      if (!harnesses.some((h) => h.name === only)) usage(`--only must be cron or sql (got ${only})`);
    } else if (a === '--merge') {
      merge = true;
    } else {
      usage(`unknown argument ${a}`);
    }
  }
  return { seconds, only, merge };
}

/** Fail with a clear message unless clang can link a libFuzzer target with ASan + UBSan. */
function checkClang(): void {
  const probeDir = mkdtempSync(path.join(os.tmpdir(), 'honker-fuzz-probe-'));
  try {
    const src = path.join(probeDir, 'probe.c');
    writeFileSync(src, 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n');
    const r = spawnSync(clang, ['-fsanitize=fuzzer,address,undefined', src, '-o', path.join(probeDir, 'probe')], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      console.error(
        `fuzz: ${clang} cannot build a libFuzzer target (-fsanitize=fuzzer,address,undefined).\n` +
          '  Install clang with libFuzzer, e.g. on Debian 12: apt-get install clang libclang-rt-14-dev\n' +
          `  (or set CC_FUZZ to such a clang).\n  ${r.error ? r.error.message : r.stderr.trim().split('\n').slice(-3).join('\n  ')}`,
      );
      process.exit(2);
    }
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
}

function build(h: Harness): string {
  const bin = path.join(outDir, `${h.name}_fuzz`);
  const args = [
    '-g',
    '-O1',
    '-std=c11',
    '-fno-omit-frame-pointer',
    '-fsanitize=fuzzer,address,undefined',
    '-fno-sanitize-recover=undefined',
    ...h.flags,
    ...h.sources,
    ...h.libs,
    '-o',
    bin,
  ];
  const r = spawnSync(clang, args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`fuzz: building ${h.name} failed:\n${clang} ${args.join(' ')}\n${r.stderr}`);
    if (h.name === 'sql' && /sqlite3\.h|lsqlite3/.test(r.stderr)) {
      console.error('fuzz: the sql harness needs the system SQLite headers and library: apt-get install libsqlite3-dev');
    }
    process.exit(2);
  }
  return bin;
}

interface RunResult {
  name: string;
  code: number | null;
  log: string;
  reproducer: string | null;
  stats: string;
  corpus: string;
}

function run(h: Harness, bin: string, seconds: number, work: string): Promise<RunResult> {
  const corpus = path.join(work, h.name);
  mkdirSync(corpus, { recursive: true });
  cpSync(path.join(root, 'fuzz', 'corpus', h.name), corpus, { recursive: true });
  const artifacts = path.join(outDir, 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  const log = path.join(outDir, `${h.name}.log`);
  const args = [
    `-max_total_time=${seconds}`,
    '-timeout=10',
    '-rss_limit_mb=2048',
    ...h.run,
    '-print_final_stats=1',
    `-artifact_prefix=${artifacts}/${h.name}-`,
    corpus,
  ];
  const out = createWriteStream(log);
  const child = spawn(bin, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...h.env,
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0',
      UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
    },
  });
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  // A hung harness is libFuzzer's to report (-timeout); this only guards the script.
  const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 300) * 1000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(guard);
      out.end(() => {
        const text = readFileSync(log, 'utf8');
        const m = /Test unit written to (\S+)/.exec(text);
        const stats = text
          .split('\n')
          .filter((l) => /^(#\d+\s+DONE|stat::number_of_executed_units|stat::peak_rss_mb|Done \d+ runs)/.test(l))
          .join('; ');
        resolve({ name: h.name, code, log, reproducer: m ? m[1] : null, stats, corpus });
      });
    });
  });
}

/**
 * Add to fuzz/corpus/<name> the inputs of newCorpus that reach an edge the
 * committed corpus does not (libFuzzer -set_cover_merge=1 on edges only,
 * so the corpus stays small). Existing files are never removed or renamed.
 */
function merge(h: Harness, bin: string, newCorpus: string): void {
  const dest = path.join(root, 'fuzz', 'corpus', h.name);
  const fresh = mkdtempSync(path.join(os.tmpdir(), `honker-fuzz-merge-${h.name}-`));
  try {
    const r = spawnSync(bin, ['-set_cover_merge=1', '-use_counters=0', fresh, dest, newCorpus], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ...h.env },
    });
    if (r.status !== 0) {
      console.error(`fuzz: merging into ${dest} failed:\n${r.stderr.split('\n').slice(-10).join('\n')}`);
      process.exit(1);
    }
    // libFuzzer names merged files by the SHA-1 of their content.
    const have = new Set(readdirSync(dest).map((f) => createHash('sha1').update(readFileSync(path.join(dest, f))).digest('hex')));
    let added = 0;
    for (const f of readdirSync(fresh)) {
      if (have.has(f)) continue;
      cpSync(path.join(fresh, f), path.join(dest, f));
      added++;
    }
    const files = readdirSync(dest);
    const bytes = files.reduce((sum, f) => sum + statSync(path.join(dest, f)).size, 0);
    console.log(`fuzz: ${h.name}: merged ${added} new inputs; fuzz/corpus/${h.name} holds ${files.length} files, ${bytes} bytes`);
    if (files.length >= 200 || bytes >= 1 << 20) {
      console.warn(`fuzz: ${h.name}: keep the committed corpus under 200 files and 1 MB (see fuzz/README.md)`);
    }
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

const opts = parseArgs(process.argv.slice(2));
checkClang();
mkdirSync(outDir, { recursive: true });
const chosen = harnesses.filter((h) => !opts.only || h.name === opts.only);
const bins = chosen.map((h) => build(h));
const work = mkdtempSync(path.join(os.tmpdir(), 'honker-fuzz-'));
console.log(`fuzz: running ${chosen.map((h) => h.name).join(' and ')} for ${opts.seconds} s each (logs in build/fuzz/)`);
const results = await Promise.all(chosen.map((h, i) => run(h, bins[i], opts.seconds, work)));
let failed = false;
for (const [i, r] of results.entries()) {
  if (r.code === 0) {
    console.log(`fuzz: ${r.name}: ok (${r.stats})`);
    if (opts.merge) merge(chosen[i], bins[i], r.corpus);
    continue;
  }
  failed = true;
  const tail = readFileSync(r.log, 'utf8').split('\n').slice(-40).join('\n');
  console.error(`fuzz: ${r.name}: FAILED (exit ${r.code}); log ${path.relative(root, r.log)}\n${tail}`);
  if (r.reproducer) {
    const env = chosen[i].env.TZ ? `TZ=${chosen[i].env.TZ} ` : '';
    console.error(`fuzz: ${r.name}: reproducer ${r.reproducer}\n  replay: ${env}${path.relative(root, bins[i])} ${r.reproducer}`);
  }
}
rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
