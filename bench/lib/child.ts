/**
 * A bench child process speaking lines: the parent writes commands on
 * stdin, the child answers a line (usually one JSON value) on stdout.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class BenchChild {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private readonly waiting: Array<(line: string) => void> = [];
  private buf = '';
  private stderr = '';
  private readonly label: string;
  readonly exited: Promise<number | null>;

  /** Run bench/<script> under tsx with args. */
  constructor(script: string, args: string[]) {
    this.label = [script, ...args].join(' ');
    this.proc = spawn(process.execPath, ['--import=tsx', path.join(benchRoot, script), ...args], { stdio: 'pipe' });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const w = this.waiting.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.proc.on('close', (code) => resolve(code)));
  }

  /** The next line; rejects if the child exits first. */
  line(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise<string>((resolve, reject) => {
      this.waiting.push(resolve);
      void this.exited.then((code) => reject(new Error(`bench child ${this.label} exited (${code}) before answering: ${this.stderr.slice(-2000)}`)));
    });
  }

  /** The next line as JSON. */
  async next<T = Record<string, unknown>>(): Promise<T> {
    return JSON.parse(await this.line()) as T;
  }

  send(command: string): void {
    this.proc.stdin.write(command + '\n');
  }

  /** Resolves when the child exited 0; rejects with its stderr otherwise. */
  async finished(): Promise<void> {
    const code = await this.exited;
    if (code !== 0) throw new Error(`bench child ${this.label} exited ${code}: ${this.stderr.slice(-2000)}`);
  }
}

/** In a child: resolve with each line written on stdin. */
export function stdinLines(onLine: (line: string) => void): void {
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
export const reply = (obj: unknown): Promise<void> =>
  new Promise((resolve) => process.stdout.write(JSON.stringify(obj) + '\n', () => resolve()));
