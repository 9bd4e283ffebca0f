// berth network ls
import { NetworksApi, type Network } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { renderList } from '../format/table.js';
import { goTimeString } from '../format/units.js';
import { parseFilterFlags, stringOpt } from './filters.js';

const HEADERS: Record<string, string> = {
  CreatedAt: 'CREATED',
  Driver: 'DRIVER',
  ID: 'NETWORK ID',
  IPv4: 'IPV4',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  Name: 'NAME',
  Scope: 'SCOPE',
};

export function networkRow(n: Network, noTrunc: boolean): Record<string, string> {
  const created = Date.parse(n.Created);
  return {
    CreatedAt: Number.isNaN(created) ? n.Created : goTimeString(Math.trunc(created / 1000)),
    Driver: n.Driver,
    ID: noTrunc ? n.Id : n.Id.slice(0, 12),
    IPv4: String(n.EnableIPv4 ?? true),
    IPv6: String(n.EnableIPv6 ?? false),
    Internal: String(n.Internal ?? false),
    Labels: Object.keys(n.Labels ?? {}).sort().map((k) => `${k}=${n.Labels[k]}`).join(','),
    Name: n.Name,
    Scope: n.Scope,
  };
}

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const list = await new NetworksApi(await ctx.client()).list({ filters: parseFilterFlags(opts['filter']) });
  const quiet = opts['quiet'] === true;
  const rows = [...list].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)).map((n) => networkRow(n, opts['trunc'] === false));
  const defaultFormat = quiet ? '{{.ID}}' : 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
  await ctx.print(renderList({ format: quiet ? undefined : stringOpt(opts['format']), defaultFormat, headers: HEADERS }, rows));
}
