// berth port: `80/tcp -> 0.0.0.0:8080` lines, or the host addresses of one private port.
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';

function hostAddr(ip: string | undefined, port: string | undefined): string {
  const host = ip || '0.0.0.0';
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? ''}`;
}

export async function run(ctx: CommandContext, args: string[], _opts: CommandOptions): Promise<number> {
  const [name, want] = args as [string, string | undefined];
  const c = await new ContainersApi(await ctx.client()).inspect(name);
  const ports = c.NetworkSettings?.Ports ?? {};
  if (want) {
    const [port, proto = 'tcp'] = want.split('/');
    const key = `${port}/${proto}`;
    const bindings = ports[key];
    if (!bindings || !bindings.length) {
      // docker's wording names the port as typed.
      ctx.warn(`Error: No public port '${want}' published for ${name}`);
      return 1;
    }
    await ctx.print(bindings.map((b) => `${hostAddr(b.HostIp, b.HostPort)}\n`).join(''));
    return 0;
  }
  const keys = Object.keys(ports).sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || (a < b ? -1 : 1));
  let out = '';
  for (const k of keys) for (const b of ports[k] ?? []) out += `${k} -> ${hostAddr(b.HostIp, b.HostPort)}\n`;
  await ctx.print(out);
  return 0;
}
