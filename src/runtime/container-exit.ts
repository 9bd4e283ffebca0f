// Exits: conmon writes `exits/<id>` when the container's init ends; an inotify watch on that
// directory brings berthd here, where the container's resources go (cgroup + runc state,
// network, rootfs mount), the state becomes `exited`, waiters wake, and then the container is
// auto-removed (`--rm`) or restarted by its policy.
import { watch } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../util/index.js';
import { readExitFile } from './conmon.js';
import type { ContainerContext } from './container-context.js';
import { settleNextExit, type Container } from './container-record.js';
import { nextRestartDelay, shouldRestart } from './container-restart-policy.js';
import { conmonLogSizeMax } from './logs.js';
import { LogKeeper, parseMaxFile } from './log-rotation.js';
import { removeNetnsFile } from './netns-file.js';

/** Stops the max-file keeper. `finalStep`: one last look (an exit); not when the container's files are being removed. */
export function stopLogKeeper(c: Container, finalStep = true): Promise<void> {
  const k = c.logKeeper;
  c.logKeeper = undefined;
  if (k) c.logKeeperClosed = k.close(finalStep);
  return c.logKeeperClosed;
}

/** Stops watching for the exit (and keeping rotated logs): the run is over or never began. */
export function unwatchExit(c: Container): void {
  c.exitWatcher?.close();
  c.exitWatcher = undefined;
  void stopLogKeeper(c);
}

/** Watches for the exit file of a running container (and keeps its rotated logs). */
export function watchExit(ctx: ContainerContext, c: Container): void {
  const rot = logRotation(c.config.spec.host.logConfig.config);
  if (rot.maxFile > 1 && !c.logKeeper) {
    c.logKeeper = new LogKeeper(c.logPath, rot.maxFile, (err) => ctx.log.warn('log rotation failed', { container: c.id.slice(0, 12), error: errorMessage(err) }));
  }
  if (c.exitWatcher) return;
  try {
    c.exitWatcher = watch(c.exitDir, { persistent: true }, (_event, file) => {
      // conmon writes the file through a temp name and a rename (g_file_set_contents): the
      // temp file's events (create, write, move away) cannot be the exit yet.
      if (file && file !== c.id) return;
      // Nobody awaits a watch callback: a failure is logged, not left to crash the daemon.
      checkExitFile(ctx, c).catch((e: unknown) => ctx.log.warn('cannot process an exit', { container: c.id.slice(0, 12), error: errorMessage(e) }));
    });
    c.exitWatcher.on('error', () => undefined);
  } catch (err) {
    ctx.log.warn('cannot watch exit dir', { container: c.id.slice(0, 12), error: errorMessage(err) });
  }
}

/** Processes the exit file if it is there (under the lock; a second look is a no-op). */
export async function checkExitFile(ctx: ContainerContext, c: Container): Promise<void> {
  const exit = await readExitFile(c.exitDir, c.id);
  if (!exit) return;
  await ctx.locks.run(c.id, async () => {
    if (c.state.status !== 'running' && c.state.status !== 'paused') return;
    await onExit(ctx, c, exit.exitCode, exit.at);
  });
}

/**
 * Called under the container lock (or at init) once the container's init process is gone.
 * An --rm container is removed here too, under the same lock, so nothing comes between its
 * exit and its removal.
 */
