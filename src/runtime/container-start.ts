// Starting a container's process (start, restart, restart policy): mount the rootfs, prepare
// userdata / user / mounts / devices / network namespace side by side, write runc's
// config.json, start conmon (which runs `runc create`) while the network is attached, release
// the process through runc's exec.fifo. Any failure undoes what was done, in reverse.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errorMessage, writeFileAtomic } from '../util/index.js';
import { hostsFile, resolvConfFile } from './basic-network.js';
import { spawnConmon } from './conmon.js';
import { settleAll, type ContainerContext } from './container-context.js';
import { checkExitFile, unwatchExit, watchExit } from './container-exit.js';
import { conmonOptions, startLookups, takeLookups, takePendingConmon } from './container-prestart.js';
import { deferred, type Container } from './container-record.js';
import type { ContainerSpec } from './container-spec.js';
import { hostDevices, requestedDevices } from './devices.js';
import { probeConfigOf } from './health.js';
import { generateOciSpec, INIT_PATH, type NamespaceSource } from './oci-spec.js';
import { processStartTime } from './proc.js';
import { createNetnsFile, removeNetnsFile } from './netns-file.js';
import { hostSecurity } from './security-opts.js';

/** Starts `c`'s process; called under the container lock with a transition already checked. */
export async function startProcess(ctx: ContainerContext, c: Container, opts: { signal?: AbortSignal }): Promise<void> {
  const spec = c.config.spec;
  const cleanup: Array<() => Promise<unknown>> = [];
  const t0 = performance.now();
  let tMount = t0;
  let attaching: Promise<Record<string, unknown>> | undefined;
  // The previous run's cgroups and endpoints (same paths and names) go first.
  await c.released;
  let preparing: Promise<unknown> | undefined;
  try {
    cleanup.push(() => ctx.unmountRootfs(c));
    // A first start finds conmon spawned at create (container-prestart.ts). Otherwise it is
    // spawned before the preparations are queued and waits on its start pipe, so its exec and
    // start-up (~4-5 ms) overlap them; spawned after them, it waited behind their ~50 fs calls
    // in libuv's thread pool (its config.json removal is one). It must not find the previous
    // run's config.json if berthd dies before releasing it.
    let conmon = await takePendingConmon(c);
    if (!conmon) {
      await rm(join(c.bundle, 'config.json'), { force: true });
      conmon = await spawnConmon(ctx.runc, conmonOptions(ctx, c));
    }
    const held = conmon;
    cleanup.push(() => held.abandon());
    const rootfsReady = (async () => {
      await settleAll([rm(join(c.exitDir, c.id), { force: true }), rm(join(c.bundle, 'oom'), { force: true }), ctx.mountRootfs(c, opts)]);
      tMount = performance.now();
    })();
    let args = [c.config.path, ...c.config.args];
    // Independent preparations run side by side, those that need no rootfs while it is mounted:
    // each is file I/O or one small spawn.
    const prepared = settleAll([
      prepareNetwork(ctx, c, cleanup),
      takeLookups(c) ?? rootfsReady.then(() => startLookups(c)),
      rootfsReady.then(() => ctx.opts.volumes.ociMounts({ id: c.id, mountPoints: c.config.mountPoints, rootfs: c.rootfs, spec })),
      spec.host.privileged ? hostDevices() : Promise.resolve([]),
      requestedDevices(spec.host.devices ?? []),
      hostSecurity(),
    ]);
    preparing = prepared.catch(() => undefined);
    const [network, { user }, extraMounts, hostDevs, requested, security] = await prepared;
    const devicePaths = new Set(requested.devices.map((d) => d.path));
    if (spec.host.init) args = [INIT_PATH, '--', ...args];
    const tPrep = performance.now();
    const ns = (mode: string): NamespaceSource | undefined => (mode === 'host' ? { mode: 'host' } : undefined);
    const oci = generateOciSpec({
      id: c.id,
      spec,
      image: c.config.image.config,
      rootfs: c.rootfs,
      userdataDir: c.userdata,
      user,
      args,
      bounding: ctx.host.bounding,
      hostHardLimits: ctx.host.hardLimits,
      cgroupsPath: ctx.cgroupPathOf(c),
      network: network.ns,
      ipc: spec.host.ipcMode.startsWith('container:')
        ? { mode: 'path', path: `/proc/${pidOf(ctx, spec.host.ipcMode.slice(10))}/ns/ipc` }
        : ns(spec.host.ipcMode),
      pid: spec.host.pidMode.startsWith('container:')
        ? { mode: 'path', path: `/proc/${pidOf(ctx, spec.host.pidMode.slice(10))}/ns/pid` }
        : ns(spec.host.pidMode),
      uts: ns(spec.host.utsMode),
      extraMounts,
      initBinary: spec.host.init ? ctx.opts.initBinary ?? '/usr/bin/catatonit' : undefined,
      swapAccounting: ctx.host.swapAccounting,
      hostHostname: ctx.host.hostname,
      devices: [...hostDevs.filter((d) => !devicePaths.has(d.path)), ...requested.devices],
      deviceRules: requested.rules,
      hostSecurity: security,
    });
    await writeFileAtomic(join(c.bundle, 'config.json'), JSON.stringify(oci), { durable: false });
    const netInfo = { id: c.id, name: c.name, spec: networkSpecOf(c) };
    const starting = held.run(opts.signal);
    // A namespace file is there already: its links are plumbed while runc creates the container.
    if (network.file) {
      attaching = ctx.opts.network.attach({ ...netInfo, netnsPath: network.file });
      // Awaited below (or in the catch): a failure before that is not an unhandled rejection.
      attaching.catch(() => undefined);
    }
    const started = await starting;
    cleanup.push(() => ctx.runc.delete(c.id, { force: true }));
    // Read while the rest goes on; a start time is set at fork, the exec does not change it.
    const startTimes = Promise.all([processStartTime(started.pid), processStartTime(started.conmonPid)]);
    // Attach (attach-output.ts) connects to conmon's socket when nextStart resolves: that must
    // happen after conmon is up, before startViaFifo lets the process run, with at least one
    // await between (the network attach below), or the first bytes of `docker run` are lost.
    const startedD = c.nextStart;
    c.nextStart = deferred();
    startedD.resolve();
    const tCreated = performance.now();
    attaching ??= ctx.opts.network.attach({ ...netInfo, netnsPath: `/proc/${started.pid}/ns/net` });
    const settings = await attaching;
    attaching = undefined;
    cleanup.push(() => ctx.opts.network.detach(netInfo));
    watchExit(ctx, c);
    await ctx.runc.startViaFifo(c.id, started.pid, opts);
    const [pidStart, conmonStart] = await startTimes;
    c.state = {
      ...c.state,
      status: 'running',
      pid: started.pid,
      pidStartTime: pidStart,
      conmonPid: started.conmonPid,
      conmonStartTime: conmonStart,
      exitCode: 0,
      error: '',
      oomKilled: false,
      startedAt: new Date().toISOString(),
      hasBeenStarted: true,
      networkSettings: settings,
      health: probeConfigOf(c) ? { status: 'starting', failingStreak: 0, log: [] } : undefined,
    };
    // The running state is written without waiting for the disk: a crash of berthd loses
    // nothing (the page cache has it), only a power loss could, which ends the container too.
    // An --rm container's is never synced (after a power loss it is only removed: see
    // restoreContainers for one seen as created); any other's is, after the answer (~5 ms here).
    await ctx.saveState(c, { durable: false });
    if (!spec.host.autoRemove) ctx.syncStateAfterwards(c);
    ctx.publish(c, 'start');
    ctx.log.trace('start phases', {
      container: c.id.slice(0, 12),
      mountMs: Math.round(tMount - t0),
      prepareMs: Math.round(tPrep - tMount),
      createMs: Math.round(tCreated - tPrep),
      startMs: Math.round(performance.now() - tCreated),
    });
    ctx.armHealthcheck(c);
    // The exit may have happened before the watcher saw the state change.
    void checkExitFile(ctx, c);
  } catch (err) {
    // No preparation may still run (and write into the rootfs or reserve addresses) while the cleanup undoes it.
    await preparing;
    unwatchExit(c);
    // An attach still under way (runc create failed beside it) ends before it is undone.
    if (attaching) cleanup.push(() => ctx.opts.network.detach({ id: c.id, name: c.name, spec: c.config.spec }));
    await attaching?.catch(() => undefined);
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
    c.state.error = errorMessage(err);
    await ctx.saveState(c).catch(() => undefined);
    throw err;
  }
}

