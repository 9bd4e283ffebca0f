// berth events / system events: the daemon's event stream, one line per event.
import type { EventMessage } from '../../client/index.js';
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { parseGoTemplate } from '../format/go-template.js';
import { goRfc3339 } from '../format/units.js';
import { parseFilterFlags, stringOpt } from './filters.js';

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/**
 * docker's timetypes.GetTimestamp: a Go duration ("10m", "1h30m") counts back from now,
 * an RFC 3339 date or date-time is converted, a unix timestamp passes through.
 */
export function toApiTimestamp(value: string, nowMs = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  const dur = /^((\d+(\.\d+)?)(ns|us|µs|ms|s|m|h))+$/.test(value);
  if (dur) {
    let seconds = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    const t = nowMs / 1000 - seconds;
    return t.toFixed(9).replace(/\.?0+$/, '');
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new BerthError('invalid-argument', `invalid timestamp "${value}": expected a unix time, an RFC 3339 date or a duration like 10m`);
  return String(ms / 1000);
}

/** docker's default line: `2024-05-01T10:00:00.123456789Z image tag sha256:… (name=busybox:latest)`. */
export function formatEvent(e: EventMessage): string {
  const nanos = BigInt(Math.round(e.timeNano % 1e9));
  const seconds = Math.floor(e.timeNano / 1e9);
  const attrs = Object.entries(e.Actor?.Attributes ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  return `${goRfc3339(seconds, nanos)} ${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}${attrs.length ? ` (${attrs.join(', ')})` : ''}\n`;
}

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const format = stringOpt(opts['format']);
  const tmpl = format ? parseGoTemplate(format === 'json' ? '{{json .}}' : format) : undefined;
  const since = stringOpt(opts['since']);
  const until = stringOpt(opts['until']);
  const client = await ctx.client();
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for await (const ev of client.events<EventMessage>({
      since: since ? toApiTimestamp(since) : undefined,
      until: until ? toApiTimestamp(until) : undefined,
      filters: parseFilterFlags(opts['filter']),
      signal: ac.signal,
    })) {
      await ctx.print(tmpl ? `${tmpl.execute(ev)}\n` : formatEvent(ev));
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
    // Interrupted by the user: the stream ending is the expected outcome.
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