export async function onExit(ctx: ContainerContext, c: Container, exitCode: number, at: Date, error = ''): Promise<void> {
  const t0 = performance.now();
  const seenMs = Date.now() - at.getTime();
  unwatchExit(c);
  clearTimeout(c.healthTimer);
  const release = releaseLater(ctx, c);
  let tUnmount = t0;
  let tSaved = t0;
  try {
    const [, oomKilled] = await Promise.all([
      // The container's processes are gone: its rootfs can go at the same time.
      ctx.unmountRootfs(c),
      access(join(c.bundle, 'oom')).then(() => true, () => false),
    ]);
    tUnmount = performance.now();
    const ranMs = at.getTime() - Date.parse(c.state.startedAt);
    c.state = { ...c.state, status: 'exited', pid: 0, pidStartTime: undefined, conmonPid: 0, conmonStartTime: undefined, exitCode, error, oomKilled, finishedAt: at.toISOString() };
    if (c.state.health) c.state.health = { ...c.state.health, status: 'unhealthy' };
    // An --rm container is removed right away, so its exit is not written at all: if berthd
    // dies first, the exit file is still there and the exit is processed again at start-up.
    // Nor is the exit a removal waits for (rm -f), which writes the container's state next.
    const autoRemoving = c.config.spec.host.autoRemove && !c.removing && !ctx.closed;
    if (!autoRemoving && !c.removing) {
      // Written without waiting for the disk (a crash of berthd loses nothing), synced after
      // the answers (`docker run`'s wait) but for an --rm container's, which a power loss only
      // leaves to be removed at start-up.
      // A failed write (a full disk) holds up neither the waiters nor the release: the exit
      // file stays, and a restarted berthd processes the exit again.
      const saved = await ctx.saveState(c, { durable: false }).then(
        () => true,
        (e: unknown) => {
          ctx.log.warn('cannot save the exit', { container: c.id.slice(0, 12), error: errorMessage(e) });
          return false;
        },
      );
      if (saved && !c.config.spec.host.autoRemove) ctx.syncStateAfterwards(c);
    }
    tSaved = performance.now();
    if (oomKilled) ctx.publish(c, 'oom');
    ctx.publish(c, 'die', { exitCode: String(exitCode) });
    settleNextExit(c, { exitCode, error: error || undefined });
    if (autoRemoving) {
      // dockerd's auto-remove is `rm -f -v`: anonymous volumes go with the container.
      await ctx.remove(c.id, { force: true, removeVolumes: true, afterExit: true }).catch((e: unknown) => ctx.log.warn('auto-remove failed', { container: c.id.slice(0, 12), error: errorMessage(e) }));
      return;
    }
    if (ctx.closed) return;
    if (shouldRestart(c, exitCode)) ctx.scheduleRestart(c, nextRestartDelay(c, ranMs));
  } finally {
    release();
    const ms = (a: number, b: number) => +(b - a).toFixed(1);
    ctx.log.trace('exit phases', { container: c.id.slice(0, 12), seenMs, unmountMs: ms(t0, tUnmount), saveMs: ms(tUnmount, tSaved), removeMs: ms(tSaved, performance.now()) });
  }
}

/**
 * Lets go of the run's cgroups, runc state, network endpoints and namespace once the exit is
 * processed (an --rm container removed with it) and the answers it settled (wait, `docker run
 * --rm`) are written: nothing waits for the release but the next start, and its file
 * operations and spawns would only hold those answers up. `c.releasing` is set now (removal
 * skips runc then); the next start waits for `c.released`, close for every release; start-up
 * deletes what a crash left (container-restore.ts). Returns the function that lets it begin.
 */
function releaseLater(ctx: ContainerContext, c: Container): () => void {
  c.releasing = true;
  let begin!: () => void;
  const done = new Promise<void>((r) => (begin = r))
    .then(() =>
      Promise.all([
        ctx.runc.deleteStopped(c.id, ctx.cgroupPathOf(c)).catch((e: unknown) => ctx.log.warn('runc delete failed', { container: c.id.slice(0, 12), error: errorMessage(e) })),
        // The namespace first: its veth pairs go with it, and detach only waits for that.
        removeNetnsFile(ctx.netnsFileOf(c))
          .catch((e: unknown) => ctx.log.warn('cannot release the network namespace', { container: c.id.slice(0, 12), error: errorMessage(e) }))
          .then(() => ctx.opts.network.detach({ id: c.id, name: c.name, spec: c.config.spec }, { namespaceGone: true }))
          .catch((e: unknown) => ctx.log.warn('network detach failed', { container: c.id.slice(0, 12), error: errorMessage(e) })),
      ]),
    )
    .then(() => {
      c.releasing = false;
    });
  c.released = done;
  ctx.track(done);
  // setImmediate: after the answers that the exit settled are written (their promise chains run first).
  return () => void setImmediate(begin);
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
