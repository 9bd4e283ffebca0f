// berth ps / container ls
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { renderList } from '../format/table.js';
import { parseIntFlag } from '../run/flag-values.js';
import { CONTAINER_HEADERS, containerRow } from './container-rows.js';
import { parseFilterFlags, stringOpt } from './filters.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const filters = parseFilterFlags(opts['filter']);
  const format = stringOpt(opts['format']);
  const quiet = opts['quiet'] === true;
  let limit = parseIntFlag('-n, --last', stringOpt(opts['last']) ?? '-1');
  if (opts['latest'] === true) limit = 1;
  const size = opts['size'] === true || (!quiet && !!format && format.includes('.Size'));
  const api = new ContainersApi(await ctx.client());
  const list = await api.list({ all: opts['all'] === true, limit: limit > 0 ? limit : undefined, size, filters });
  const noTrunc = opts['trunc'] === false;
  const rows = list.map((c) => containerRow(c, { noTrunc }));
  const defaultFormat = quiet
    ? '{{.ID}}'
    : `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${opts['size'] === true ? '\t{{.Size}}' : ''}`;
  await ctx.print(renderList({ format: quiet ? undefined : format, defaultFormat, headers: CONTAINER_HEADERS }, rows));
}
