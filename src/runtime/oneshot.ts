// One-off processes on an already mounted rootfs, in the foreground: `runc run` with the
// OCI spec machinery of containers (caps, masked paths, /dev, user resolution) but no
// conmon, no container record and no events. The builder's RUN steps use it: they need the
// exit code and the output, and nothing must outlive the step.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { BerthError, spawnStreaming, writeFileAtomic } from '../util/index.js';
import { readMounts } from '../storage/index.js';
import { readBoundingSet } from './capabilities.js';
import { hostsFile, resolvConfFile } from './basic-network.js';
import { defaultContainerSpec } from './container-spec.js';
import { generateOciSpec, readHostHardLimits, type OciMount } from './oci-spec.js';
import { RuncRuntime } from './runc.js';
import { createNetnsFile, removeNetnsFile } from './netns-file.js';
import { resolveUser } from './user.js';

/** A build step may run long (package installs); the caller's signal cancels earlier. */
export const ONESHOT_DEFAULT_TIMEOUT_MS = 2 * 60 * 60_000;

export interface OneShotSpec {
  /** Mounted root filesystem (writable). */
  rootfs: string;
  args: string[];
  /** `KEY=VALUE`, in order; PATH gets Docker's default when absent. */
  env: string[];
  cwd: string;
  /** `user`, `uid`, `user:group`, resolved in the rootfs' /etc/passwd. */
  user: string;
  /** `bridge`: a namespace of its own on the default bridge (needs `OneShotRunnerOptions.network`, else none). */
  network: 'none' | 'host' | 'bridge';
  /** Extra mounts (cache dirs, secrets on tmpfs, binds). */
  mounts: OciMount[];
  hostname?: string;
  extraHosts?: string[];
}

export interface OneShotResult {
  exitCode: number;
}

export interface OneShotRunnerOptions {
  /** `<exec-root>`: bundles under `<exec-root>/oneshot/`, runc state under `<exec-root>/runc`. */
  execRoot: string;
  runcBinary?: string;
  /** cgroupfs parent, as for containers. */
  cgroupParent?: string;
  /** Connects `bridge` runs to the default bridge (api/daemon.ts wires the NetworkService). */
  network?: OneShotNetwork;
  /**
   * A directory that survives reboots (under the data-root) where bridge runs are noted while
   * connected, so that start-up gives back the addresses of runs a crash interrupted.
   */
  stateDir?: string;
}

/**
 * The default bridge for one-off runs. Declared here, by its user (STYLE.md §1): runtime
 * creates the namespace, the network side plumbs it and hands the address back afterwards.
 */
export interface OneShotNetwork {
  /** Connects the namespace file to the default bridge; returns what /etc/hosts and resolv.conf get. */
  connect(
    sandbox: { id: string; name: string; hostname: string },
    netnsPath: string,
    opts: { signal?: AbortSignal },
  ): Promise<{ hostsEntries: string[]; resolvConf?: string | undefined; hostGateway?: string }>;
  /** Removes the endpoint and releases its address; idempotent, also after a failed connect. */
  disconnect(sandbox: { id: string }): Promise<void>;
}

export class OneShotRunner {
  private readonly runc: RuncRuntime;
  private host: Promise<{ bounding: string[]; hard: Record<string, number>; resolv: string }> | undefined;

  constructor(private readonly opts: OneShotRunnerOptions) {
    this.runc = new RuncRuntime(opts.runcBinary ?? 'runc', join(opts.execRoot, 'runc'));
  }

  private hostFacts() {
    this.host ??= Promise.all([readBoundingSet(), readHostHardLimits(), readFile('/etc/resolv.conf', 'utf8').catch(() => '')]).then(
      ([bounding, hard, resolv]) => ({ bounding, hard, resolv }),
    );
    return this.host;
  }

  /**
   * Removes what a crashed daemon left of one-off runs: runc containers whose bundle is under
   * `<exec-root>/oneshot/`, and the bundles. Call once at start-up, before any run.
   */
  async cleanupLeftovers(): Promise<void> {
    const dir = join(this.opts.execRoot, 'oneshot');
    let states: Awaited<ReturnType<RuncRuntime['list']>> = [];
    try {
      states = await this.runc.list();
    } catch (err) {
      // No runc state dir yet (first start): nothing can be left.
      if (!(err instanceof Error)) throw err;
    }
    for (const s of states) if (s.bundle.startsWith(dir + '/')) await this.runc.delete(s.id, { force: true });
    // A bridge run's endpoint and address outlive a crash in the network records (and a reboot,
    // which empties the exec-root but not the state dir): give them back.
    const ids = new Set([...(await namesIn(dir)), ...(this.opts.stateDir ? await namesIn(this.opts.stateDir) : [])]);
    if (this.opts.network) for (const id of ids) await this.opts.network.disconnect({ id });
    if (this.opts.stateDir) for (const id of ids) await rm(join(this.opts.stateDir, id), { force: true });
    // Namespace files of bridge runs are bind mounts: never rm -r through them.
    for (const m of await readMounts()) if (m.mountPoint.startsWith(dir + '/')) await removeNetnsFile(m.mountPoint);
    await rm(dir, { recursive: true, force: true });
  }

  /**
   * Kills the container's processes until `runc run` returns (the container may not exist yet
   * when the abort arrives); after a grace, kills `runc run` itself.
   */
  private async killUntilExited(id: string, isExited: () => boolean, killChild: () => void): Promise<void> {
    const deadline = Date.now() + KILL_GIVE_UP_MS;
    while (!isExited() && Date.now() < deadline) {
      await this.runc.kill(id, 'KILL', { all: true }).catch(() => undefined); // not created yet, or already gone
      await new Promise((r) => setTimeout(r, KILL_RETRY_MS));
    }
    if (!isExited()) killChild();
  }

