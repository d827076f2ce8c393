/**
 * `honker schedule <db> [list|pause|resume]`: list the cron schedules, or
 * pause or resume one.
 */
import { BUSY_TIMEOUT, BUSY_TIMEOUT_USAGE, busyTimeoutMs, out, parse, type Command } from './args.js';
import { CliError, UsageError } from './errors.js';
import { parsePayload } from '../payload.js';
import * as fmt from './format.js';
import { readValues, withTarget } from './target.js';

export const schedule: Command = {
  usage: `usage: honker schedule <db|postgres-url> [list] [--json]
       honker schedule <db> pause <name> [--busy-timeout MS]
       honker schedule <db> resume <name> [--busy-timeout MS]

Lists the cron schedules (name, queue, expression, next fire time, state), or
pauses / resumes one (resume fires from the next boundary after now).
${BUSY_TIMEOUT_USAGE}`,
  async run(args) {
    const p = parse(schedule, args, BUSY_TIMEOUT, [1, 3]);
    if (!p) return 0;
    const o = out(p);
    const [file, verb = 'list', name] = p.positionals as [string, string?, string?];
    if (verb === 'list') {
      if (name !== undefined) throw new UsageError(`unexpected argument '${name}'`, true);
      if (p.values['busy-timeout'] !== undefined) throw new UsageError('--busy-timeout goes with pause or resume', true);
      const [text] = (await readValues(file, [['honker_scheduler_list', []]])) as [string];
      const rows = JSON.parse(text) as Record<string, unknown>[];
      const tasks = rows.map((r) => ({
        name: r.name as string,
        queue: r.queue as string,
        schedule: r.cron_expr as string,
        payload: parsePayload(r.payload as string),
        priority: r.priority as number,
        expires_s: (r.expires_s as number | null) ?? null,
        next_fire_at: r.next_fire_at as number,
        enabled: Boolean(r.enabled),
        max_attempts: r.max_attempts as number,
      }));
      if (o.json) fmt.writeJson(tasks);
      else if (tasks.length === 0) fmt.write('no schedules');
      else {
        fmt.table(
          o,
          ['NAME', 'QUEUE', 'SCHEDULE', 'NEXT FIRE', 'STATE'],
          tasks.map((t) => [t.name, t.queue, t.schedule, t.enabled ? fmt.time(t.next_fire_at) : '-', t.enabled ? 'active' : 'paused']),
        );
      }
      return 0;
    }
    if (verb !== 'pause' && verb !== 'resume') throw new UsageError(`unknown action '${verb}' (list, pause or resume)`, true);
    if (name === undefined) throw new UsageError(`${verb} needs a schedule name`, true);
    const busyMs = busyTimeoutMs(p);
    const [listText] = (await readValues(file, [['honker_scheduler_list', []]])) as [string];
    const task = (JSON.parse(listText) as Array<{ name: string; enabled: unknown }>).find((r) => r.name === name);
    if (!task) throw new CliError(`no schedule named '${name}'`);
    const changed = await withTarget(file, busyMs, (db) => (verb === 'pause' ? db.scheduler().pause(name) : db.scheduler().resume(name)));
    const state = verb === 'pause' ? 'paused' : 'active';
    if (o.json) fmt.writeJson({ name, state, changed });
    else fmt.write(changed ? `${name}: ${state}` : `${name}: already ${state}`);
    return 0;
  },
};
