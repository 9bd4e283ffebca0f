// berth network connect
import { NetworksApi, type EndpointSettings } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { parseIpFlag, parseKeyValues } from '../run/flag-values.js';
import { listOpt, stringOpt } from './filters.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const [network, container] = args as [string, string];
  const ip = stringOpt(opts['ip']);
  const ip6 = stringOpt(opts['ip6']);
  const linkLocal = listOpt(opts['linkLocalIp']);
  const ep: EndpointSettings = {};
  if (ip !== undefined || ip6 !== undefined || linkLocal.length) {
    ep.IPAMConfig = {
      ...(ip !== undefined ? { IPv4Address: parseIpFlag('--ip', ip) } : {}),
      ...(ip6 !== undefined ? { IPv6Address: parseIpFlag('--ip6', ip6) } : {}),
      ...(linkLocal.length ? { LinkLocalIPs: linkLocal } : {}),
    };
  }
  const aliases = listOpt(opts['alias']);
  if (aliases.length) ep.Aliases = aliases;
  const driverOpts = listOpt(opts['driverOpt']);
  if (driverOpts.length) ep.DriverOpts = parseKeyValues(driverOpts);
  await new NetworksApi(await ctx.client()).connect(network, container, ep);
}
