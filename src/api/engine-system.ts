// The SystemBackend behind /version and /info: host facts probed once, counts asked of
// the stores each time, the engine ID persisted in the data-root.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/index.js';
import { BERTH_VERSION, BUILD_TIME, GIT_COMMIT } from './build-info.js';
import {
  backingFilesystem,
  findInPath,
  probeHost,
  probeRuncVersion,
  readIpv4Forwarding,
  type HostFacts,
  type RuntimeVersion,
} from './host-info.js';
import type { EngineAbout, EngineCounts, EngineInfo, SystemBackend } from './routes/system.js';

export interface EngineSystemOptions {
  dataRoot: string;
  /** runc binary (name on PATH or absolute path). */
  runc: string;
  /** Init binary for `--init` (catatonit), when present. */
  init?: string;
  debug: boolean;
  countImages?: (opts: { signal?: AbortSignal }) => Promise<number>;
  countContainers?: (opts: { signal?: AbortSignal }) => Promise<Omit<EngineCounts, 'images'>>;
  eventListeners: () => number;
  /** `docker info` SecurityOptions (`name=seccomp,profile=builtin`, …), or how to probe them once. */
  securityOptions?: string[] | (() => Promise<string[]>);
  defaultAddressPools?: { base: string; size: number }[];
  loggingDriver?: string;
  networkDrivers?: string[];
}

export class EngineSystem implements SystemBackend {
  private static readonly NO_CONTAINERS = { containers: 0, running: 0, paused: 0, stopped: 0 };
  private hostFacts: Promise<HostFacts> | undefined;
  private runtimeFacts: Promise<{ runcPath: string; runc: RuntimeVersion | undefined; initPath: string | undefined }> | undefined;
  private engineId: Promise<string> | undefined;
  private buildTime: Promise<string> | undefined;
  private securityOptions: Promise<string[]> | undefined;

  constructor(private readonly opts: EngineSystemOptions) {}

  private host(): Promise<HostFacts> {
    this.hostFacts ??= probeHost();
    return this.hostFacts;
  }

  private runtimes() {
    this.runtimeFacts ??= (async () => {
      const runcPath = (await findInPath(this.opts.runc)) ?? this.opts.runc;
      const [runc, initPath] = await Promise.all([
        probeRuncVersion(runcPath),
        this.opts.init ? findInPath(this.opts.init) : Promise.resolve(undefined),
      ]);
      return { runcPath, runc, initPath };
    })();
    return this.runtimeFacts;
  }

  /** dockerd keeps a stable engine ID in its root; so does berth (`<data-root>/engine-id`). */
  private id(): Promise<string> {
    this.engineId ??= (async () => {
      const path = join(this.opts.dataRoot, 'engine-id');
      try {
        const s = (await readFile(path, 'utf8')).trim();
        if (s) return s;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      const hex = randomBytes(16).toString('hex');
      const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      await writeFileAtomic(path, id + '\n');
      return id;
    })();
    return this.engineId;
  }

  /**
   * The build's time: BERTH_BUILD_TIME when the build sets it, else the mtime of the bundle
   * that is running (dist/berthd.js); empty when running from sources.
   */
  private built(): Promise<string> {
    this.buildTime ??= (async () => {
      if (BUILD_TIME) return BUILD_TIME;
      const entry = process.argv[1] ?? '';
      if (!/\.m?js$/.test(entry)) return '';
      return stat(entry).then((st) => st.mtime.toISOString(), () => '');
    })();
    return this.buildTime;
  }

  async about(): Promise<EngineAbout> {
    const [host, rt, buildTime] = await Promise.all([this.host(), this.runtimes(), this.built()]);
    return {
      serverVersion: BERTH_VERSION,
      gitCommit: GIT_COMMIT,
      buildTime,
      nodeVersion: `node ${process.version}`,
      host,
      runc: rt.runc,
      init: rt.initPath ? { path: rt.initPath, version: 'catatonit' } : undefined,
    };
  }

  private security(): Promise<string[]> {
    const o = this.opts.securityOptions;
    this.securityOptions ??= typeof o === 'function' ? o() : Promise.resolve(o ?? []);
    return this.securityOptions;
  }

  async info(opts: { signal?: AbortSignal }): Promise<EngineInfo> {
    const [about, rt, id, images, ctrs, fwd, fs, fds, securityOptions] = await Promise.all([
      this.about(),
      this.runtimes(),
      this.id(),
      this.opts.countImages ? this.opts.countImages(opts) : Promise.resolve(0),
      this.opts.countContainers ? this.opts.countContainers(opts) : Promise.resolve(EngineSystem.NO_CONTAINERS),
      readIpv4Forwarding(),
      backingFilesystem(this.opts.dataRoot),
      readdir('/proc/self/fd').then((l) => l.length, () => 0),
      this.security(),
    ]);
    const host = { ...about.host, ipv4Forwarding: fwd };
    const warnings: string[] = [];
    if (!fwd) warnings.push('WARNING: IPv4 forwarding is disabled');
    if (host.cgroup.version === '1' && !host.cgroup.swapLimit) warnings.push('WARNING: No swap limit support');
    return {
      ...about,
      host,
      id,
      counts: { ...ctrs, images },
      dataRoot: this.opts.dataRoot,
      storageDriver: 'overlay2',
      storageStatus: [
        ['Backing Filesystem', fs],
        ['Supports d_type', 'true'],
      ],
      runtimes: [{ name: 'runc', path: rt.runcPath }],
      defaultRuntime: 'runc',
      debug: this.opts.debug,
      eventListeners: this.opts.eventListeners(),
      openFds: fds,
      securityOptions,
      warnings,
      loggingDriver: this.opts.loggingDriver ?? 'json-file',
      volumeDrivers: ['local'],
      networkDrivers: this.opts.networkDrivers ?? ['bridge', 'host', 'null'],
      logDrivers: [this.opts.loggingDriver ?? 'json-file'],
      defaultAddressPools: this.opts.defaultAddressPools ?? [],
      labels: [],
    };
  }
}
