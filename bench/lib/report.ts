/**
 * What a bench scenario returns and how it is printed: one row per figure,
 * each next to the baseline it was measured against in the same run, as a
 * ratio, with the target (if the issue sets one) and whether it was met.
 */

export interface Target {
  /** Which number the bound applies to. */
  of: 'ratio' | 'value';
  op: '>=' | '<=';
  bound: number;
}

export interface Row {
  name: string;
  value: number;
  unit: string;
  /** What the ratio divides by, e.g. "raw INSERT 1/tx (41,000/s)". */
  baseline?: string;
  /** value / baseline for rates, or as documented on the row. */
  ratio?: number;
  target?: Target;
  met?: boolean;
}

export interface Section {
  id: string;
  title: string;
  rows: Row[];
  notes: string[];
}

export function section(id: string, title: string): Section {
  return { id, title, rows: [], notes: [] };
}

/** Add a row; `met` is computed from the target. */
export function addRow(s: Section, row: Omit<Row, 'met'>): Row {
  const r: Row = { ...row };
  if (r.target) {
    const x = r.target.of === 'ratio' ? r.ratio : r.value;
    r.met = x !== undefined && (r.target.op === '>=' ? x >= r.target.bound : x <= r.target.bound);
  }
  s.rows.push(r);
  return r;
}

export function fmtNum(x: number, unit = ''): string {
  if (!Number.isFinite(x)) return String(x);
  if (unit === 'ms' || unit === '%') return x.toFixed(x < 10 ? 2 : 1);
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(2);
}

function fmtTarget(t: Target | undefined): string {
  if (!t) return '';
  return `${t.op} ${t.bound}${t.of === 'ratio' ? 'x' : ''}`;
}

function fmtMet(r: Row): string {
  if (r.met === undefined) return '';
  return r.met ? 'met' : 'MISSED';
}

/** A plain-text table for the terminal. */
export function printSection(s: Section): void {
  const cells = s.rows.map((r) => [
    r.name,
    `${fmtNum(r.value, r.unit)} ${r.unit}`,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
    r.baseline ?? '',
    fmtTarget(r.target),
    fmtMet(r),
  ]);
  const head = ['case', 'value', 'ratio', 'baseline (same run)', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c.map((x, i) => (i === 1 || i === 2 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\n## ${s.title}`);
  console.log(line(head));
  for (const c of cells) console.log(line(c));
  for (const n of s.notes) console.log(`  - ${n}`);
}

/** A Markdown table (bench/README.md keeps the latest one). */
export function markdownSection(s: Section): string {
  const out = [`### ${s.title}`, '', '| case | value | ratio | baseline (same run) | target |', '|---|---:|---:|---|---|'];
  for (const r of s.rows) {
    const t = r.target ? `${fmtTarget(r.target)} ${r.met ? '✓' : '✗ missed'}` : '';
    out.push(`| ${r.name} | ${fmtNum(r.value, r.unit)} ${r.unit} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`} | ${r.baseline ?? ''} | ${t} |`);
  }
  for (const n of s.notes) out.push('', `- ${n}`);
  return out.join('\n');
}
