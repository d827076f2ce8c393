/**
 * Bench child processes speaking lines: the parent writes commands on
 * stdin, the child answers a line (usually one JSON value) on stdout. The
 * parent side is test/helpers/child.ts's LineChild (one reader for the
 * tests and the benches); this file starts it on a bench script. (The
 * child side, stdin commands and JSON replies, is in ./queue-child.ts.)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineChild, tsxCommand } from '../../test/helpers/child.js';

const benchRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Run bench/<script> under tsx with args, its stdout read as text lines:
 * `next()` is the next line, `nextJson<T>()` the next as JSON, `send()`
 * writes a command, `finish()` awaits exit 0. Waits are unbounded: a bench
 * phase may run long.
 */
export function benchChild(script: string, args: string[]): LineChild {
  const [command, argv] = tsxCommand(path.join(benchRoot, script), args);
  return LineChild.text(command, argv, { cwd: process.cwd(), label: `bench child ${[script, ...args].join(' ')}`, timeoutMs: Infinity });
}
