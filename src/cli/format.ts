/**
 * Output of the `honker` command line: aligned tables (bold header on a
 * terminal, plain text in a pipe), JSON, times and ages.
 */

export interface Out {
  /** --json: one JSON document (or one JSON line per event) on stdout. */
  json: boolean;
  /** stdout is a terminal: bold headers, long cells cut to fit. */
  tty: boolean;
}

/** Longest cell shown on a terminal before it is cut with "…". */
const TTY_CELL_MAX = 60;

export function write(line: string): void {
  process.stdout.write(line + '\n');
}

export function writeJson(value: unknown): void {
  write(JSON.stringify(value));
}

/** One aligned table: a header row and the rows under it (no trailing spaces). */
export function table(out: Out, header: string[], rows: string[][]): void {
  const cells = rows.map((r) => r.map((c) => (out.tty && c.length > TTY_CELL_MAX ? c.slice(0, TTY_CELL_MAX - 1) + '…' : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const head = line(header);
  write(out.tty ? `\x1b[1m${head}\x1b[0m` : head);
  for (const r of cells) write(line(r));
}

/** Unix seconds as "2026-11-26 13:42:04Z"; "-" for null. */
export function time(s: number | null | undefined): string {
  if (s === null || s === undefined) return '-';
  const d = new Date(s * 1000);
  if (Number.isNaN(d.getTime())) return String(s);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Seconds as "42s", "3m 20s", "5h 2m", "2d 4h"; "-" for null. */
export function age(s: number | null | undefined): string {
  if (s === null || s === undefined) return '-';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** A payload for a table cell: its JSON text on one line. */
export function payload(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? 'null');
}
