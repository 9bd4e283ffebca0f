// The composition root (STYLE.md §1): the only place concrete stores, services and
// backends are built and wired into routes.
//
// Start-up stays lean: the socket comes up with only /_ping, /version, /info and /events
// (no zod, no storage code loaded); everything heavy is imported dynamically in
// `loadEngine` while the socket is already answering, and requests for its routes wait
// for it. Add new services there, with `await import(...)`, never as static imports here.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { ImageService } from '../image/index.js';
import type { OneShotNetwork } from '../runtime/index.js';
import type { Storage } from '../storage/index.js';
import type { VolumeService } from '../volume/index.js';
import {
  BerthError,
  EventBus,
  configureLogging,
  logger,
  writeFileAtomic,
  type LogLevel,
} from '../util/index.js';
import { BERTH_VERSION } from './build-info.js';
import { EngineSystem } from './engine-system.js';
import { eventRoutes } from './routes/events.js';
import { systemRoutes } from './routes/system.js';
import type { NetworkBackend } from './routes/networks.js';
import { Router, type Route } from './router.js';
import { ApiServer, parseListenAddress } from './server.js';

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  /** `unix:///run/berth/berth.sock` */
  host: string;
  /** Also listen on loopback TCP, e.g. `tcp://127.0.0.1:2375`. */
  tcpHost?: string;
  logLevel?: LogLevel;
  /** Default `<exec-root>/berthd.pid`. */
  pidfile?: string;
  /** Prefix of bridges, iptables chains and netns names; tests use `bt<rand>`. Default `berth`. */
  namePrefix?: string;
  /** Subnet pools for networks (default 10.210.0.0/16 in /24s); tests pass their own. */
  addressPools?: Array<{ base: string; size: number }>;
}

export interface RunningDaemon {
  socketPath: string;
  /** Every address listened on (`unix://…`, `tcp://127.0.0.1:port`). */
  addresses: string[];
  events: EventBus;
  close(): Promise<void>;
}

export const DEFAULT_DAEMON_CONFIG = {
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  host: 'unix:///run/berth/berth.sock',
} as const;

type FrozenConfig = Readonly<Required<Omit<DaemonConfig, 'logLevel' | 'tcpHost' | 'addressPools'>>> & Pick<DaemonConfig, 'logLevel' | 'tcpHost' | 'addressPools'>;

function validateConfig(c: DaemonConfig): FrozenConfig {
  for (const [name, path] of [['data-root', c.dataRoot], ['exec-root', c.execRoot]] as const) {
    if (!isAbsolute(path)) throw new BerthError('invalid-argument', `invalid ${name} "${path}": expected an absolute path`);
  }
  const addr = parseListenAddress(c.host);
  if (addr.kind !== 'unix') throw new BerthError('invalid-argument', `invalid host "${c.host}": expected unix:///path`);
  if (c.tcpHost !== undefined) {
    const tcp = parseListenAddress(c.tcpHost);
    if (tcp.kind !== 'tcp') throw new BerthError('invalid-argument', `invalid tcp host "${c.tcpHost}": expected tcp://host:port`);
  }
  const namePrefix = c.namePrefix ?? 'berth';
  if (!/^[a-z][a-z0-9]{1,7}$/.test(namePrefix)) {
    throw new BerthError('invalid-argument', `invalid name prefix "${namePrefix}": expected 2-8 lowercase letters and digits`);
  }
  return Object.freeze({
    dataRoot: c.dataRoot,
    execRoot: c.execRoot,
    host: c.host,
    tcpHost: c.tcpHost,
    logLevel: c.logLevel,
    pidfile: c.pidfile ?? join(c.execRoot, 'berthd.pid'),
    namePrefix,
    addressPools: c.addressPools,
  });
}

async function isLiveBerthd(pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // ESRCH: no such process. EPERM: alive but not ours, so not a berthd we could share state with.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A recycled pid belongs to some other program: only a berth process counts.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return /berth/.test(cmdline);
}

