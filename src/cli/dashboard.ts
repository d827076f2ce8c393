/**
 * `honker dashboard <db|postgres-url>`: serve the dashboard (src/dashboard/)
 * from a node:http server until Ctrl-C. A postgres:// URL is opened with
 * the Postgres client (target.ts: it must already be a honker database).
 *
 * Safe by default: it listens on 127.0.0.1; any other address needs a token
 * (--token, or $HONKER_DASHBOARD_TOKEN so it stays out of `ps`), and is
 * refused without one. Without a token, requests must name a loopback host
 * (Host: 127.0.0.1 / localhost / [::1]), so a web page cannot reach it
 * through DNS rebinding. --read-only opens the file read-only and shows no
 * actions; on Postgres it shows no actions, refuses every POST and never
 * installs or upgrades honker's functions (the connection itself is an
 * ordinary one: give it a read-only role to be sure).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { attach, type HonkerDatabase } from '../database.js';
import { dashboard } from '../dashboard/index.js';
import type { PgHonkerDatabase } from '../postgres/database.js';
import { intFlag, parse, type Command } from './args.js';
import { CliError, UsageError } from './errors.js';
import { withReadOnly, writable } from './open.js';
import { stopSignal } from './signals.js';
import { openTarget, redact, isUrl } from './target.js';

/** Whether host is a loopback address or name (the only ones served without a token). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The host name of a Host header ("127.0.0.1:7420", "[::1]:80", "localhost"). */
function hostName(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  return header.replace(/:\d+$/, '');
}

function openReadOnly(file: string): HonkerDatabase {
  withReadOnly(file, () => undefined); // exists, readable, a honker database
  const raw = new Database(file, { readonly: true, fileMustExist: true });
  raw.pragma('busy_timeout = 5000');
  try {
    return attach(raw);
  } catch (err) {
    raw.close();
    const message = (err as Error).message;
    if (/readonly|read-only/.test(message)) {
      throw new CliError(`${file} needs a schema upgrade, which --read-only cannot write: run any honker command that writes once (or SELECT honker_bootstrap()), or start without --read-only`);
    }
    throw err;
  }
}

export const dashboardCommand: Command = {
  usage: `usage: honker dashboard <db|postgres-url> [--port 7420] [--host 127.0.0.1] [--read-only] [--token TOKEN]

Serves a live dashboard of the database in the browser until Ctrl-C: queues
with their throughput, jobs, dead letters, schedules, streams, workers and a
live tail of notifications. Prints its URL.
  --port N          TCP port (default 7420; 0 picks a free one)
  --host ADDR       address to listen on (default 127.0.0.1); any address
                    that is not loopback needs --token
  --token TOKEN     required on every request (the printed URL carries it);
                    default $HONKER_DASHBOARD_TOKEN
  --read-only       no actions, every POST refused (a file is opened read-only)`,
  async run(args) {
    const p = parse(dashboardCommand, args, { port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' }, 'read-only': { type: 'boolean' } }, [1, 1]);
    if (!p) return 0;
    const [file] = p.positionals as [string];
    const port = intFlag(p, 'port', 0, 7420)!;
    if (port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535 (got ${port})`);
    const host = (p.values.host as string | undefined) ?? '127.0.0.1';
    if (host === '') throw new UsageError('--host must not be empty');
    const token = (p.values.token as string | undefined) ?? (process.env.HONKER_DASHBOARD_TOKEN || undefined);
    if (token !== undefined && token.length < 8) throw new UsageError('--token must be at least 8 characters');
    if (!isLoopback(host) && token === undefined) {
      throw new UsageError(
        `--host ${host} would let other machines reach the dashboard: pass --token <secret> (or set HONKER_DASHBOARD_TOKEN), e.g. --token ${randomBytes(18).toString('base64url')}; or keep the default --host 127.0.0.1`,
      );
    }
    const readOnly = p.values['read-only'] === true;
    const db: HonkerDatabase | PgHonkerDatabase = isUrl(file) ? await openTarget(file, { readOnly }) : readOnly ? openReadOnly(file) : writable(file, 5000);
    const shown = isUrl(file) ? redact(file) : file;
    const handler = dashboard(db, { readOnly, token });
    const server: Server = createServer((req, res) => {
      if (token === undefined && !isLoopback(hostName(req.headers.host))) {
        res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('honker dashboard: without a token only a loopback Host (127.0.0.1, localhost, [::1]) is served\n');
        return;
      }
      handler(req, res);
    });
    const stop = stopSignal();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    } catch (err) {
      stop.dispose();
      await db.close();
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE') throw new CliError(`port ${port} on ${host} is in use; pick another with --port`);
      if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new CliError(`cannot listen on ${host}: no such local address`);
      throw err;
    }
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const shownHost = isIP(host) === 6 ? `[${host}]` : host;
    const url = `http://${shownHost}:${actualPort}/${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;
    process.stdout.write(`honker dashboard: ${shown}${readOnly ? ' (read-only)' : ''} at ${url} (Ctrl-C to stop)\n`);
    try {
      await new Promise<void>((resolve) => {
        if (stop.signal.aborted) resolve();
        else stop.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      stop.dispose();
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    }
    return 0;
  },
};
