// berth info / system info: docker's layout of /info (client section, then server).
import type { SystemInfo } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { CLI_VERSION } from '../build-info.js';
import { parseGoTemplate } from '../format/go-template.js';
import { bytesSize } from '../format/units.js';
import { stringOpt } from './filters.js';

function line(indent: number, label: string, value: unknown): string {
  return `${' '.repeat(indent)}${label}: ${value === undefined || value === null ? '' : String(value)}\n`;
}

export function renderInfo(info: SystemInfo, debug: boolean): string {
  let out = 'Client:\n';
  out += ` Version:    ${CLI_VERSION}\n Context:    default\n Debug Mode: ${debug}\n`;
  out += '\nServer:\n';
  out += line(1, 'Containers', info.Containers);
  out += line(2, 'Running', info.ContainersRunning) + line(2, 'Paused', info.ContainersPaused) + line(2, 'Stopped', info.ContainersStopped);
  out += line(1, 'Images', info.Images);
  out += line(1, 'Server Version', info.ServerVersion);
  out += line(1, 'Storage Driver', info.Driver);
  for (const [k, v] of info.DriverStatus ?? []) out += line(2, k, v);
  out += line(1, 'Logging Driver', info.LoggingDriver);
  out += line(1, 'Cgroup Driver', info.CgroupDriver);
  out += line(1, 'Cgroup Version', info.CgroupVersion);
  out += ' Plugins:\n';
  out += line(2, 'Volume', (info.Plugins?.Volume ?? []).join(' '));
  out += line(2, 'Network', (info.Plugins?.Network ?? []).join(' '));
  out += line(2, 'Log', (info.Plugins?.Log ?? []).join(' '));
  out += line(1, 'Swarm', info.Swarm?.LocalNodeState || 'inactive');
  out += line(1, 'Runtimes', Object.keys(info.Runtimes ?? {}).sort().join(' '));
  out += line(1, 'Default Runtime', info.DefaultRuntime);
  out += line(1, 'Init Binary', info.InitBinary);
  out += line(1, 'containerd version', info.ContainerdCommit?.ID ?? '');
  out += line(1, 'runc version', info.RuncCommit?.ID ?? '');
  out += line(1, 'init version', info.InitCommit?.ID ?? '');
  if (info.SecurityOptions?.length) {
    out += ' Security Options:\n';
    // `name=seccomp,profile=builtin`: docker prints the name, and of the rest only the profile.
    for (const o of info.SecurityOptions) {
      const kv = new Map(o.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const));
      out += `  ${kv.get('name') ?? o}\n`;
      if (kv.has('profile')) out += `   Profile: ${kv.get('profile')}\n`;
    }
  }
  out += line(1, 'Kernel Version', info.KernelVersion);
  out += line(1, 'Operating System', info.OperatingSystem);
  out += line(1, 'OSType', info.OSType);
  out += line(1, 'Architecture', info.Architecture);
  out += line(1, 'CPUs', info.NCPU);
  out += line(1, 'Total Memory', bytesSize(info.MemTotal ?? 0));
  out += line(1, 'Name', info.Name);
  out += line(1, 'ID', info.ID);
  out += line(1, 'Docker Root Dir', info.DockerRootDir);
  out += line(1, 'Debug Mode', info.Debug);
  out += line(1, 'Experimental', info.ExperimentalBuild);
  const insecure = info.RegistryConfig?.InsecureRegistryCIDRs ?? [];
  if (insecure.length) out += ' Insecure Registries:\n' + insecure.map((c) => `  ${c}\n`).join('');
  out += line(1, 'Live Restore Enabled', info.LiveRestoreEnabled);
  out += '\n';
  for (const w of info.Warnings ?? []) out += `${w}\n`;
  return out;
}

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const format = stringOpt(opts['format']);
  const tmpl = format ? parseGoTemplate(format === 'json' ? '{{json .}}' : format) : undefined;
  const client = await ctx.client();
  const info = await client.info<SystemInfo>();
  await ctx.print(tmpl ? `${tmpl.execute(info)}\n` : renderInfo(info, ctx.globals.debug === true));
}