/** Refuses to start while another live berthd holds the pidfile, then claims it. */
async function claimPidfile(path: string): Promise<void> {
  const existing = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing !== undefined) {
    const pid = Number.parseInt(existing.trim(), 10);
    if (await isLiveBerthd(pid)) {
      throw new BerthError('conflict', `cannot start berthd: another berthd (pid ${pid}) holds the pidfile "${path}"`);
    }
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${process.pid}\n`, { durable: false });
}

/** The heavy part of the engine, loaded after the socket is up. */
interface Engine {
  storage: Storage;
  routes: Route[];
  countImages?: (opts: { signal?: AbortSignal }) => Promise<number>;
  countContainers?: (opts: { signal?: AbortSignal }) => Promise<{ containers: number; running: number; paused: number; stopped: number }>;
  /** Stops background work; called before the storage goes away. */
  close(): Promise<void>;
}

async function loadEngine(cfg: FrozenConfig, events: EventBus): Promise<Engine> {
  const { openStorage } = await import('../storage/index.js');
  const storage = await openStorage(cfg.dataRoot);
  const routes: Route[] = [];
  void events; // Handed to every service that publishes events (images, containers, …).

  // Images (src/image + routes/images.ts, routes/system-df.ts): one ImageService for everyone.
  const [{ ImageService }, { imageRoutes }, { systemDfRoutes, containerDiskUsage }] = await Promise.all([
    import('../image/index.js'),
    import('./routes/images.js'),
    import('./routes/system-df.js'),
  ]);
  const images = await ImageService.open({ storage, root: cfg.dataRoot, events });
  // Volumes (src/volume + routes/volumes.ts): one VolumeService for the routes, df and the runtime.
  const [{ VolumeService }, { volumeRoutes, toWireVolume }] = await Promise.all([
    import('../volume/index.js'),
    import('./routes/volumes.js'),
  ]);
  const volumes = new VolumeService({ root: join(cfg.dataRoot, 'volumes'), events });
  await volumes.init();
  routes.push(
    ...imageRoutes(images),
    ...systemDfRoutes(images, {
      containers: (o) => containerDiskUsage(containerWiring.sizes, containerWiring.listedImage)(o),
      volumes: async (o) => (await volumes.usage(o)).map(toWireVolume),
      buildCache: async () => (await builder.diskUsage()).map(toWireBuildCache),
    }),
    ...volumeRoutes(volumes),
  );
  // WIRE containers/exec (src/runtime + routes/containers*.ts, routes/exec.ts):
  const containerWiring = await wireContainers(cfg, events, storage, images, volumes);
  routes.push(...containerWiring.routes);
  // Builder (src/builder + routes/build.ts): RUN steps through runtime's OneShotRunner, on the
  // default bridge of the NetworkService wired with the containers.
  const [{ BuildService }, { buildRoutes, toWireBuildCache }] = await Promise.all([import('../builder/index.js'), import('./routes/build.js')]);
  const builder = await BuildService.open({ dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, storage, images, cgroupParent: `/${cfg.namePrefix}`, network: containerWiring.buildNetwork });
  routes.push(...buildRoutes(builder));
  // Images a running build still needs are in use, like a running container's (prune skips them).
  images.setUsageCheck(async (imageId) => [...containerWiring.imageUsers(imageId), ...builder.imageUsers(imageId)]);

  return {
    storage,
    routes,
    countImages: async () => images.count(),
    countContainers: async () => containerWiring.counts(),
    close: async () => containerWiring.close(),
  };
}

/**
 * Containers: the runtime over the image, volume and storage services. Until the image
 * and network helpers wire theirs above, this builds what it needs itself.
 */
async function wireContainers(cfg: FrozenConfig, events: EventBus, storage: Storage, images: ImageService, volumes: VolumeService) {
  const [{ ContainerVolumeMounter }, runtime, { containerRoutes }, { execRoutes }] = await Promise.all([
    import('../volume/index.js'),
    import('../runtime/index.js'),
    import('./routes/containers.js'),
    import('./routes/exec.js'),
  ]);
  // Networks: bridges, IPAM, ports, embedded DNS; restore() re-plumbs what survived a crash/reboot.
  const [{ NetworkService, ContainerNetworkAttacher, DEFAULT_BRIDGE_NETWORK }, { networkRoutes }] = await Promise.all([
    import('../network/index.js'),
    import('./routes/networks.js'),
  ]);
  const networks = new NetworkService({ dataRoot: cfg.dataRoot, events, namePrefix: cfg.namePrefix, addressPools: cfg.addressPools });
  await networks.restore();
  // Build RUN steps: a namespace file made by the OneShotRunner, joined to the default bridge.
  const buildAttacher = new ContainerNetworkAttacher(networks);
  const buildNetwork: OneShotNetwork = {
    connect: async (sandbox, netnsPath, o) => {
      const host = { networkMode: DEFAULT_BRIDGE_NETWORK, portBindings: {}, publishAllPorts: false, dns: [], dnsSearch: [], dnsOptions: [] };
      const plan = await buildAttacher.plan({ id: sandbox.id, name: sandbox.name, spec: { hostname: sandbox.hostname, exposedPorts: [], host, endpoints: {} } });
      await networks.attach({ id: sandbox.id, name: sandbox.name }, netnsPath, [{ network: DEFAULT_BRIDGE_NETWORK }], [], o);
      return { hostsEntries: plan.hostsEntries, resolvConf: plan.resolvConf, ...(plan.hostGateway ? { hostGateway: plan.hostGateway } : {}) };
    },
    disconnect: async (sandbox) => {
      await networks.detach(sandbox.id);
      await networks.releaseContainer(sandbox.id);
    },
  };
  const containers = new runtime.ContainerService({
    dataRoot: cfg.dataRoot,
    execRoot: cfg.execRoot,
    images: {
      resolve: async (name, o) => {
        const r = await images.resolve(name, o);
        const platform = { os: r.config.os, architecture: r.config.architecture, variant: r.config.variant };
        return { id: r.id, config: r.config.config ?? {}, topChainId: r.topChainId, repoTags: r.repoTags, platform };
      },
      commit: async (req, o) =>
        images.commit({ ...req, parent: (await images.resolve(req.parent)).id, config: req.config as Parameters<ImageService['commit']>[0]['config'] }, o),
    },
    snapshotter: storage.snapshotter,
    volumes: new ContainerVolumeMounter(volumes),
    network: new ContainerNetworkAttacher(networks),
    events,
    cgroupParent: `/${cfg.namePrefix}`,
  });
  await containers.init();
  // Containers are the truth for volume references: drop those a crash left behind.
  await volumes.reconcileReferences(containers.list().map((c) => c.id));
  const imageUsers = (imageId: string) => containers.list().filter((c) => c.config.image.id === imageId).map((c) => ({ id: c.id, running: c.isRunning }));
  images.setUsageCheck(async (imageId) => imageUsers(imageId));
  const execs = new runtime.ExecManager(containers);
  // A removed container gives its addresses back (runtime publishes `destroy` after removal).
  events.subscribe((e) => {
    if (e.type !== 'container' || e.action !== 'destroy') return;
    networks.releaseContainer(e.actor.id).catch((err: unknown) => {
      logger('network').warn('cannot release the addresses of a removed container', { container: e.actor.id.slice(0, 12), error: String(err) });
    });
  });
  // An exited container no longer mounts its volumes (dockerd unmounts them at stop): local
  // volumes with driver options are unmounted once no running container uses them.
  events.subscribe((e) => {
    if (e.type !== 'container' || e.action !== 'die') return;
    volumes.deactivateMounts(e.actor.id).catch((err: unknown) => {
      logger('volume').warn('cannot unmount the volumes of an exited container', { container: e.actor.id.slice(0, 12), error: String(err) });
    });
  });
  // `ps -s` / `system df`: SizeRootFs is the image's files plus the writable layer, as dockerd
  // reports it (`0B (virtual 2.13MB)`), not the writable layer alone.
  const sizeOf = async (c: ReturnType<typeof containers.list>[number]) => {
    const [s, img] = await Promise.all([containers.sizeOf(c), images.inspect(c.config.image.id).catch(() => undefined)]);
    return { rw: s.rw, rootFs: s.rw + (img?.size ?? 0) };
  };
  // `ps` shows the reference a container was created with while it still names that image,
  // else the image id (after `rmi -f` of the tag, or the tag moved to a rebuilt image).
  const listedImage = (ref: string, imageId: string): string => {
    try {
      return images.exists(ref) === imageId ? ref : imageId;
    } catch {
      return imageId;
    }
  };
  const resolveContainer = async (ref: string) => {
    const c = containers.get(ref);
    return { id: c.id, name: c.name.replace(/^\//, '') };
  };
  // connect/disconnect also go into the container's config (the next start joins the same
  // networks) and its NetworkSettings.
  const networkBackend: NetworkBackend = {
    list: (f) => networks.list(f),
    inspect: (n) => networks.inspect(n),
    create: (req, o) => networks.create(req, o),
    remove: (n, o) => networks.remove(n, o),
    prune: (f, o) => networks.prune(f, o),
    connect: async (n, container, req, o) => {
      const net = await networks.inspect(n);
      await networks.connect(n, container, req, o);
      await containers.networkChanged(container.id, { action: 'connect', network: { id: net.Id, name: net.Name }, aliases: req.aliases, ipv4Address: req.ipv4Address });
    },
    disconnect: async (n, containerId, o) => {
      const net = await networks.inspect(n);
      // A container never started has its networks only in its config (compose 1.29 disconnects
      // and reconnects a created container to set its aliases): then the config is all to change.
      const onlyInConfig = !(net.Name in networks.containerNetworks(containerId)) && containers.joinsNetwork(containerId, { id: net.Id, name: net.Name });
      if (!onlyInConfig) await networks.disconnect(n, containerId, o);
      await containers.networkChanged(containerId, { action: 'disconnect', network: { id: net.Id, name: net.Name } });
    },
  };
  return {
    buildNetwork,
    imageUsers,
    routes: [...containerRoutes(containers, { sizeOf, listedImage }), ...execRoutes(execs), ...networkRoutes(networkBackend, resolveContainer)],
    sizes: { list: () => containers.list(), sizeOf },
    listedImage,
    counts: () => {
      const all = containers.list();
      const running = all.filter((c) => c.state.status === 'running').length;
      const paused = all.filter((c) => c.state.status === 'paused').length;
      return { containers: all.length, running, paused, stopped: all.length - running - paused };
    },
    close: async () => {
      await containers.close();
      await networks.close();
    },
  };
}

export async function startDaemon(config: DaemonConfig): Promise<RunningDaemon> {
  const started = performance.now();
  if (config.logLevel) configureLogging({ level: config.logLevel });
  const cfg = validateConfig(config);
  const log = logger('daemon');
  const socketPath = (parseListenAddress(cfg.host) as { path: string }).path;

  await Promise.all([
    mkdir(cfg.dataRoot, { recursive: true, mode: 0o711 }),
    mkdir(cfg.execRoot, { recursive: true, mode: 0o700 }),
    mkdir(dirname(socketPath), { recursive: true, mode: 0o755 }),
  ]);
  await claimPidfile(cfg.pidfile);

  const cleanups: (() => Promise<void>)[] = [async () => void (await rm(cfg.pidfile, { force: true }))];
  const runCleanups = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      await c().catch((err: unknown) => log.warn('shutdown step failed', { error: String(err) }));
    }
  };

  let engineLoading: Promise<Engine> | undefined;
  try {
    const events = new EventBus();
    // The engine starts loading once the socket listens: importing it takes the main thread
    // for a while, and the listen (and the first /_ping) should not queue behind that.
    let openGate: () => void = () => undefined;
    let shutGate: (err: unknown) => void = () => undefined;
    const gate = new Promise<void>((resolve, reject) => {
      openGate = resolve;
      shutGate = reject;
    });
    engineLoading = gate.then(() => loadEngine(cfg, events));
    // Until the engine is in, a failed load is reported by the await below, not here.
    engineLoading.catch(() => undefined);
    const loading = engineLoading;
    const engine = () => loading;

    const evRoutes = eventRoutes(events);
    const system = new EngineSystem({
      dataRoot: cfg.dataRoot,
      runc: 'runc',
      init: 'catatonit',
      debug: cfg.logLevel === 'debug' || cfg.logLevel === 'trace',
      eventListeners: evRoutes.listenerCount,
      // Runtime is loaded lazily (see the top of this file); the probe reads /proc and /sys once.
      securityOptions: async () => (await import('../runtime/index.js')).hostSecurityOptions(),
      countImages: async (o) => (await engine()).countImages?.(o) ?? 0,
      countContainers: async (o) =>
        (await (await engine()).countContainers?.(o)) ?? { containers: 0, running: 0, paused: 0, stopped: 0 },
    });

    const router = new Router();
    router.add(...systemRoutes(system));
    router.add(...evRoutes.routes);
    router.addLater(loading.then((e) => e.routes));

    const server = new ApiServer({ router, log: logger('api'), serverVersion: BERTH_VERSION });
    cleanups.push(() => server.close());
    let addresses: string[];
    try {
      addresses = [await server.listen(cfg.host)];
      if (cfg.tcpHost) addresses.push(await server.listen(cfg.tcpHost));
    } catch (err) {
      shutGate(err); // Nothing is loaded for a daemon that cannot listen.
      throw err;
    }
    openGate();
    log.debug('socket up', { addresses, ms: Math.round(performance.now() - started) });

    const loaded = await loading;
    // Cleanups run in reverse: the server closes (requests end), then services stop, then
    // the pidfile goes.
    cleanups.splice(1, 0, () => loaded.close());

    log.info('daemon ready', {
      addresses,
      dataRoot: cfg.dataRoot,
      startMs: Math.round(performance.now() - started),
      sinceProcessStartMs: Math.round(process.uptime() * 1000),
      rssMb: Math.round(process.memoryUsage().rss / 1048576),
      heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1048576),
      version: BERTH_VERSION,
    });

    let closing: Promise<void> | undefined;
    return {
      socketPath,
      addresses,
      events,
      close: () => {
        closing ??= (async () => {
          log.info('daemon shutting down');
          await runCleanups();
          log.info('daemon stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    await runCleanups();
    // A start that failed elsewhere (e.g. the socket) must not leave the engine working on.
    await engineLoading?.then((e) => e.close(), () => undefined);
    throw err;
  }
}

/**
 * Runs the daemon in the foreground until SIGTERM or SIGINT, then closes it cleanly.
 * The handlers are installed before start-up, because /_ping answers (and clients may
 * already ask berthd to stop) while the engine is still loading. A second signal while
 * stopping exits at once.
 */
export async function runDaemonUntilSignal(config: DaemonConfig): Promise<void> {
  const log = logger('daemon');
  let daemon: RunningDaemon | undefined;
  let stopping = false;
  let stopRequested: () => void = () => undefined;
  const stopSignalled = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      log.warn('second signal while stopping: exiting now', { signal: sig });
      process.exit(130);
    }
    stopping = true;
    log.info('signal received', { signal: sig, starting: daemon === undefined });
    stopRequested();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    daemon = await startDaemon(config);
    await stopSignalled;
    await daemon.close();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
