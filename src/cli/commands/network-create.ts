// berth network create: prints the new network's id. --gateway and --ip-range values go to
// the --subnet that contains them, as the docker CLI assigns them.
import { NetworksApi, type IPAMConfig } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { parseKeyValues } from '../run/flag-values.js';
import { listOpt, stringOpt } from './filters.js';

function ipv4ToInt(ip: string): number | undefined {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return undefined;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** Whether an address or CIDR lies inside an IPv4 CIDR (false for IPv6: exact match only). */
export function subnetContains(subnet: string, addr: string): boolean {
  const [net, bitsRaw] = subnet.split('/');
  const [a] = addr.split('/');
  const n = ipv4ToInt(net ?? '');
  const x = ipv4ToInt(a ?? '');
  if (n === undefined || x === undefined) return subnet === addr;
  const bits = Number(bitsRaw ?? 32);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((n & mask) >>> 0) === ((x & mask) >>> 0);
}

export function ipamConfigs(subnets: string[], gateways: string[], ranges: string[], aux: Record<string, string>): IPAMConfig[] {
  const configs: IPAMConfig[] = subnets.map((s) => ({ Subnet: s }));
  const place = (value: string, key: 'Gateway' | 'IPRange', flag: string) => {
    const hit = configs.find((c) => subnetContains(c.Subnet!, value));
    if (!hit) throw new UsageError(`no matching subnet for ${flag === '--gateway' ? 'gateway' : 'range'} ${value}`);
    if (hit[key]) throw new UsageError(`cannot configure multiple ${flag === '--gateway' ? 'gateways' : 'ranges'} (${value}, ${hit[key]}) on the same subnet (${hit.Subnet})`);
    hit[key] = value;
  };
  if ((gateways.length || ranges.length) && !subnets.length) throw new UsageError('every ip-range or gateway must have a corresponding subnet');
  for (const g of gateways) place(g, 'Gateway', '--gateway');
  for (const r of ranges) place(r, 'IPRange', '--ip-range');
  for (const [name, ip] of Object.entries(aux)) {
    const hit = configs.find((c) => subnetContains(c.Subnet!, ip));
    if (!hit) throw new UsageError(`no matching subnet for aux-address ${ip}`);
    (hit.AuxiliaryAddresses ??= {})[name] = ip;
  }
  return configs;
}

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const config = ipamConfigs(listOpt(opts['subnet']), listOpt(opts['gateway']), listOpt(opts['ipRange']), parseKeyValues(listOpt(opts['auxAddress'])));
  const r = await new NetworksApi(await ctx.client()).create({
    Name: args[0]!,
    Driver: stringOpt(opts['driver']) ?? 'bridge',
    Internal: opts['internal'] === true,
    Attachable: opts['attachable'] === true,
    EnableIPv6: opts['ipv6'] === true ? true : undefined,
    IPAM: { Driver: stringOpt(opts['ipamDriver']) ?? 'default', Config: config, Options: parseKeyValues(listOpt(opts['ipamOpt'])) },
    Options: parseKeyValues(listOpt(opts['opt'])),
    Labels: parseKeyValues(listOpt(opts['label'])),
  });
  if (r.Warning) ctx.warn(`WARNING: ${r.Warning}`);
  await ctx.print(`${r.Id}\n`);
}
