// ContainerService: the container lifecycle on top of runc + conmon. Every operation runs
// lock → sync state → check transition → act → save (STYLE.md §6). The lock is never held
// while waiting for a container to exit; exits arrive through conmon's exit file.
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { hostname as osHostname, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  BerthError,
  KeyedMutex,
  errorKind,
  errorMessage,
  logger,
  notFound,
  writeFileAtomic,
  type EventBus,
  type Logger,
} from '../util/index.js';
import { readMounts } from '../storage/index.js';
import { DEFAULT_DETACH_KEYS, forwardStdin, parseDetachKeys } from './attach.js';
import type { Change, PathStat } from './archive.js';
import { ContainerFilesystem, type CommitOptions } from './container-fs.js';
import { readBoundingSet } from './capabilities.js';
import { hostDevices, requestedDevices } from './devices.js';
import { probeConfigOf } from './health.js';
import { hostsFile, resolvConfFile } from './basic-network.js';
import { startConmon, readExitFile, resizeTerminal } from './conmon.js';
import type { ContainerSpec } from './container-spec.js';
import { checkTransition, type ContainerStatus } from './container-state.js';
import {
  ContainerStore,
  initialState,
  type ContainerConfigFile,
  type ContainerStateFile,
  type HealthState,
} from './container-store.js';
import { conmonLogSizeMax, openLog, readLogSet, type LogRecord, type ReadLogOptions } from './logs.js';
import { generateName, validateName } from './names.js';
import { commandFor, generateOciSpec, INIT_PATH, readHostHardLimits, type NamespaceSource } from './oci-spec.js';
import { LogKeeper, parseMaxFile, rotatedPaths } from './log-rotation.js';
import type { ImageLookup, NetworkAttacher, ResolvedImage, RootfsSnapshotter, VolumeMounter } from './ports.js';
import { formatPlatform, parsePlatform, platformMatches } from '../image/index.js';
import { isSameProcess, processStartTime } from './proc.js';
import { resolveInRoot } from './rootfs-path.js';
import { RuncRuntime } from './runc.js';
import { resolveUser } from './user.js';
import { sampleStats, type StatsSample } from './stats.js';
import { topOf, type TopResult } from './top.js';
import { normalizeSignal, signalNumber } from './signals.js';

export interface ContainerServiceOptions {
  /** `<data-root>`; containers live in `<data-root>/containers/<id>`. */
  dataRoot: string;
  /** `<exec-root>` (tmpfs); runc state in `<exec-root>/runc`. */
  execRoot: string;
  images: ImageLookup;
  snapshotter: RootfsSnapshotter;
  volumes: VolumeMounter;
  network: NetworkAttacher;
  events: EventBus;
  runcBinary?: string;
  /** cgroup parent (cgroupfs path) for containers. */
  cgroupParent?: string;
  /** Binary bound at /sbin/docker-init for --init. */
  initBinary?: string;
}

/** Stop grace period when neither the request nor the container names one (Docker's 10 s). */
const DEFAULT_STOP_TIMEOUT_S = 10;
/** After SIGKILL a container is gone within this; longer means something is badly wrong. */
const KILL_WAIT_MS = 15_000;
const RESTART_BACKOFF_START_MS = 100;
const RESTART_RESET_AFTER_MS = 10_000;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export interface ExitInfo {
  exitCode: number;
  error?: string;
}

/** The container record kept in memory; disk (config.json + state.json) is the truth. */
export class Container {
  exitWatcher: FSWatcher | undefined;
  /** Keeps the files conmon replaces (`--log-opt max-file`), while the container runs. */
  logKeeper: LogKeeper | undefined;
  /** The last keeper's closing (its final step), awaited before the container's files go. */
  logKeeperClosed: Promise<void> = Promise.resolve();
  nextExit: Deferred<ExitInfo> = deferred();
  /** Resolves once conmon runs the next start (its attach socket exists). */
  nextStart: Deferred<void> = deferred();
  removed: Deferred<ExitInfo> = deferred();
  restartTimer: NodeJS.Timeout | undefined;
  healthTimer: NodeJS.Timeout | undefined;
  restartBackoffMs = RESTART_BACKOFF_START_MS;
  removing = false;
  /** Running exec sessions (inspect's ExecIDs). */
  readonly execIds = new Set<string>();
  constructor(
    public config: ContainerConfigFile,
    public state: ContainerStateFile,
    readonly dir: string,
  ) {}
  get id(): string {
    return this.config.id;
  }
  get name(): string {
    return this.config.name;
  }
  get bundle(): string {
    return join(this.dir, 'bundle');
  }
  get rootfs(): string {
    return join(this.dir, 'rootfs');
  }
  get exitDir(): string {
    return join(this.dir, 'exits');
  }
  get logPath(): string {
    return join(this.dir, 'ctr.log');
  }
  get userdata(): string {
    return join(this.dir, 'userdata');
  }
  get isRunning(): boolean {
    return this.state.status === 'running' || this.state.status === 'paused';
  }
}

export interface CreateResult {
  id: string;
  warnings: string[];
}

export class ContainerService {
  readonly store: ContainerStore;
  runc: RuncRuntime;
  /** cp, export, diff, commit, sizes (container-fs.ts). */
  readonly fs: ContainerFilesystem;
  private readonly containers = new Map<string, Container>();
  private readonly names = new Map<string, string>();
  private readonly locks = new KeyedMutex();
  private readonly log: Logger = logger('runtime');
  private bounding: string[] = [];
  private hardLimits: Record<string, number> = {};
  private swapAccounting = false;
  private hostResolv = '';
  private readonly hostHostname = osHostname();
  private readonly socketDir: string;
  private closed = false;

  constructor(readonly opts: ContainerServiceOptions) {
    this.store = new ContainerStore(join(opts.dataRoot, 'containers'));
    this.runc = new RuncRuntime(opts.runcBinary ?? 'runc', join(opts.execRoot, 'runc'));
    this.socketDir = join(opts.execRoot, 'socks');
    this.fs = new ContainerFilesystem(this, opts.snapshotter, opts.images);
  }

