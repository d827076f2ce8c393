/**
 * Reading a command's arguments: the Command shape, parse() (node:util
 * parseArgs with the shared --help and --json flags and a count of
 * positionals), and readers of one value (intFlag, jsonArg, nameArg). A bad
 * argument throws UsageError (exit 2) naming the rule it broke.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';
import type { Out } from './format.js';

/** One `honker` subcommand: its usage text and its run (resolves with the exit code). */
export interface Command {
  usage: string;
  run(args: string[]): Promise<number>;
}

export type Options = NonNullable<ParseArgsConfig['options']>;
const COMMON: Options = { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } };

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** parseArgs with the shared flags; null when --help was given (usage printed). */
export function parse(cmd: Command, args: string[], options: Options, positionals: [number, number]): Parsed | null {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true }) as Parsed;
  } catch (err) {
    // parseArgs' first sentence ("Unknown option '--x'") is the useful part; its hints name
    // the syntax `--priority=-3`, which we add for negative numbers.
    const first = (err as Error).message.split(/\.(\s|$)/)[0]!;
    const hint = /argument is ambiguous/.test(first) ? ` (write a negative number as ${/'(--[\w-]+)'/.exec(first)?.[1]}=-N)` : '';
    throw new UsageError(first + hint, true);
  }
  if (parsed.values.help) {
    process.stdout.write(cmd.usage + '\n');
    return null;
  }
  const [min, max] = positionals;
  if (parsed.positionals.length < min) throw new UsageError('missing arguments', true);
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`, true);
  }
  return parsed;
}

/** How to print: --json, and whether stdout is a terminal. */
export function out(parsed: Parsed): Out {
  return { json: parsed.values.json === true, tty: process.stdout.isTTY === true };
}

/** An integer flag value >= min, or dflt when absent. */
export function intFlag(parsed: Parsed, name: string, min: number, dflt?: number): number | undefined {
  const v = parsed.values[name];
  if (v === undefined) return dflt;
  const s = String(v);
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < min) {
    throw new UsageError(`--${name} must be an integer >= ${min} (got '${s}')`);
  }
  return Number(s);
}

/** A JSON argument, parsed. */
export function jsonArg(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} is not valid JSON: ${text.length > 60 ? text.slice(0, 59) + '…' : text}`);
  }
}

/** A name argument (queue, channel, stream …), which must not be empty. */
export function nameArg(what: string, text: string): string {
  if (text === '') throw new UsageError(`${what} must not be empty`);
  return text;
}
