// Changes to an existing container's config: rename, network connect/disconnect, `docker
// update` (resources applied live through `runc update`, restart policy), TTY resize.
import { BerthError } from '../util/index.js';
import { resizeTerminal } from './conmon.js';
import type { ContainerContext } from './container-context.js';
import type { ContainerSpec } from './container-spec.js';
import { validateName } from './names.js';

export type UpdatableHostSpec = Partial<
  Pick<ContainerSpec['host'], 'memory' | 'memorySwap' | 'memoryReservation' | 'nanoCpus' | 'cpuShares' | 'cpuQuota' | 'cpuPeriod' | 'cpusetCpus' | 'pidsLimit' | 'restartPolicy'>
>;

export interface NetworkChange {
  action: 'connect' | 'disconnect';
  network: { id: string; name: string };
  aliases?: string[];
  ipv4Address?: string;
}

export async function renameContainer(ctx: ContainerContext, ref: string, newName: string): Promise<void> {
  const c = ctx.get(ref);
  const name = validateName(newName);
  if (name === c.name) throw new BerthError('invalid-argument', 'Renaming a container with the same name as its current name');
  const other = ctx.names.get(name);
  if (other) throw ctx.nameConflict(name, other);
  await ctx.locks.run(c.id, async () => {
    const old = c.name;
    ctx.names.set(name, c.id);
    ctx.names.delete(old);
    c.config = { ...c.config, name };
    await ctx.store.saveConfig(c.config);
    ctx.publish(c, 'rename', { oldName: `/${old}` });
  });
}

/** Whether the container's config joins `network` at its next start (its mode's network or an endpoint). */
export function joinsNetwork(ctx: ContainerContext, ref: string, network: { id: string; name: string }): boolean {
  const spec = ctx.get(ref).config.spec;
  const mode = spec.host.networkMode === 'default' || spec.host.networkMode === '' ? 'bridge' : spec.host.networkMode;
  const names = [network.name, network.id];
  if (names.includes(mode) && !spec.primaryDisconnected) return true;
  return names.some((n) => n in spec.endpoints);
}

/**
 * After `docker network connect/disconnect` (done by the network service): the change is kept
 * in the container's config, so the next start joins the same networks, and a running
 * container's NetworkSettings are read again from the attacher.
 */
export async function recordNetworkChange(ctx: ContainerContext, ref: string, change: NetworkChange): Promise<void> {
  const c = ctx.get(ref);
  await ctx.locks.run(c.id, async () => {
    const spec = { ...c.config.spec, endpoints: { ...c.config.spec.endpoints } };
    const mode = spec.host.networkMode;
    const names = [change.network.name, change.network.id];
    const isPrimary = names.includes(mode === 'default' || mode === '' ? 'bridge' : mode);
    for (const n of names) delete spec.endpoints[n];
    if (change.action === 'connect') {
      if (isPrimary) delete spec.primaryDisconnected;
      spec.endpoints[change.network.name] = { aliases: change.aliases ?? [], ...(change.ipv4Address ? { ipv4Address: change.ipv4Address } : {}) };
    } else if (isPrimary) {
      spec.primaryDisconnected = true;
    }
    c.config = { ...c.config, spec };
    await ctx.store.saveConfig(c.config);
    // Memberships are what the network service holds (a stopped container keeps its reserved
    // ones); a container never started has none yet and inspect derives its network from the mode.
    const live = ctx.opts.network.networksOf?.(c.id);
    if (live && (c.isRunning || c.state.networkSettings)) {
      c.state.networkSettings = { ...(c.state.networkSettings ?? {}), networks: live };
      await ctx.saveState(c);
    }
  });
}

/** `docker update`: resources and restart policy. */
export async function updateContainer(ctx: ContainerContext, ref: string, change: UpdatableHostSpec): Promise<string[]> {
  const c = ctx.get(ref);
  return ctx.locks.run(c.id, async () => {
    const host = { ...c.config.spec.host };
    for (const [k, v] of Object.entries(change)) if (v !== undefined) (host as Record<string, unknown>)[k] = v;
    if (host.autoRemove && host.restartPolicy.name !== 'no') {
      throw new BerthError('invalid-argument', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    if (c.isRunning) {
      const res: Record<string, unknown> = {};
      if (change.memory !== undefined || change.memorySwap !== undefined) {
        res.memory = { limit: host.memory || undefined, swap: ctx.host.swapAccounting ? (host.memorySwap || (host.memory ? host.memory * 2 : undefined)) : undefined };
      }
      if (change.nanoCpus !== undefined || change.cpuQuota !== undefined || change.cpuShares !== undefined || change.cpusetCpus !== undefined) {
        res.cpu = {
          period: host.nanoCpus ? 100000 : host.cpuPeriod || undefined,
          quota: host.nanoCpus ? Math.round((host.nanoCpus * 100000) / 1e9) : host.cpuQuota || undefined,
          shares: host.cpuShares || undefined,
          cpus: host.cpusetCpus || undefined,
        };
      }
      if (change.pidsLimit !== undefined) res.pids = { limit: host.pidsLimit > 0 ? host.pidsLimit : -1 };
      if (Object.keys(res).length) await ctx.runc.update(c.id, res);
    }
    c.config = { ...c.config, spec: { ...c.config.spec, host } };
    await ctx.store.saveConfig(c.config);
    ctx.publish(c, 'update');
    return [];
  });
}

export async function resizeContainer(ctx: ContainerContext, ref: string, height: number, width: number): Promise<void> {
  const c = ctx.get(ref);
  if (!c.isRunning) throw new BerthError('conflict', `Container ${c.id} is not running`);
  if (!c.config.spec.tty) return;
  await resizeTerminal(c.bundle, height, width);
  ctx.publish(c, 'resize', { height: String(height), width: String(width) });
}
