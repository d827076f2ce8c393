/**
 * Options every scenario takes, and the standalone entry point each bench
 * file offers (`npx tsx bench/<name>.ts [--quick]`).
 */
import { pathToFileURL } from 'node:url';
import { printSection, type Section } from './report.js';

export interface BenchOptions {
  /** The short version (`npm run bench -- --quick`: the whole run under 2 minutes). */
  quick: boolean;
  /** The long versions where a scenario has them (`--long`: bench/scaling.ts's 10-minute steady run). */
  long?: boolean;
}

/** Pick the quick or the full value. */
export const size = <T>(o: BenchOptions, quick: T, full: T): T => (o.quick ? quick : full);

/** Whether the module at moduleUrl is the script node was started with. */
export function isEntry(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(entry).href === moduleUrl;
}

/** Run `scenario` and print it when this file is the entry point (not imported by bench/run.ts). */
export async function standalone(moduleUrl: string, scenario: (o: BenchOptions) => Promise<Section>): Promise<void> {
  if (!isEntry(moduleUrl) || process.argv.includes('--child')) return;
  const s = await scenario({ quick: process.argv.includes('--quick'), long: process.argv.includes('--long') });
  printSection(s);
  if (s.rows.some((r) => r.met === false)) process.exitCode = 1;
}