  // ---------- start-up ----------

  /** Loads every container from disk and reconciles it with the kernel (runc state, conmon, exit files). */
  async init(): Promise<void> {
    await this.store.init();
    this.runc = new RuncRuntime(await findBinary(this.opts.runcBinary ?? 'runc'), this.runc.root);
    await mkdir(this.socketDir, { recursive: true });
    await mkdir(join(this.opts.execRoot, 'runc'), { recursive: true });
    [this.bounding, this.hardLimits, this.hostResolv, this.swapAccounting] = await Promise.all([
      readBoundingSet(),
      readHostHardLimits(),
      readFile('/etc/resolv.conf', 'utf8').catch(() => ''),
      access('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes').then(
        () => true,
        () => false,
      ),
    ]);
    for (const id of await this.store.ids()) {
      try {
        const { config, state } = await this.store.load(id);
        const c = new Container(config, state, this.store.dir(id));
        this.containers.set(id, c);
        this.names.set(config.name, id);
      } catch (err) {
        this.log.warn('skipping unreadable container', { container: id.slice(0, 12), error: errorMessage(err) });
      }
    }
    for (const c of this.containers.values()) await this.reconcile(c);
    // Leftovers of a crash (containers that ended while berthd was away, a parent left empty).
    await this.pruneCgroups();
    for (const c of [...this.containers.values()]) {
      // An --rm container that ended while berthd was away (or during its removal) goes now.
      if (c.config.spec.host.autoRemove && !c.removing && c.state.hasBeenStarted && (c.state.status === 'exited' || c.state.status === 'dead')) {
        await this.remove(c.id, { force: true, removeVolumes: true }).catch((e: unknown) => this.log.warn('auto-remove failed', { container: c.id.slice(0, 12), error: errorMessage(e) }));
        continue;
      }
      const p = c.config.spec.host.restartPolicy.name;
      if (c.state.status === 'exited' && (p === 'always' || (p === 'unless-stopped' && !c.state.manuallyStopped))) {
        this.scheduleRestart(c, 0);
      }
      if (c.state.status === 'running') this.armHealthcheck(c);
    }
  }

  /** Rebuilds the state of one container after a daemon (re)start. */
  private async reconcile(c: Container): Promise<void> {
    if (c.state.status === 'removing') {
      c.state.status = 'dead';
      await this.saveState(c);
      return;
    }
    if (c.state.status === 'restarting') {
      // berthd went down during a restart backoff: the exit was handled, the start was not.
      this.scheduleRestart(c, 0);
      return;
    }
    if (!c.isRunning) return;
    const exit = await readExitFile(c.exitDir, c.id);
    if (exit) {
      await this.onExit(c, exit.exitCode, exit.at);
      return;
    }
    const conmonAlive = await isSameProcess(c.state.conmonPid, c.state.conmonStartTime);
    const pidAlive = await isSameProcess(c.state.pid, c.state.pidStartTime);
    if (conmonAlive && pidAlive) {
      this.watchExit(c);
      const rs = await this.runc.state(c.id).catch(() => undefined);
      if (rs?.status === 'paused') c.state.status = 'paused';
      else if (rs?.status === 'running') c.state.status = 'running';
      await this.saveState(c);
      return;
    }
    // conmon is gone without an exit file: the exit code is lost. A container still running
    // without its monitor has no log and no exit file any more: it is stopped, not adopted.
    if (pidAlive) await this.runc.delete(c.id, { force: true }).catch(() => undefined);
    await this.onExit(c, 255, new Date(), 'container monitor (conmon) exited unexpectedly');
  }

  /** Stops watchers and timers; containers keep running under conmon. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.containers.values()) {
      c.exitWatcher?.close();
      void this.stopLogKeeper(c);
      clearTimeout(c.restartTimer);
      clearTimeout(c.healthTimer);
    }
    await this.pruneCgroups();
  }

  /**
   * The cgroup parent is ours: empty cgroups of containers that are gone, then the parent
   * itself when nothing is left in it (rmdir refuses a cgroup with processes or children, so
   * running containers keep theirs). At close and after start-up reconciliation, so neither a
   * clean stop nor a crash leaves empty directories under /sys/fs/cgroup.
   */
  private async pruneCgroups(): Promise<void> {
    const parent = this.opts.cgroupParent ?? '/berth';
    const base = '/sys/fs/cgroup';
    // v1 controllers and the hybrid `unified` mount are subdirectories; on a pure v2 host the base is the root.
    const roots = [base, ...(await readdir(base).catch(() => [] as string[])).map((c) => join(base, c))];
    const running = new Set([...this.containers.values()].filter((c) => c.isRunning).map((c) => c.id));
    await Promise.all(
      roots.map(async (r) => {
        const dir = join(r, parent);
        const kids = await readdir(dir, { withFileTypes: true }).catch(() => []);
        // A busy or still-populated cgroup refuses rmdir: that refusal is the check.
        await Promise.all(kids.filter((k) => k.isDirectory() && !running.has(k.name)).map((k) => rmdir(join(dir, k.name)).catch(() => undefined)));
        await rmdir(dir).catch(() => undefined);
      }),
    );
  }

  // ---------- lookup ----------

  /** Finds by full id, name (with or without `/`) or unique id prefix; 404 with Docker's wording. */
  get(ref: string): Container {
    const c = this.find(ref);
    if (!c) throw notFound(`No such container: ${ref}`);
    return c;
  }

