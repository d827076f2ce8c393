/**
 * Reading a command's arguments: the Command shape, parse() (node:util
 * parseArgs with the shared --help and --json flags and a count of
 * positionals), and readers of one value (intFlag, jsonArg, nameArg). A bad
 * argument throws UsageError (exit 2) naming the rule it broke; parseArgs' own
 * errors are reworded into that one-line form (parseError, unknownOption).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from '../validate.js';
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
  /** Options given a negative number as a separate word (`--priority -3`), see joinNegatives. */
  spaced: Set<string>;
}

/** parseArgs with the shared flags; null when --help was given (usage printed). */
export function parse(cmd: Command, args: string[], options: Options, positionals: [number, number]): Parsed | null {
  const all = { ...COMMON, ...options };
  const { tokens, spaced } = joinNegatives(args, all);
  let parsed: Parsed;
  try {
    parsed = { ...parseArgs({ args: tokens, options: all, allowPositionals: true, strict: true }), spaced } as Parsed;
  } catch (err) {
    throw parseError(err as Error & { code?: string }, all);
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

/**
 * `--limit -1` as `--limit=-1`, so the value reaches intFlag, which states the flag's real
 * rule (parseArgs would refuse `-1` as an ambiguous value); the options written so are
 * returned, because a negative value is only taken in the `--priority=-3` form.
 */
function joinNegatives(args: string[], options: Options): { tokens: string[]; spaced: Set<string> } {
  const tokens: string[] = [];
  const spaced = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      tokens.push(...args.slice(i));
      break;
    }
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    const next = args[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      tokens.push(`${arg}=${next}`);
      spaced.add(name);
      i++;
    } else {
      tokens.push(arg);
    }
  }
  return { tokens, spaced };
}

/** One of parseArgs' errors as our one-line usage error. */
function parseError(err: Error & { code?: string }, options: Options): UsageError {
  const option = /'(-[^' ]*)/.exec(err.message)?.[1] ?? '';
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return unknownOption(option, options);
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(err.message)) return new UsageError(`${option} takes no value`, true);
    if (/argument missing/.test(err.message)) return new UsageError(`${option} needs a value`, true);
    return new UsageError(`${option} needs a value; write ${option}=VALUE for one that starts with '-'`, true);
  }
  return new UsageError(err.message.split(/\.(\s|$)/)[0]!, true);
}

/** "unknown option '--limt'; did you mean --limit?", from this command's own option names. */
function unknownOption(option: string, options: Options): UsageError {
  if (/^-\d/.test(option)) {
    return new UsageError(`unknown option '${option}'; a negative number as an argument goes after --, as in -- ${option}`, true);
  }
  const hint = closest(option.replace(/^-+/, ''), Object.keys(options));
  return new UsageError(`unknown option '${option}'${hint ? `; did you mean --${hint}?` : ''}`, true);
}

/** How to print: --json, and whether stdout is a terminal. */
export function out(parsed: Parsed): Out {
  return { json: parsed.values.json === true, tty: process.stdout.isTTY === true };
}

/** An integer flag value >= min, or dflt when absent; min Number.MIN_SAFE_INTEGER takes any integer. */
export function intFlag(parsed: Parsed, name: string, min: number, dflt?: number): number | undefined {
  const v = parsed.values[name];
  if (v === undefined) return dflt;
  const s = String(v);
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < min) {
    const rule = min <= Number.MIN_SAFE_INTEGER ? 'an integer' : `an integer >= ${min}`;
    throw new UsageError(`--${name} must be ${rule} (got ${shown(s)})`);
  }
  if (Number(s) < 0 && parsed.spaced.has(name)) throw new UsageError(`write a negative --${name} as --${name}=${s}`);
  return Number(s);
}

/** A flag value in a message: a number as is, anything else quoted. */
function shown(s: string): string {
  return /^-?\d+(\.\d+)?$/.test(s) ? s : `'${s}'`;
}

/** The option of every command that writes (`--busy-timeout MS`); read with busyTimeoutMs. */
export const BUSY_TIMEOUT: Options = { 'busy-timeout': { type: 'string' } };

/** Its usage line, the same in every writing command. */
export const BUSY_TIMEOUT_USAGE = "  --busy-timeout MS   how long a write waits for another process's write (default 5000)";

/** How long this command's writes wait for another process's write lock, in ms. */
export function busyTimeoutMs(parsed: Parsed): number {
  return intFlag(parsed, 'busy-timeout', 0, 5000)!;
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
