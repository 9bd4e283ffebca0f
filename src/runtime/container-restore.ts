// Daemon start and stop. At start every container is read back from disk and reconciled with
// the kernel (conmon exit files, /proc start times, runc state): exits that happened while
// berthd was away are processed, survivors are watched again, `--rm` leftovers go and restart
// policies apply. At close watchers and timers stop; containers keep running under conmon.
import { access, mkdir, readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errorMessage } from '../util/index.js';
import { readMounts } from '../storage/index.js';
import { readBoundingSet } from './capabilities.js';
import { readExitFile } from './conmon.js';
import type { ContainerContext } from './container-context.js';
import { onExit, stopLogKeeper, watchExit } from './container-exit.js';
import { dropPrestart } from './container-prestart.js';
import { Container } from './container-record.js';
import { restartsAtDaemonStart } from './container-restart-policy.js';
import { readHostHardLimits } from './oci-spec.js';
import { loadExecRecords, reconcileExecRecord } from './exec-store.js';
import { isSameProcess } from './proc.js';
import { RuncRuntime } from './runc.js';
import { removeNetnsFile } from './netns-file.js';

/** Loads every container from disk and reconciles it with the kernel (runc state, conmon, exit files). */
export async function restoreContainers(ctx: ContainerContext): Promise<void> {
  await ctx.store.init();
  // Looked up once: an exec by name walks PATH on every container start (~0.1 ms per entry).
  // Without conmon, images still work; a container start then says conmon is missing.
  const [runc, conmon] = await Promise.all([findBinary(ctx.opts.runcBinary ?? 'runc'), findBinary('conmon').catch(() => 'conmon')]);
  ctx.runc = new RuncRuntime(runc, ctx.runc.root, conmon);
  await mkdir(ctx.socketDir, { recursive: true });
  await mkdir(join(ctx.opts.execRoot, 'runc'), { recursive: true });
  await mkdir(join(ctx.opts.execRoot, 'netns'), { recursive: true });
  const [bounding, hardLimits, resolvConf, swapAccounting] = await Promise.all([
    readBoundingSet(),
    readHostHardLimits(),
    readFile('/etc/resolv.conf', 'utf8').catch(() => ''),
    access('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes').then(
      () => true,
      () => false,
    ),
  ]);
  ctx.host = { ...ctx.host, bounding, hardLimits, resolvConf, swapAccounting };
  for (const id of await ctx.store.ids()) {
    try {
      const { config, state } = await ctx.store.load(id);
      const c = new Container(config, state, ctx.store.dir(id));
      ctx.containers.set(id, c);
      ctx.names.set(config.name, id);
    } catch (err) {
      ctx.log.warn('skipping unreadable container', { container: id.slice(0, 12), error: errorMessage(err) });
    }
  }
  // The kernel, not the state file (not fsynced, or written after a crash), says what is mounted.
  const mounted = new Set((await readMounts()).map((m) => m.mountPoint));
  for (const c of ctx.containers.values()) c.state.mounted = mounted.has(c.rootfs);
  for (const c of ctx.containers.values()) await reconcile(ctx, c);
  // Exec sessions are settled against their containers as they are now.
  await Promise.all([...ctx.containers.values()].map((c) => restoreExecs(ctx, c)));
  // Exits processed above let go of their own cgroups and namespaces (container-exit.ts, after
  // their --rm removal, which drops the record): those releases end first.
  await ctx.settled();
  // Leftovers of a crash (containers that ended while berthd was away, a parent left empty).
  await pruneRuncStates(ctx);
  await Promise.all([pruneCgroups(ctx), pruneNetnsFiles(ctx)]);
  for (const c of [...ctx.containers.values()]) {
    // An --rm container that ended while berthd was away (or during its removal) goes now.
    if (c.config.spec.host.autoRemove && !c.removing && (await hasRunOnce(c))) {
      await ctx.remove(c.id, { force: true, removeVolumes: true }).catch((e: unknown) => ctx.log.warn('auto-remove failed', { container: c.id.slice(0, 12), error: errorMessage(e) }));
      continue;
    }
    if (restartsAtDaemonStart(c)) ctx.scheduleRestart(c, 0);
    if (c.state.status === 'running') ctx.armHealthcheck(c);
  }
}

/**
 * Whether an --rm container at daemon start is done: exited or dead after a start, or still
 * `created` although a start got as far as writing its runc bundle (its running state, not
 * fsynced, was lost; or berthd died during that start and `runc delete` ends what it began).
 */
async function hasRunOnce(c: Container): Promise<boolean> {
  if (c.state.status === 'exited' || c.state.status === 'dead') return c.state.hasBeenStarted;
  if (c.state.status !== 'created') return false;
  return access(join(c.bundle, 'config.json')).then(() => true, () => false);
}