/** The exit code dockerd records for a failed start: 127 not found, 126 not executable, 128 otherwise. */
export function startFailureExitCode(message: string): number {
  return /executable file not found|no such file or directory/.test(message) ? 127 : /permission denied/.test(message) ? 126 : 128;
}

/**
 * The network namespace (planned by the attacher, or another container's) and the userdata
 * files. A namespace the attacher plumbs is a file under the exec-root (`file`), made now or
 * at create (container-create.ts).
 */
async function prepareNetwork(ctx: ContainerContext, c: Container, cleanup: Array<() => Promise<unknown>>): Promise<{ ns: NamespaceSource; file?: string }> {
  const spec = c.config.spec;
  const netMode = spec.host.networkMode;
  let ns: NamespaceSource;
  let file: string | undefined;
  let hostsEntries: string[] = [];
  let resolvConf: string | undefined;
  let hostGateway: string | undefined;
  if (netMode.startsWith('container:')) {
    ns = { mode: 'path', path: `/proc/${pidOf(ctx, netMode.slice(10))}/ns/net` };
  } else {
    const plan = await ctx.opts.network.plan({ id: c.id, name: c.name, spec: networkSpecOf(c) });
    ns = plan.namespace;
    hostsEntries = plan.hostsEntries;
    resolvConf = plan.resolvConf;
    hostGateway = plan.hostGateway;
    if (plan.plumbed && ns.mode === 'new') {
      file = ctx.netnsFileOf(c);
      const made = file;
      cleanup.push(() => removeNetnsFile(made));
      // One made at create (container-create.ts) is fresh; anything else there is a leftover.
      if (!c.netnsPremade) {
        await removeNetnsFile(made);
        await createNetnsFile(made);
      }
      ns = { mode: 'path', path: made };
    }
  }
  c.netnsPremade = false;
  const hostname = spec.hostname || (netMode === 'host' ? ctx.host.hostname : c.id.slice(0, 12));
  const ownEntry = netMode === 'host' || hostsEntries.length ? [] : [`127.0.1.1\t${hostname}`];
  await Promise.all([
    writeFile(join(c.userdata, 'hostname'), hostname + '\n'),
    writeFile(join(c.userdata, 'hosts'), hostsFile(spec.host.extraHosts, [...hostsEntries, ...ownEntry], hostGateway)),
    writeFile(
      join(c.userdata, 'resolv.conf'),
      resolvConf ??
        resolvConfFile(ctx.host.resolvConf, {
          dns: spec.host.dns,
          dnsSearch: spec.host.dnsSearch,
          dnsOptions: spec.host.dnsOptions,
          hostNetwork: netMode === 'host',
        }),
    ),
  ]);
  return file ? { ns, file } : { ns };
}

/**
 * The spec as the network sees it: the image's EXPOSEd ports merged in, as dockerd merges them
 * into the container's config (so `-P` publishes them).
 */
function networkSpecOf(c: Container): ContainerSpec {
  const fromImage = Object.keys(c.config.image.config.ExposedPorts ?? {}).map((k) => (k.includes('/') ? k : `${k}/tcp`));
  if (!fromImage.length) return c.config.spec;
  return { ...c.config.spec, exposedPorts: [...new Set([...fromImage, ...c.config.spec.exposedPorts])] };
}

function pidOf(ctx: ContainerContext, ref: string): number {
  const other = ctx.get(ref);
  if (other.state.status !== 'running') throw new BerthError('conflict', `cannot join namespace of a non running container ${ref}`);
  return other.state.pid;
}
