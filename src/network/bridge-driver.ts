// The bridge driver: Linux bridges, veth pairs and iptables. An endpoint is plumbed over
// rtnetlink by the berth-sys addon (plugVeth, no process); the rest, and endpoints without the
// addon, go through iproute2 in batch mode (one spawn per side of an endpoint), and the firewall
// through iptables-restore (one spawn per sync). Work inside a container's namespace runs `ip`
// with run()'s `netns` option: the addon setns()es the child into it before the exec (Node has
// no setns); without the addon, run() puts `nsenter --net=<path>` in front.
import { access, readdir, writeFile } from 'node:fs/promises';
import { BerthError, KeyedMutex, invalidArgument, logger, nativeSys, run } from '../util/index.js';
import {
  jumpRules,
  missingJumps,
  renderJumps,
  parseSaved,
  renderFirewall,
  renderSweep,
  type JumpRule,
} from './iptables-rules.js';
import { macForIpv4, parseCidr, parseIpv4 } from './ipv4.js';
import type {
  DetachOptions,
  DriverEndpoint,
  DriverNetwork,
  DriverResources,
  FirewallState,
  NetworkDriver,
  OpOptions,
} from './network-driver.js';

const log = logger('network');

/** Interface names are at most 15 bytes (IFNAMSIZ - 1). */
const IFNAMSIZ = 15;
const IP_TIMEOUT_MS = 10_000;
const IPTABLES_TIMEOUT_MS = 20_000;
const PREFIX_RE = /^[a-z][a-z0-9]{1,7}$/;

export interface BridgeDriverOptions {
  /** Name prefix for bridges, veths and iptables chains (default `berth`, tests `bt<rand>`). */
  prefix?: string;
  ipBin?: string;
  iptablesRestoreBin?: string;
  iptablesSaveBin?: string;
  /** Where sysctls live (tests of the rendering may point elsewhere). */
  procSys?: string;
}

export class BridgeDriver implements NetworkDriver {
  readonly prefix: string;
  private readonly ip: string;
  private readonly restoreBin: string;
  private readonly saveBin: string;
  private readonly procSys: string;
  private readonly mutex = new KeyedMutex();
  /** Jumps from built-in chains known to be installed; undefined until the first look. */
  private installedJumps: Set<string> | undefined;
  /** The pending look for jumps removed from outside (checkJumpsLater). */
  private jumpCheck: Promise<void> | undefined;

  constructor(opts: BridgeDriverOptions = {}) {
    this.prefix = opts.prefix ?? 'berth';
    if (!PREFIX_RE.test(this.prefix)) {
      throw invalidArgument(`network name prefix "${this.prefix}" must be 2–8 lowercase letters or digits`);
    }
    this.ip = opts.ipBin ?? 'ip';
    this.restoreBin = opts.iptablesRestoreBin ?? 'iptables-restore';
    this.saveBin = opts.iptablesSaveBin ?? 'iptables-save';
    this.procSys = opts.procSys ?? '/proc/sys';
  }

  bridgeNameFor(networkId: string, isDefault: boolean): string {
    if (isDefault) return `${this.prefix}0`;
    return `${this.prefix}-${networkId.slice(0, IFNAMSIZ - this.prefix.length - 1)}`;
  }

  hostVethNameFor(endpointId: string): string {
    return `${this.prefix}v${endpointId.slice(0, IFNAMSIZ - this.prefix.length - 1)}`;
  }

  async ensureNetwork(net: DriverNetwork, opts: OpOptions = {}): Promise<void> {
    const br = this.ownName(net.bridgeName);
    const { prefixLen } = parseCidr(net.subnet);
    const addr = `${net.gateway}/${prefixLen}`;
    await this.writeSysctl('net/ipv4/ip_forward', '1');
    const exists = await linkExists(br);
    const cmds = exists
      ? [`addr replace ${addr} dev ${br}`, `link set ${br} up`]
      : [
          // A fixed MAC keeps the bridge's address stable as ports come and go.
          `link add name ${br} address ${macForIpv4(parseIpv4(net.gateway))}${mtuOpt(net)} type bridge`,
          `addr add ${addr} dev ${br}`,
          `link set ${br} up`,
        ];
    await this.ipBatch(cmds, opts);
    // 127.0.0.1:<port> is DNAT'ed to a container behind this bridge; without route_localnet the
    // kernel drops such packets as martians. INPUT rules in the firewall fence off the side effect.
    await this.writeSysctl(`net/ipv4/conf/${br}/route_localnet`, '1');
  }

