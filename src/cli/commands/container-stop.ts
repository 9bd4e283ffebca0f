// berth stop
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { parseIntFlag } from '../run/flag-values.js';
import { forEachContainer } from './container-each.js';
import { stringOpt } from './filters.js';

export function stopOptions(opts: CommandOptions): { timeout?: number; signal?: string } {
  const t = stringOpt(opts['timeout']);
  return { timeout: t === undefined ? undefined : parseIntFlag('-t, --timeout', t), signal: stringOpt(opts['signal']) };
}

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const o = stopOptions(opts);
  return forEachContainer(ctx, args, (api, name) => api.stop(name, o));
}