/** Rebuilds the state of one container after a daemon (re)start. */
async function reconcile(ctx: ContainerContext, c: Container): Promise<void> {
  if (c.state.status === 'removing') {
    c.state.status = 'dead';
    await ctx.saveState(c);
    return;
  }
  if (c.state.status === 'restarting') {
    // berthd went down during a restart backoff: the exit was handled, the start was not.
    ctx.scheduleRestart(c, 0);
    return;
  }
  if (!c.isRunning) return;
  const exit = await readExitFile(c.exitDir, c.id);
  if (exit) {
    await onExit(ctx, c, exit.exitCode, exit.at);
    return;
  }
  const conmonAlive = await isSameProcess(c.state.conmonPid, c.state.conmonStartTime);
  const pidAlive = await isSameProcess(c.state.pid, c.state.pidStartTime);
  if (conmonAlive && pidAlive) {
    watchExit(ctx, c);
    const rs = await ctx.runc.state(c.id).catch(() => undefined);
    if (rs?.status === 'paused') c.state.status = 'paused';
    else if (rs?.status === 'running') c.state.status = 'running';
    await ctx.saveState(c);
    return;
  }
  // conmon is gone without an exit file: the exit code is lost. A container still running
  // without its monitor has no log and no exit file any more: it is stopped, not adopted.
  if (pidAlive) await ctx.runc.delete(c.id, { force: true }).catch(() => undefined);
  await onExit(ctx, c, 255, new Date(), 'container monitor (conmon) exited unexpectedly');
}

/** Reads a container's exec records and settles those that ended while berthd was away. */
async function restoreExecs(ctx: ContainerContext, c: Container): Promise<void> {
  const records = await loadExecRecords(c.dir);
  c.restoredExecs = await Promise.all(
    records.map((r) =>
      reconcileExecRecord(c.dir, r, c.isRunning).catch((err: unknown) => {
        ctx.log.warn('cannot settle exec session', { container: c.id.slice(0, 12), exec: r.id.slice(0, 12), error: errorMessage(err) });
        return r;
      }),
    ),
  );
}

/** Stops watchers and timers; containers keep running under conmon. */
export async function closeContainers(ctx: ContainerContext): Promise<void> {
  ctx.closed = true;
  for (const c of ctx.containers.values()) {
    c.exitWatcher?.close();
    void stopLogKeeper(c);
    clearTimeout(c.restartTimer);
    clearTimeout(c.healthTimer);
  }
  await ctx.settled();
  // Created containers are mounted (and given a namespace file) ahead of their start
  // (container-create.ts): a stopped daemon leaves only running containers' mounts.
  await Promise.all(
    [...ctx.containers.values()].map((c) =>
      ctx.locks.run(c.id, async () => {
        if (c.isRunning) return;
        await dropPrestart(c);
        if (c.netnsPremade) await removeNetnsFile(ctx.netnsFileOf(c));
        c.netnsPremade = false;
        await ctx.unmountRootfs(c);
      }).catch((e: unknown) => ctx.log.warn('cannot unmount a stopped container', { container: c.id.slice(0, 12), error: errorMessage(e) })),
    ),
  );
  await pruneCgroups(ctx);
}

/**
 * runc's state of containers that have no record: a crash after a removal and before the
 * release of its run (container-exit.ts) leaves it, as does one that cut a build step (whose
 * runner cleans up its own as well). Nothing runs builds yet at start-up; `runc delete --force`
 * ends whatever is left of such a container, so a spawn happens only when there is one.
 */
async function pruneRuncStates(ctx: ContainerContext): Promise<void> {
  const names = await readdir(ctx.runc.root).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => /^[a-f0-9]{64}$/.test(n) && !ctx.containers.has(n))
      .map((n) => ctx.runc.delete(n, { force: true }).catch((e: unknown) => ctx.log.warn('cannot delete the runc state of a removed container', { container: n.slice(0, 12), error: errorMessage(e) }))),
  );
}

/**
 * Namespace files of containers that no longer run: a crash between an exit (or a start that
 * failed) and the release of its namespace leaves one mounted.
 */
async function pruneNetnsFiles(ctx: ContainerContext): Promise<void> {
  const dir = join(ctx.opts.execRoot, 'netns');
  const live = new Set([...ctx.containers.values()].filter((c) => c.isRunning).map((c) => c.id));
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => !live.has(n))
      .map((n) => removeNetnsFile(join(dir, n)).catch((e: unknown) => ctx.log.warn('cannot release a network namespace', { file: n.slice(0, 12), error: errorMessage(e) }))),
  );
}

/**
 * The cgroup parent is ours: empty cgroups of containers that are gone, then the parent
 * itself when nothing is left in it (rmdir refuses a cgroup with processes or children, so
 * running containers keep theirs). At close and after start-up reconciliation, so neither a
 * clean stop nor a crash leaves empty directories under /sys/fs/cgroup.
 */
async function pruneCgroups(ctx: ContainerContext): Promise<void> {
  const parent = ctx.opts.cgroupParent ?? '/berth';
  const base = '/sys/fs/cgroup';
  // v1 controllers and the hybrid `unified` mount are subdirectories; on a pure v2 host the base is the root.
  const roots = [base, ...(await readdir(base).catch(() => [] as string[])).map((c) => join(base, c))];
  const running = new Set([...ctx.containers.values()].filter((c) => c.isRunning).map((c) => c.id));
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

/** `name`'s absolute path (conmon needs one for runc). */
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