  async removeNetwork(net: DriverNetwork, opts: OpOptions = {}): Promise<void> {
    await this.deleteLink(this.ownName(net.bridgeName), opts);
  }

  async attachEndpoint(net: DriverNetwork, ep: DriverEndpoint, opts: OpOptions = {}): Promise<void> {
    const br = this.ownName(net.bridgeName);
    const veth = this.ownName(ep.hostVeth);
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(ep.ifName)) throw invalidArgument(`invalid interface name ${ep.ifName}`);
    const sys = nativeSys();
    try {
      // The same steps over rtnetlink, without two runs of ip (~1 ms of CPU each to start).
      if (sys) await sys.plugVeth(ep.netnsPath, ep.ifName, ep.mac, net.mtu ?? 0, veth, ep.ipv4, ep.prefixLen, ep.defaultGateway ?? null, br);
      else await this.plugWithIp(br, veth, net, ep, opts);
    } catch (e) {
      // Each stops at its first failing step: the pair may exist half-configured.
      await this.deleteLink(veth, {}).catch((e2: unknown) => {
        log.warn('cannot undo a half-attached endpoint', { veth, error: String(e2) });
      });
      throw e;
    }
  }

  private async plugWithIp(br: string, veth: string, net: DriverNetwork, ep: DriverEndpoint, opts: OpOptions): Promise<void> {
    const inside = [
      // Created inside the namespace with the peer sent to ours (by pid): works for any nsfs path.
      `link add name ${ep.ifName} address ${ep.mac}${mtuOpt(net)} type veth peer name ${veth}${mtuOpt(net)} netns ${process.pid}`,
      'link set lo up',
      `addr add ${ep.ipv4}/${ep.prefixLen} dev ${ep.ifName}`,
      `link set ${ep.ifName} up`,
    ];
    if (ep.defaultGateway) inside.push(`route replace default via ${ep.defaultGateway} dev ${ep.ifName}`);
    await this.ipBatch(inside, { ...opts, netnsPath: ep.netnsPath });
    await this.ipBatch([`link set ${veth} master ${br} up`], opts);
  }

  async setDefaultRoute(ep: DriverEndpoint, opts: OpOptions = {}): Promise<void> {
    if (!ep.defaultGateway) throw invalidArgument('no gateway for the default route');
    await this.ipBatch([`route replace default via ${ep.defaultGateway} dev ${ep.ifName}`], { ...opts, netnsPath: ep.netnsPath });
  }

  async detachEndpoint(_net: DriverNetwork, ep: DriverEndpoint, opts: DetachOptions = {}): Promise<void> {
    const veth = this.ownName(ep.hostVeth);
    // The kernel deletes the pair 10-30 ms after its namespace goes (measured here), as fast as
    // `ip link del` (13-39 ms) and without a process; `ip` only deletes one that outlives that.
    if (opts.namespaceGone && (await linkGoneWithin(veth, NAMESPACE_GONE_WAIT_MS))) return;
    await this.deleteLink(veth, opts);
  }

  /** Deletes a link if it is there; one that vanished meanwhile (its namespace died) is success. */
  private async deleteLink(name: string, opts: OpOptions): Promise<void> {
    if (!(await linkExists(name))) return;
    try {
      await this.ipBatch([`link del ${name}`], opts);
    } catch (e) {
      if (await linkExists(name)) throw e;
    }
  }

  async syncFirewall(state: FirewallState, opts: OpOptions = {}): Promise<void> {
    await this.mutex.run('firewall', async () => {
      const wanted = jumpRules(this.prefix);
      if (!this.installedJumps) {
        const saved = parseSaved(this.prefix, await this.iptablesSave(opts));
        const missing = new Set(missingJumps(wanted, saved));
        this.installedJumps = new Set(wanted.filter((j) => !missing.has(j)).map(jumpKey));
      }
      const missing = wanted.filter((j) => !this.installedJumps!.has(jumpKey(j)));
      await this.iptablesRestore(renderFirewall(this.prefix, state, missing), opts);
      for (const j of missing) this.installedJumps.add(jumpKey(j));
    });
    this.checkJumpsLater();
  }

  /**
   * After a sync, off its caller's path: jumps into berth's chains that something else removed
   * (an `iptables -F`, a firewall reload) are put back. The sync trusts what it installed, so
   * without this every published port stayed dark until berthd restarted (seen once on the
   * development host). One iptables-save per burst of syncs.
   */
  private checkJumpsLater(): void {
    if (this.jumpCheck) return;
    this.jumpCheck = this.mutex
      .run('firewall', async () => {
        this.jumpCheck = undefined;
        const missing = missingJumps(jumpRules(this.prefix), parseSaved(this.prefix, await this.iptablesSave({})));
        if (!missing.length) return;
        log.warn('firewall jumps into berth chains were removed from outside; putting them back', { jumps: missing.map((j) => `${j.table} ${j.chain}`) });
        await this.iptablesRestore(renderJumps(missing), {});
      })
      .catch((err: unknown) => log.warn('cannot check the firewall jumps', { error: String(err) }));
  }

  async listResources(opts: OpOptions = {}): Promise<DriverResources> {
    const links = await readdir('/sys/class/net');
    const saved = parseSaved(this.prefix, await this.iptablesSave(opts));
    return {
      bridges: links.filter((l) => l === `${this.prefix}0` || l.startsWith(`${this.prefix}-`)).sort(),
      hostVeths: links.filter((l) => l.startsWith(`${this.prefix}v`)).sort(),
      chains: [...new Set(saved.chains.map((c) => c.chain))].sort(),
    };
  }

  async cleanupAll(opts: OpOptions = {}): Promise<void> {
    const res = await this.listResources(opts);
    const dels = [...res.hostVeths, ...res.bridges].map((l) => `link del ${l}`);
    try {
      if (dels.length) {
        // -force: a veth that goes with its namespace meanwhile (a release in flight) fails its
        // line without stopping the others.
        await this.ipBatch(dels, { ...opts, force: true }).catch(async (e: unknown) => {
          // Some veths vanish when their bridge or namespace goes; only a survivor is an error.
          const left = await this.listResources(opts);
          if (left.bridges.length + left.hostVeths.length) throw e;
        });
      }
    } finally {
      // The rules go even when a link stays: a failed cleanup left whole chains behind before.
      await this.mutex.run('firewall', async () => {
        const sweep = renderSweep(parseSaved(this.prefix, await this.iptablesSave(opts)));
        if (sweep) await this.iptablesRestore(sweep, opts);
        this.installedJumps = undefined;
      });
    }
  }

  /** Refuses to touch a device that does not carry this driver's prefix. */
  private ownName(name: string): string {
    if (!name.startsWith(this.prefix) || name.length > IFNAMSIZ || !/^[a-z0-9-]+$/.test(name)) {
      throw new BerthError('internal', `device ${name} does not belong to prefix ${this.prefix}`);
    }
    return name;
  }

  private async ipBatch(cmds: string[], opts: OpOptions & { netnsPath?: string; force?: boolean }): Promise<void> {
    const input = cmds.join('\n') + '\n';
    await run(this.ip, [...(opts.force ? ['-force'] : []), '-batch', '-'], { timeoutMs: IP_TIMEOUT_MS, signal: opts.signal, input, netns: opts.netnsPath });
  }

  private async iptablesSave(opts: OpOptions): Promise<string> {
    const { stdout } = await run(this.saveBin, [], { timeoutMs: IPTABLES_TIMEOUT_MS, signal: opts.signal });
    return stdout;
  }

  private async iptablesRestore(input: string, opts: OpOptions): Promise<void> {
    await run(this.restoreBin, ['--noflush', '-w', '10'], { timeoutMs: IPTABLES_TIMEOUT_MS, signal: opts.signal, input });
  }

  private async writeSysctl(key: string, value: string): Promise<void> {
    await writeFile(`${this.procSys}/${key}`, value);
  }
}

function mtuOpt(net: DriverNetwork): string {
  return net.mtu ? ` mtu ${net.mtu}` : '';
}

function jumpKey(j: JumpRule): string {
  return `${j.table} ${j.chain} ${j.spec}`;
}

/** How long a veth may take to go with its namespace before `ip link del` deletes it. */
const NAMESPACE_GONE_WAIT_MS = 250;

/** Polls (1, 2, 4, … ms apart) until the link is gone: true, or false once `ms` have passed. */
async function linkGoneWithin(name: string, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (let pause = 1; ; pause *= 2) {
    if (!(await linkExists(name))) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await new Promise((r) => setTimeout(r, Math.min(pause, left)));
  }
}

async function linkExists(name: string): Promise<boolean> {
  try {
    await access(`/sys/class/net/${name}`);
    return true;
  } catch {
    // ENOENT: no such device.
    return false;
  }
}