  /**
   * Runs `spec.args` to completion. Output (stdout and stderr interleaved) goes to `onOutput`.
   * A non-zero exit is a result, not an error; failing to start the process is an error.
   */
  async run(
    spec: OneShotSpec,
    opts: { signal?: AbortSignal; timeoutMs?: number; onOutput?: (chunk: Buffer) => void } = {},
  ): Promise<OneShotResult> {
    const id = randomBytes(32).toString('hex');
    const bundle = join(this.opts.execRoot, 'oneshot', id);
    const facts = await this.hostFacts();
    const bridge = spec.network === 'bridge' ? this.opts.network : undefined;
    const netMode: 'none' | 'host' | 'bridge' = spec.network === 'bridge' && !bridge ? 'none' : spec.network;
    await mkdir(bundle, { recursive: true, mode: 0o700 });
    let netns: string | undefined;
    try {
      const hostname = spec.hostname ?? (netMode === 'host' ? osHostname() : id.slice(0, 12));
      let joined: { hostsEntries: string[]; resolvConf?: string | undefined; hostGateway?: string } = { hostsEntries: [] };
      if (bridge) {
        if (this.opts.stateDir) {
          await mkdir(this.opts.stateDir, { recursive: true, mode: 0o700 });
          await writeFile(join(this.opts.stateDir, id), '');
        }
        netns = join(bundle, 'netns'); // set first: an aborted unshare may still have mounted it
        await createNetnsFile(netns, opts.signal);
        joined = await bridge.connect({ id, name: `build-${id.slice(0, 12)}`, hostname }, netns, { ...(opts.signal ? { signal: opts.signal } : {}) });
      }
      const ownHosts = netMode === 'host' ? [] : joined.hostsEntries.length ? joined.hostsEntries : [`127.0.1.1\t${hostname}`];
      await Promise.all([
        writeFile(join(bundle, 'hostname'), hostname + '\n'),
        // On the host's network, the host is 127.0.0.1 itself.
        writeFile(join(bundle, 'hosts'), hostsFile(spec.extraHosts ?? [], ownHosts, joined.hostGateway ?? (netMode === 'host' ? '127.0.0.1' : undefined))),
        writeFile(
          join(bundle, 'resolv.conf'),
          joined.resolvConf ?? resolvConfFile(facts.resolv, { dns: [], dnsSearch: [], dnsOptions: [], hostNetwork: netMode === 'host' }),
        ),
      ]);
      const user = await resolveUser(spec.rootfs, spec.user, []);
      const cspec = defaultContainerSpec('');
      cspec.hostname = hostname;
      cspec.host.networkMode = netMode;
      const oci = generateOciSpec({
        id,
        spec: cspec,
        image: { Env: spec.env, WorkingDir: spec.cwd },
        rootfs: spec.rootfs,
        userdataDir: bundle,
        user,
        args: spec.args,
        bounding: facts.bounding,
        hostHardLimits: facts.hard,
        cgroupsPath: `${this.opts.cgroupParent ?? '/berth'}/build-${id.slice(0, 12)}`,
        network: netMode === 'host' ? { mode: 'host' } : netns ? { mode: 'path', path: netns } : { mode: 'new' },
        // A private UTS namespace even with the host network: runc refuses a hostname otherwise.
        extraMounts: spec.mounts,
        swapAccounting: false,
        hostHostname: osHostname(),
      });
      await writeFileAtomic(join(bundle, 'config.json'), JSON.stringify(oci), { durable: false });
      // stderr is folded into stdout by the shell so the step output keeps its order; runc's own
      // errors (bad cwd, missing binary) land there too and end in the step's log.
      // No signal for the child itself: killing `runc run` would orphan the container's
      // processes (they are not in its process group). Cancelling kills the container instead.
      const child = spawnStreaming(
        '/bin/sh',
        ['-c', 'exec "$0" "$@" 2>&1', this.runc.binary, ...this.runc.globalArgs(), 'run', '--bundle', bundle, id],
        { timeoutMs: opts.timeoutMs ?? ONESHOT_DEFAULT_TIMEOUT_MS, okCodes: range256() },
      );
      child.stdin.end();
      child.stdout.on('data', (c: Buffer) => opts.onOutput?.(c));
      let exited = false;
      const onAbort = () => void this.killUntilExited(id, () => exited, child.kill);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const exitCode = await child.done;
        exited = true;
        opts.signal?.throwIfAborted();
        return { exitCode };
      } finally {
        exited = true;
        opts.signal?.removeEventListener('abort', onAbort);
      }
    } finally {
      // Every part is undone even when one fails; the first failure is reported.
      let failure: unknown;
      // runc run was the parent of the container: if it died early the container may be left.
      await this.runc.delete(id, { force: true }).catch((err: unknown) => {
        failure ??= new BerthError('internal', `cannot remove build container ${id.slice(0, 12)}`, { cause: err });
      });
      // The endpoint goes before the namespace: deleting the host veth needs nothing inside.
      if (bridge) {
        await bridge.disconnect({ id }).then(
          () => (this.opts.stateDir ? rm(join(this.opts.stateDir, id), { force: true }) : undefined),
          (err: unknown) => (failure ??= err),
        );
      }
      if (netns) await removeNetnsFile(netns).catch((err: unknown) => (failure ??= err));
      if (failure === undefined) await rm(bundle, { recursive: true, force: true });
      if (failure !== undefined) throw failure;
    }
  }
}

async function namesIn(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}

const KILL_RETRY_MS = 100;
const KILL_GIVE_UP_MS = 10_000;

function range256(): number[] {
  return Array.from({ length: 255 }, (_, i) => i + 1);
}
