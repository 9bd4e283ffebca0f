// The composition root (STYLE.md §1): the only place concrete stores, services and
// backends are built and wired into routes. Start-up stays lean: heavy modules are
// imported lazily by the services that need them.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { openStorage, type Storage } from '../storage/index.js';
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
import { Router } from './router.js';
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

type FrozenConfig = Readonly<Required<Omit<DaemonConfig, 'logLevel' | 'tcpHost'>>> & Pick<DaemonConfig, 'logLevel' | 'tcpHost'>;

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

  try {
    const events = new EventBus();
    const storage: Storage = await openStorage(cfg.dataRoot);
    void storage; // Used by the image service once wired (below).

    // ---- backends -------------------------------------------------------------------
    const evRoutes = eventRoutes(events);
    const system = new EngineSystem({
      dataRoot: cfg.dataRoot,
      runc: 'runc',
      init: 'catatonit',
      debug: cfg.logLevel === 'debug' || cfg.logLevel === 'trace',
      eventListeners: evRoutes.listenerCount,
      // WIRE: countImages: (o) => images.count(o)   (image service, src/image)
      // WIRE: countContainers: (o) => containers.counts(o)   (runtime)
    });

    // ---- routes ---------------------------------------------------------------------
    const router = new Router();
    router.add(...systemRoutes(system));
    router.add(...evRoutes.routes);
    // WIRE: router.add(...imageRoutes(images, ...))          (src/api/routes/images.ts)
    // WIRE: router.add(...containerRoutes(containers, ...))  (src/api/routes/containers*.ts)
    // WIRE: router.add(...execRoutes(...))                   (src/api/routes/exec.ts)
    // WIRE: router.add(...volumeRoutes(...))                 (src/api/routes/volumes.ts)
    // WIRE: router.add(...networkRoutes(...))                (src/api/routes/networks.ts)

    // ---- listen ---------------------------------------------------------------------
    const server = new ApiServer({ router, log: logger('api'), serverVersion: BERTH_VERSION });
    cleanups.push(() => server.close());
    const addresses = [await server.listen(cfg.host)];
    if (cfg.tcpHost) addresses.push(await server.listen(cfg.tcpHost));

    log.info('daemon ready', {
      addresses,
      dataRoot: cfg.dataRoot,
      startMs: Math.round(performance.now() - started),
      sinceProcessStartMs: Math.round(process.uptime() * 1000),
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
    throw err;
  }
}

/**
 * Runs the daemon in the foreground until SIGTERM or SIGINT, then closes it cleanly.
 * Resolves after the close; a second signal while closing exits at once.
 */
export async function runDaemonUntilSignal(config: DaemonConfig): Promise<void> {
  const daemon = await startDaemon(config);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) {
        logger('daemon').warn('second signal while stopping: exiting now', { signal: sig });
        process.exit(130);
      }
      stopping = true;
      logger('daemon').info('signal received', { signal: sig });
      daemon.close().finally(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