  find(ref: string): Container | undefined {
    const exact = this.containers.get(ref);
    if (exact) return exact;
    const byName = this.names.get(ref.replace(/^\//, ''));
    if (byName) return this.containers.get(byName);
    if (/^[a-f0-9]+$/.test(ref) && ref.length >= 1) {
      const matches = [...this.containers.keys()].filter((id) => id.startsWith(ref));
      if (matches.length > 1) throw new BerthError('invalid-argument', `multiple IDs found with provided prefix: ${ref}`);
      if (matches.length === 1) return this.containers.get(matches[0]!);
    }
    return undefined;
  }

  list(): Container[] {
    return [...this.containers.values()].sort((a, b) => (a.config.created < b.config.created ? 1 : -1));
  }

  // ---------- create ----------

  async create(spec: ContainerSpec, opts: { name?: string; platform?: string; signal?: AbortSignal } = {}): Promise<CreateResult> {
    const warnings: string[] = [];
    let name: string;
    if (opts.name) {
      name = validateName(opts.name);
    } else {
      name = generateName((n) => this.names.has(n));
    }
    const taken = this.names.get(name);
    if (taken) {
      throw new BerthError('conflict', `Conflict. The container name "/${name}" is already in use by container "${taken}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const hp = spec.host;
    // Docker refuses a bad max-file at create (the docker CLI exits 125).
    parseMaxFile(hp.logConfig.config['max-file']);
    if (hp.autoRemove && hp.restartPolicy.name !== 'no') {
      throw new BerthError('invalid-argument', "can't create 'AutoRemove' container with restart policy");
    }
    const image = await this.opts.images.resolve(spec.image, opts);
    if (opts.platform) checkPlatform(spec.image, opts.platform, image.platform);
    const argv = commandFor(spec, image.config);
    // Checked again at start; failing here makes it a create error (docker CLI: 125).
    await requestedDevices(spec.host.devices ?? []);
    const id = randomBytes(32).toString('hex');
    // Reserve the name before the first await that could interleave another create.
    if (this.names.has(name)) {
      const other = this.names.get(name)!;
      throw new BerthError('conflict', `Conflict. The container name "/${name}" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.names.set(name, id);
    const dir = this.store.dir(id);
    let prepared = false;
    let volumesPrepared = false;
    try {
      const [, mountPoints] = await settleAll([
        this.opts.snapshotter.prepare(id, image.topChainId, opts).then(() => {
          prepared = true;
        }),
        this.opts.volumes.prepare({ id, spec, imageVolumes: Object.keys(image.config.Volumes ?? {}) }).then((m) => {
          volumesPrepared = true;
          return m;
        }),
      ]);
      const config: ContainerConfigFile = {
        version: 1,
        id,
        name,
        created: new Date().toISOString(),
        spec,
        image: { id: image.id, ref: spec.image, config: image.config, topChainId: image.topChainId },
        path: argv[0]!,
        args: argv.slice(1),
        rootfsKey: id,
        mountPoints,
      };
      const state = initialState();
      await this.store.create(config, state);
      await Promise.all([mkdir(join(dir, 'bundle'), { recursive: true }), mkdir(join(dir, 'exits'), { recursive: true })]);
      const c = new Container(config, state, dir);
      this.containers.set(id, c);
      this.publish(c, 'create');
      return { id, warnings };
    } catch (err) {
      this.names.delete(name);
      if (prepared) await this.opts.snapshotter.remove(id).catch(() => undefined);
      if (volumesPrepared) await this.opts.volumes.release({ id, mountPoints: [], removeVolumes: true }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  // ---------- start ----------

  async start(ref: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const c = this.get(ref);
    try {
      await this.locks.run(c.id, async () => {
        checkTransition(c.id, c.state.status, 'start');
        c.state.manuallyStopped = false;
        await this.doStart(c, opts);
      });
    } catch (err) {
      if (errorKind(err) === 'not-modified' || errorKind(err) === 'conflict') throw err;
      // Like dockerd: a failed start records an exit code (127 not found, 126 not
      // executable, 128 otherwise), wakes waiters, and an --rm container goes away.
      const msg = errorMessage(err);
      const code = /executable file not found|no such file or directory/.test(msg) ? 127 : /permission denied/.test(msg) ? 126 : 128;
      c.state.exitCode = code;
      await this.saveState(c).catch(() => undefined);
      const d = c.nextExit;
      c.nextExit = deferred();
      d.resolve({ exitCode: code, error: msg });
      if (c.config.spec.host.autoRemove) await this.remove(c.id, { force: true, removeVolumes: true }).catch(() => undefined);
      throw err;
    }
  }

  private async doStart(c: Container, opts: { signal?: AbortSignal }): Promise<void> {
    const spec = c.config.spec;
    const cleanup: Array<() => Promise<unknown>> = [];
    const t0 = performance.now();
    try {
      // A mount recorded before a host reboot is gone: trust the kernel, not the state file.
      if (c.state.mounted && !(await readMounts()).some((m) => m.mountPoint === c.rootfs)) c.state.mounted = false;
      await Promise.all([
        rm(join(c.exitDir, c.id), { force: true }),
        rm(join(c.bundle, 'oom'), { force: true }),
        c.state.mounted
          ? undefined
          : this.opts.snapshotter.mount(c.config.rootfsKey, c.rootfs, opts).then(() => {
              c.state.mounted = true;
            }),
      ]);
      cleanup.push(() => this.unmountRootfs(c));
      const tMount = performance.now();
      const netInfo = { id: c.id, name: c.name, spec };
      const netMode = spec.host.networkMode;
      let args = [c.config.path, ...c.config.args];
      // Independent preparations run side by side: each is file I/O or one small spawn.
      const [network, user, extraMounts, hostDevs, requested] = await settleAll([
        (async (): Promise<NamespaceSource> => {
          let ns: NamespaceSource;
          let hostsEntries: string[] = [];
          let resolvConf: string | undefined;
          if (netMode.startsWith('container:')) {
            ns = { mode: 'path', path: `/proc/${await this.pidOf(netMode.slice(10))}/ns/net` };
          } else {
            const plan = await this.opts.network.plan(netInfo);
            ns = plan.namespace;
            hostsEntries = plan.hostsEntries;
            resolvConf = plan.resolvConf;
          }
          const hostname = spec.hostname || (ns.mode === 'host' ? this.hostHostname : c.id.slice(0, 12));
          const ownEntry = ns.mode === 'host' || hostsEntries.length ? [] : [`127.0.1.1\t${hostname}`];
          await Promise.all([
            writeFile(join(c.userdata, 'hostname'), hostname + '\n'),
            writeFile(join(c.userdata, 'hosts'), hostsFile(spec.host.extraHosts, [...hostsEntries, ...ownEntry])),
            writeFile(
              join(c.userdata, 'resolv.conf'),
              resolvConf ??
                resolvConfFile(this.hostResolv, {
                  dns: spec.host.dns,
                  dnsSearch: spec.host.dnsSearch,
                  dnsOptions: spec.host.dnsOptions,
                  hostNetwork: ns.mode === 'host',
                }),
            ),
          ]);
          return ns;
        })(),
        resolveUser(c.rootfs, spec.user || c.config.image.config.User || '', spec.host.groupAdd),
        this.opts.volumes.ociMounts({ id: c.id, mountPoints: c.config.mountPoints, rootfs: c.rootfs, spec }),
        spec.host.privileged ? hostDevices() : Promise.resolve([]),
        requestedDevices(spec.host.devices ?? []),
        this.checkExecutable(c, args[0]!, [...(c.config.image.config.Env ?? []), ...spec.env], spec.workingDir || c.config.image.config.WorkingDir || '/'),
      ]);
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
        bounding: this.bounding,
        hostHardLimits: this.hardLimits,
        cgroupsPath: this.cgroupPathOf(c),
        network,
        ipc: spec.host.ipcMode.startsWith('container:')
          ? { mode: 'path', path: `/proc/${await this.pidOf(spec.host.ipcMode.slice(10))}/ns/ipc` }
          : ns(spec.host.ipcMode),
        pid: spec.host.pidMode.startsWith('container:')
          ? { mode: 'path', path: `/proc/${await this.pidOf(spec.host.pidMode.slice(10))}/ns/pid` }
          : ns(spec.host.pidMode),
        uts: ns(spec.host.utsMode),
        extraMounts,
        initBinary: spec.host.init ? this.opts.initBinary ?? '/usr/bin/catatonit' : undefined,
        swapAccounting: this.swapAccounting,
        hostHostname: this.hostHostname,
        devices: [...hostDevs.filter((d) => !devicePaths.has(d.path)), ...requested.devices],
        deviceRules: requested.rules,
      });
      await writeFileAtomic(join(c.bundle, 'config.json'), JSON.stringify(oci), { durable: false });
      const logMax = conmonLogSizeMax(spec.host.logConfig.config['max-size']);
      const started = await startConmon(this.runc, {
        id: c.id,
        name: c.name,
        bundle: c.bundle,
        exitDir: c.exitDir,
        logPath: c.logPath,
        logSizeMax: logMax,
        socketDir: this.socketDir,
        tmpDir: this.opts.execRoot,
        tty: spec.tty,
        stdin: spec.openStdin,
        // dockerd never closes a TTY's stdin when a client leaves; StdinOnce applies without one.
        leaveStdinOpen: !spec.stdinOnce || spec.tty,
        signal: opts.signal,
      });
      cleanup.push(() => this.runc.delete(c.id, { force: true }));
      const startedD = c.nextStart;
      c.nextStart = deferred();
      startedD.resolve();
      const tCreated = performance.now();
      const settings = await this.opts.network.attach({ ...netInfo, pid: started.pid });
      cleanup.push(() => this.opts.network.detach(netInfo));
      this.watchExit(c);
      await this.runc.startViaFifo(c.id, started.pid, opts);
      const [pidStart, conmonStart] = await Promise.all([processStartTime(started.pid), processStartTime(started.conmonPid)]);
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
      await this.saveState(c);
      this.publish(c, 'start');
      this.log.trace('start phases', {
        container: c.id.slice(0, 12),
        mountMs: Math.round(tMount - t0),
        prepareMs: Math.round(tPrep - tMount),
        createMs: Math.round(tCreated - tPrep),
        startMs: Math.round(performance.now() - tCreated),
      });
      this.armHealthcheck(c);
      // The exit may have happened before the watcher saw the state change.
      void this.checkExitFile(c);
    } catch (err) {
      c.exitWatcher?.close();
      void this.stopLogKeeper(c);
      c.exitWatcher = undefined;
      for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
      c.state.error = errorMessage(err);
      await this.saveState(c).catch(() => undefined);
      throw err;
    }
  }

  /** Docker's 127 / 126 wording (the docker CLI picks its exit code from it). */
  private async checkExecutable(c: Container, cmd: string, env: string[], cwd: string): Promise<void> {
    const candidates: string[] = [];
    if (cmd.includes('/')) candidates.push(cmd.startsWith('/') ? cmd : join(cwd, cmd));
    else {
      const pathVar = [...env].reverse().find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
      for (const dir of pathVar.split(':')) if (dir) candidates.push(`${dir}/${cmd}`);
    }
    // A path under a volume, bind or tmpfs is not in the rootfs: runc finds out at exec time.
    const mounted = [...c.config.mountPoints.map((m) => m.destination), ...Object.keys(c.config.spec.host.tmpfs)];
    const underMount = (p: string) => mounted.some((d) => p === d || p.startsWith(d.endsWith('/') ? d : `${d}/`));
    if (candidates.some(underMount)) return;
    for (const cand of candidates) {
      const host = await resolveInRoot(c.rootfs, cand);
      const st = await stat(host).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory() || (st.mode & 0o111) === 0) {
        if (!cmd.includes('/')) continue;
        throw new BerthError(
          'invalid-argument',
          `failed to create task for container: OCI runtime create failed: runc create failed: unable to start container process: exec: "${cmd}": permission denied: unknown`,
        );
      }
      return;
    }
    const what = cmd.includes('/') ? `stat ${cmd}: no such file or directory` : 'executable file not found in $PATH';
    throw new BerthError(
      'invalid-argument',
      `failed to create task for container: OCI runtime create failed: runc create failed: unable to start container process: exec: "${cmd}": ${what}: unknown`,
    );
  }

  private async pidOf(ref: string): Promise<number> {
    const other = this.get(ref);
    if (other.state.status !== 'running') throw new BerthError('conflict', `cannot join namespace of a non running container ${ref}`);
    return other.state.pid;
  }

  // ---------- exit handling ----------

  /** `finalStep`: one last look (an exit); not when the container's files are being removed. */
  private stopLogKeeper(c: Container, finalStep = true): Promise<void> {
    const k = c.logKeeper;
    c.logKeeper = undefined;
    if (k) c.logKeeperClosed = k.close(finalStep);
    return c.logKeeperClosed;
  }

  private watchExit(c: Container): void {
    const rot = logRotation(c.config.spec.host.logConfig.config);
    if (rot.maxFile > 1 && !c.logKeeper) {
      c.logKeeper = new LogKeeper(c.logPath, rot.maxFile, (err) => this.log.warn('log rotation failed', { container: c.id.slice(0, 12), error: errorMessage(err) }));
    }
    if (c.exitWatcher) return;
    try {
      c.exitWatcher = watch(c.exitDir, { persistent: true }, () => void this.checkExitFile(c));
      c.exitWatcher.on('error', () => undefined);
    } catch (err) {
      this.log.warn('cannot watch exit dir', { container: c.id.slice(0, 12), error: errorMessage(err) });
    }
  }

  private async checkExitFile(c: Container): Promise<void> {
    const exit = await readExitFile(c.exitDir, c.id);
    if (!exit) return;
    await this.locks.run(c.id, async () => {
      if (c.state.status !== 'running' && c.state.status !== 'paused') return;
      await this.onExit(c, exit.exitCode, exit.at);
    });
  }

  /** Called under the container lock (or at init) once the container's init process is gone. */
  private async onExit(c: Container, exitCode: number, at: Date, error = ''): Promise<void> {
    c.exitWatcher?.close();
    void this.stopLogKeeper(c);
    c.exitWatcher = undefined;
    clearTimeout(c.healthTimer);
    const [, , , oomKilled] = await Promise.all([
      this.runc.deleteStopped(c.id, this.cgroupPathOf(c)).catch((e: unknown) => this.log.warn('runc delete failed', { container: c.id.slice(0, 12), error: errorMessage(e) })),
      this.opts.network.detach({ id: c.id, name: c.name, spec: c.config.spec }).catch(() => undefined),
      // The container's processes are gone: its rootfs can go at the same time.
      this.unmountRootfs(c),
      access(join(c.bundle, 'oom')).then(() => true, () => false),
    ]);
    const ranMs = at.getTime() - Date.parse(c.state.startedAt);
    c.state = { ...c.state, status: 'exited', pid: 0, pidStartTime: undefined, conmonPid: 0, conmonStartTime: undefined, exitCode, error, oomKilled, finishedAt: at.toISOString() };
    if (c.state.health) c.state.health = { ...c.state.health, status: 'unhealthy' };
    // An --rm container is removed right away; if berthd dies first, the exit file is still
    // there and the exit is processed again at start-up, so this write need not be durable.
    await this.saveState(c, { durable: !c.config.spec.host.autoRemove });
    if (oomKilled) this.publish(c, 'oom');
    this.publish(c, 'die', { exitCode: String(exitCode) });
    const d = c.nextExit;
    c.nextExit = deferred();
    d.resolve({ exitCode, error: error || undefined });
    if (this.closed) return;
    if (c.config.spec.host.autoRemove && !c.removing) {
      // dockerd's auto-remove is `rm -f -v`: anonymous volumes go with the container.
      void this.remove(c.id, { force: true, removeVolumes: true }).catch((e: unknown) => this.log.warn('auto-remove failed', { container: c.id.slice(0, 12), error: errorMessage(e) }));
      return;
    }
    if (this.shouldRestart(c, exitCode)) {
      if (ranMs >= RESTART_RESET_AFTER_MS) c.restartBackoffMs = RESTART_BACKOFF_START_MS;
      const delay = c.restartBackoffMs;
      c.restartBackoffMs = Math.min(c.restartBackoffMs * 2, 60_000);
      this.scheduleRestart(c, delay);
    }
  }

  private shouldRestart(c: Container, exitCode: number): boolean {
    if (c.state.manuallyStopped || c.removing) return false;
    const p = c.config.spec.host.restartPolicy;
    switch (p.name) {
      case 'always':
      case 'unless-stopped':
        return true;
      case 'on-failure':
        return exitCode !== 0 && (p.maximumRetryCount <= 0 || c.state.restartCount < p.maximumRetryCount);
      default:
        return false;
    }
  }

  private scheduleRestart(c: Container, delayMs: number): void {
    clearTimeout(c.restartTimer);
    c.state.status = 'restarting';
    void this.saveState(c).catch(() => undefined);
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      void this.locks
        .run(c.id, async () => {
          if (c.state.status !== 'restarting' || c.removing || c.state.manuallyStopped) return;
          c.state.restartCount++;
          await this.doStart(c, {});
        })
        .catch((e: unknown) => {
          this.log.warn('restart failed', { container: c.id.slice(0, 12), error: errorMessage(e) });
          c.state.status = 'exited';
          void this.saveState(c).catch(() => undefined);
        });
    }, delayMs);
    c.restartTimer.unref();
  }

  private async unmountRootfs(c: Container): Promise<void> {
    if (!c.state.mounted) return;
    try {
      await this.opts.snapshotter.unmount(c.rootfs);
      c.state.mounted = false;
    } catch (err) {
      // Not mounted any more (host reboot, someone else unmounted it) is what we wanted.
      const still = (await readMounts().catch(() => [])).some((m) => m.mountPoint === c.rootfs);
      if (!still) c.state.mounted = false;
      else this.log.warn('unmount failed', { container: c.id.slice(0, 12), error: errorMessage(err) });
    }
  }

  // ---------- stop / kill / restart ----------

  async stop(ref: string, opts: { timeoutS?: number; signal?: string } = {}): Promise<void> {
    const c = this.get(ref);
    let exited: Promise<ExitInfo>;
    const stopped = await this.locks.run(c.id, async () => {
      if (c.state.status === 'restarting') {
        clearTimeout(c.restartTimer);
        c.state.status = 'exited';
        c.state.manuallyStopped = true;
        await this.saveState(c);
        return false;
      }
      checkTransition(c.id, c.state.status, 'stop');
      c.state.manuallyStopped = true;
      await this.saveState(c);
      exited = c.nextExit.promise;
      if (c.state.status === 'paused') await this.runc.resume(c.id).catch(() => undefined);
      const sig = opts.signal ?? c.config.spec.stopSignal ?? c.config.image.config.StopSignal ?? 'SIGTERM';
      await this.runc.kill(c.id, normalizeSignal(sig)).catch(() => undefined);
      this.publish(c, 'kill', { signal: String(signalNumber(normalizeSignal(sig))) });
      return true;
    });
    if (!stopped) return;
    const timeoutS = opts.timeoutS ?? c.config.spec.stopTimeout ?? DEFAULT_STOP_TIMEOUT_S;
    if (!(await withTimeout(exited!, timeoutS < 0 ? Infinity : timeoutS * 1000))) {
      await this.runc.kill(c.id, 'SIGKILL', { all: true }).catch(() => undefined);
      this.publish(c, 'kill', { signal: '9' });
      if (!(await withTimeout(exited!, KILL_WAIT_MS))) throw new BerthError('internal', `container ${c.id.slice(0, 12)} did not exit after SIGKILL`);
    }
    this.publish(c, 'stop');
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const c = this.get(ref);
    await this.locks.run(c.id, async () => {
      checkTransition(c.id, c.state.status, 'kill');
      const sig = normalizeSignal(signal);
      // dockerd: killing with SIGKILL or the stop signal cancels the restart policy.
      const stopSig = normalizeSignal(c.config.spec.stopSignal ?? c.config.image.config.StopSignal ?? 'SIGTERM');
      if (sig === 'SIGKILL' || sig === stopSig) {
        c.state.manuallyStopped = true;
        await this.saveState(c);
      }
      await this.runc.kill(c.id, sig, { all: sig === 'SIGKILL' });
      if (sig === 'SIGKILL' && c.state.status === 'paused') await this.runc.resume(c.id).catch(() => undefined);
      this.publish(c, 'kill', { signal: String(signalNumber(sig)) });
    });
  }

  async restart(ref: string, opts: { timeoutS?: number; signal?: string } = {}): Promise<void> {
    const c = this.get(ref);
    if (c.isRunning || c.state.status === 'restarting') await this.stop(c.id, opts);
    await this.locks.run(c.id, async () => {
      if (c.state.status === 'running') return;
      c.state.manuallyStopped = false;
      await this.doStart(c, {});
    });
    this.publish(c, 'restart');
  }

  async pause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.locks.run(c.id, async () => {
      checkTransition(c.id, c.state.status, 'pause');
      await this.runc.pause(c.id);
      c.state.status = 'paused';
      await this.saveState(c);
      this.publish(c, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.locks.run(c.id, async () => {
      checkTransition(c.id, c.state.status, 'unpause');
      await this.runc.resume(c.id);
      c.state.status = 'running';
      await this.saveState(c);
      this.publish(c, 'unpause');
    });
  }

  // ---------- wait / remove ----------

  /** Docker's wait conditions: not-running (default), next-exit, removed. */
  async wait(ref: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running', opts: { signal?: AbortSignal } = {}): Promise<ExitInfo> {
    const c = this.get(ref);
    let p: Promise<ExitInfo>;
    if (condition === 'removed') p = c.removed.promise;
    else if (condition === 'next-exit') p = c.nextExit.promise;
    else if (!c.isRunning && c.state.status !== 'restarting') return { exitCode: c.state.exitCode, error: c.state.error || undefined };
    else p = c.nextExit.promise;
    if (!opts.signal) return p;
    const signal = opts.signal;
    return Promise.race([
      p,
      new Promise<never>((_r, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    ]);
  }

  async remove(ref: string, opts: { force?: boolean; removeVolumes?: boolean } = {}): Promise<void> {
    const c = this.get(ref);
    if (c.removing) {
      throw new BerthError('conflict', `removal of container ${c.id.slice(0, 12)} is already in progress`);
    }
    if ((c.isRunning || c.state.status === 'restarting') && !opts.force) {
      checkTransition(c.id, c.state.status, 'remove');
    }
    c.removing = true;
    try {
      clearTimeout(c.restartTimer);
      if (c.isRunning) {
        const exited = c.nextExit.promise;
        await this.runc.kill(c.id, 'SIGKILL', { all: true }).catch(() => undefined);
        // Frozen tasks do not act on SIGKILL until thawed.
        if (c.state.status === 'paused') await this.runc.resume(c.id).catch(() => undefined);
        if (!(await withTimeout(exited, KILL_WAIT_MS))) {
          await this.checkExitFile(c);
          if (c.isRunning) throw new BerthError('internal', `could not kill running container ${c.id.slice(0, 12)}, cannot remove`);
        }
      }
      await this.locks.run(c.id, async () => {
        const prev = c.state.status;
        c.state.status = 'removing';
        // Lost in a crash, the container is simply seen in its previous state and can be removed again.
        await this.saveState(c, { durable: false }).catch(() => undefined);
        try {
          c.exitWatcher?.close();
          await this.stopLogKeeper(c, false);
          clearTimeout(c.healthTimer);
          // runc keeps state only for a container it still knows; skip the spawn otherwise.
          if (await access(join(this.runc.root, c.id)).then(() => true, () => false)) await this.runc.delete(c.id, { force: true });
          await this.unmountRootfs(c);
          // Independent of each other; the record goes last, so a failure leaves it for a retry.
          await settleAll([
            this.opts.snapshotter.remove(c.config.rootfsKey).catch((e: unknown) => {
              if (!(e instanceof BerthError && e.kind === 'not-found')) throw e;
            }),
            this.opts.volumes.release({ id: c.id, mountPoints: c.config.mountPoints, removeVolumes: !!opts.removeVolumes }),
          ]);
          await this.store.remove(c.id);
        } catch (err) {
          c.state.status = prev === 'removing' ? 'dead' : prev;
          await this.saveState(c).catch(() => undefined);
          throw err;
        }
        this.containers.delete(c.id);
        if (this.names.get(c.name) === c.id) this.names.delete(c.name);
        this.publish(c, 'destroy');
        c.removed.resolve({ exitCode: c.state.exitCode });
      });
    } finally {
      c.removing = false;
    }
  }

  // ---------- rename / update / resize ----------

  async rename(ref: string, newName: string): Promise<void> {
    const c = this.get(ref);
    const name = validateName(newName);
    if (name === c.name) throw new BerthError('invalid-argument', 'Renaming a container with the same name as its current name');
    const other = this.names.get(name);
    if (other) throw new BerthError('conflict', `Conflict. The container name "/${name}" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.`);
    await this.locks.run(c.id, async () => {
      const old = c.name;
      this.names.set(name, c.id);
      this.names.delete(old);
      c.config = { ...c.config, name };
      await this.store.saveConfig(c.config);
      this.publish(c, 'rename', { oldName: `/${old}` });
    });
  }

  /**
   * After `docker network connect/disconnect` (done by the network service): the change is kept
   * in the container's config, so the next start joins the same networks, and a running
   * container's NetworkSettings are read again from the attacher.
   */
  /** Whether the container's config joins `network` at its next start (its mode's network or an endpoint). */
  joinsNetwork(ref: string, network: { id: string; name: string }): boolean {
    const spec = this.get(ref).config.spec;
    const mode = spec.host.networkMode === 'default' || spec.host.networkMode === '' ? 'bridge' : spec.host.networkMode;
    const names = [network.name, network.id];
    if (names.includes(mode) && !spec.primaryDisconnected) return true;
    return names.some((n) => n in spec.endpoints);
  }

  async networkChanged(
    ref: string,
    change: { action: 'connect' | 'disconnect'; network: { id: string; name: string }; aliases?: string[]; ipv4Address?: string },
  ): Promise<void> {
    const c = this.get(ref);
    await this.locks.run(c.id, async () => {
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
      await this.store.saveConfig(c.config);
      // Memberships are what the network service holds (a stopped container keeps its reserved
      // ones); a container never started has none yet and inspect derives its network from the mode.
      const live = this.opts.network.networksOf?.(c.id);
      if (live && (c.isRunning || c.state.networkSettings)) {
        c.state.networkSettings = { ...(c.state.networkSettings ?? {}), networks: live };
        await this.saveState(c);
      }
    });
  }

  /** `docker update`: resources and restart policy. */
  async update(ref: string, change: Partial<Pick<ContainerSpec['host'], 'memory' | 'memorySwap' | 'memoryReservation' | 'nanoCpus' | 'cpuShares' | 'cpuQuota' | 'cpuPeriod' | 'cpusetCpus' | 'pidsLimit' | 'restartPolicy'>>): Promise<string[]> {
    const c = this.get(ref);
    return this.locks.run(c.id, async () => {
      const host = { ...c.config.spec.host };
      for (const [k, v] of Object.entries(change)) if (v !== undefined) (host as Record<string, unknown>)[k] = v;
      if (host.autoRemove && host.restartPolicy.name !== 'no') {
        throw new BerthError('invalid-argument', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
      }
      if (c.isRunning) {
        const res: Record<string, unknown> = {};
        if (change.memory !== undefined || change.memorySwap !== undefined) {
          res.memory = { limit: host.memory || undefined, swap: this.swapAccounting ? (host.memorySwap || (host.memory ? host.memory * 2 : undefined)) : undefined };
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
        if (Object.keys(res).length) await this.runc.update(c.id, res);
      }
      c.config = { ...c.config, spec: { ...c.config.spec, host } };
      await this.store.saveConfig(c.config);
      this.publish(c, 'update');
      return [];
    });
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.get(ref);
    if (!c.isRunning) throw new BerthError('conflict', `Container ${c.id} is not running`);
    if (!c.config.spec.tty) return;
    await resizeTerminal(c.bundle, height, width);
    this.publish(c, 'resize', { height: String(height), width: String(width) });
  }

  // ---------- logs / attach ----------

  /** Log records of a container (streamed; with follow, until the container exits). */
  logs(ref: string, opts: Omit<ReadLogOptions, 'done' | 'fromOffset'>): AsyncGenerator<LogRecord> {
    const c = this.get(ref);
    if (c.config.spec.host.logConfig.type === 'none') {
      throw new BerthError('invalid-argument', 'configured logging driver does not support reading');
    }
    const done = c.isRunning || c.state.status === 'restarting' ? c.nextExit.promise : Promise.resolve();
    const { maxFile } = logRotation(c.config.spec.host.logConfig.config);
    return readLogSet(rotatedPaths(c.logPath, maxFile), c.logPath, { ...opts, done });
  }

  /**
   * Output for `attach`: everything written from now until the next exit (or the current
   * run's exit). With `logs`, the existing log is replayed first.
   */
  async attachOutput(ref: string, opts: { logs: boolean; stream: boolean; signal?: AbortSignal }): Promise<AsyncGenerator<LogRecord>> {
    const c = this.get(ref);
    // Opened now (not when the caller starts reading): output written from here on is kept
    // even if conmon replaces the file (--log-size-max) in between.
    const fromEnd = !opts.logs;
    this.publish(c, 'attach');
    if (!opts.stream) return openLog(c.logPath, { follow: false, fromEnd, signal: opts.signal });
    return openLog(c.logPath, { follow: true, fromEnd, done: c.nextExit.promise, signal: opts.signal });
  }

  /**
   * Copies a client's input into the container's stdin (containers created with -i).
   * Before the start (docker run -i attaches first) it waits for conmon to be up.
   */
  async attachStdin(ref: string, input: Readable, opts: { signal?: AbortSignal; detachKeys?: string } = {}): Promise<'eof' | 'detached' | 'closed'> {
    const c = this.get(ref);
    if (!c.config.spec.openStdin) return 'closed';
    const keys = opts.detachKeys ? parseDetachKeys(opts.detachKeys) : DEFAULT_DETACH_KEYS;
    if (!c.isRunning) {
      const aborted = new Promise<'aborted'>((resolve) => {
        if (opts.signal?.aborted) resolve('aborted');
        opts.signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
      });
      const r = await Promise.race([c.nextStart.promise.then(() => 'started' as const), c.removed.promise.then(() => 'aborted' as const), aborted]);
      if (r === 'aborted') return 'closed';
    }
    const fwd = await forwardStdin(this.socketDir, c.id, input, { detachKeys: keys });
    const onAbort = () => fwd.close();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const how = await fwd.done;
      if (how === 'detached') {
        fwd.close();
        this.publish(c, 'detach');
      }
      return how;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  // ---------- introspection ----------

  async top(ref: string, psArgs = ''): Promise<TopResult> {
    return topOf(this, this.get(ref), psArgs);
  }

  /** One usage sample (cgroup v1 or v2 files); a stopped container reads as zeros. */
  async stats(ref: string): Promise<StatsSample & { id: string; name: string; running: boolean }> {
    const c = this.get(ref);
    const sample = await sampleStats(this.cgroupPathOf(c), c.isRunning ? c.state.pid : 0, totalmem());
    return { ...sample, id: c.id, name: c.name, running: c.isRunning };
  }

  /** Bytes in the writable layer (SizeRw) and that plus the image's files (SizeRootFs, when known). */
  sizeOf(c: Container): Promise<{ rw: number; rootFs: number }> {
    return this.fs.sizeOf(c);
  }

  cgroupPathOf(c: Container): string {
    return `${this.opts.cgroupParent ?? '/berth'}/${c.id}`;
  }

  // ---------- filesystem: cp, export, diff, commit ----------

  /** Runs `fn` with the rootfs mounted: as it is when running, else mounted for the duration (under the lock). */
  async withRootfs<T>(c: Container, fn: (rootfs: string) => Promise<T>): Promise<T> {
    if (c.isRunning) return fn(c.rootfs);
    return this.locks.run(c.id, async () => {
      if (c.isRunning || c.state.mounted) return fn(c.rootfs);
      await this.opts.snapshotter.mount(c.config.rootfsKey, c.rootfs);
      c.state.mounted = true;
      try {
        return await fn(c.rootfs);
      } finally {
        await this.unmountRootfs(c);
      }
    });
  }

  archiveStat(ref: string, path: string): Promise<PathStat> {
    return this.fs.archiveStat(ref, path);
  }

  archiveGet(ref: string, path: string, consume: (stat: PathStat, tar: Readable) => Promise<void>, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.fs.archiveGet(ref, path, consume, opts);
  }

  archivePut(ref: string, path: string, tar: Readable, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.fs.archivePut(ref, path, tar, opts);
  }

  exportRootfs(ref: string, consume: (tar: Readable) => Promise<void>, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.fs.exportRootfs(ref, consume, opts);
  }

  changes(ref: string): Promise<Change[]> {
    return this.fs.changes(ref);
  }

  commit(ref: string, req: CommitOptions, opts: { signal?: AbortSignal } = {}): Promise<string> {
    return this.fs.commit(ref, req, opts);
  }

  // ---------- helpers ----------

  async saveState(c: Container, opts: { durable?: boolean } = {}): Promise<void> {
    await this.store.saveState(c.id, c.state, opts);
  }

  publish(c: Container, action: string, extra: Record<string, string> = {}): void {
    this.opts.events.publish('container', action, c.id, {
      ...c.config.spec.labels,
      image: c.config.image.ref,
      name: c.name,
      ...extra,
    });
  }

  /** Health check hooks are installed by the health module (see health.ts). */
  armHealthcheck(c: Container): void {
    this.healthArmer?.(c);
  }
  healthArmer: ((c: Container) => void) | undefined;

  setHealth(c: Container, h: HealthState): void {
    const prev = c.state.health?.status;
    c.state.health = h;
    void this.saveState(c).catch(() => undefined);
    if (prev !== h.status) this.publish(c, `health_status: ${h.status}`);
  }

  lock<T>(c: Container, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(c.id, fn);
  }

  get execRoot(): string {
    return this.opts.execRoot;
  }
  get sockets(): string {
    return this.socketDir;
  }
  get statusOf(): (c: Container) => ContainerStatus {
    return (c) => c.state.status;
  }
}

/**
 * Promise.all that waits for every promise before failing, so no preparation is still
 * running (and writing into the rootfs or reserving addresses) while the cleanup undoes it.
 */
async function settleAll<T extends readonly unknown[]>(ps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** conmon needs an absolute runtime path. */
async function findBinary(name: string): Promise<string> {
  if (name.includes('/')) return name;
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    if (await access(p, 1).then(() => true, () => false)) return p;
  }
  throw new BerthError('unavailable', `cannot find "${name}" in PATH`);
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<boolean> {
  if (ms === Infinity) {
    await p;
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), t]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `create?platform=`: the local image must be of that platform (dockerd 404s otherwise; the
 * docker CLI then pulls unless `--pull never`). An image without a recorded platform passes.
 */
export function checkPlatform(ref: string, wanted: string, have: ResolvedImage['platform']): void {
  if (!have?.architecture) return;
  const want = parsePlatform(wanted);
  const actual = { os: have.os || 'linux', architecture: have.architecture, ...(have.variant ? { variant: have.variant } : {}) };
  if (platformMatches(want, actual)) return;
  const shown = /^(sha256:)?[0-9a-f]{12,64}$/.test(ref) || ref.includes('@') || /:[^/]*$/.test(ref) ? ref : `${ref}:latest`;
  throw new BerthError(
    'not-found',
    `image with reference ${shown} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(actual)}`,
  );
}

/** max-size/max-file as conmon and the log keeper use them; max-file counts only with a size limit. */
export function logRotation(config: Record<string, string>): { sizeMax: number; maxFile: number } {
  const sizeMax = conmonLogSizeMax(config['max-size']);
  let maxFile = 1;
  try {
    maxFile = parseMaxFile(config['max-file']);
  } catch {
    // Refused at create; an old record with a bad value keeps one file.
  }
  return { sizeMax, maxFile: sizeMax > 0 ? maxFile : 1 };
}
