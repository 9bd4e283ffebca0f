// `rm` (and `--rm`): kill what still runs, wait for its exit to be processed, then under the
// lock release runc state, mount, snapshot and volumes, and drop the record last (a failure
// leaves the record for a retry; a crash midway leaves it in its previous state). The files
// of the snapshot and of the container's directory leave their names at once (one rename
// each) and are deleted after the answer, tracked so that close waits for them; start-up
// deletes what a crash left (OverlaySnapshotter.open, ContainerStore.init).
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errorMessage } from '../util/index.js';
import { settleAll, withTimeout, type ContainerContext, type RemoveOptions } from './container-context.js';
import { checkExitFile, stopLogKeeper } from './container-exit.js';
import { dropPrestart } from './container-prestart.js';
import { failRemoval, type Container } from './container-record.js';
import { checkTransition } from './container-state.js';
import { signalContainer } from './container-signal.js';
import { KILL_WAIT_MS } from './container-stop.js';
import { removeNetnsFile } from './netns-file.js';

export async function removeContainer(ctx: ContainerContext, ref: string, opts: RemoveOptions = {}): Promise<void> {
  const c = ctx.get(ref);
  if (c.removing) {
    throw new BerthError('conflict', `removal of container ${c.id.slice(0, 12)} is already in progress`);
  }
  if ((c.isRunning || c.state.status === 'restarting') && !opts.force) {
    checkTransition(c.id, c.state.status, 'remove');
  }
  c.removing = true;
  const t0 = performance.now();
  try {
    clearTimeout(c.restartTimer);
    if (c.isRunning) {
      const exited = c.nextExit.promise;
      await signalContainer(ctx, c, 'SIGKILL', { all: true }).catch(() => undefined);
      // Frozen tasks do not act on SIGKILL until thawed.
      if (c.state.status === 'paused') await ctx.runc.resume(c.id).catch(() => undefined);
      if (!(await withTimeout(exited, KILL_WAIT_MS))) {
        await checkExitFile(ctx, c);
        if (c.isRunning) throw new BerthError('internal', `could not kill running container ${c.id.slice(0, 12)}, cannot remove`);
      }
    }
    const tKilled = performance.now();
    // The exit's processing holds the lock already (container-exit.ts).
    if (opts.afterExit) await removeLocked(ctx, c, opts, tKilled - t0);
    else await ctx.locks.run(c.id, () => removeLocked(ctx, c, opts, tKilled - t0));
  } finally {
    c.removing = false;
  }
}

async function removeLocked(ctx: ContainerContext, c: Container, opts: RemoveOptions, killMs: number): Promise<void> {
  const t0 = performance.now();
  const prev = c.state.status;
  c.state.status = 'removing';
  // Lost in a crash, the container is simply seen in its previous state and can be removed again.
  if (!opts.afterExit) await ctx.saveState(c, { durable: false }).catch(() => undefined);
  let tUnmount = t0;
  let tFiles = t0;
  try {
    c.exitWatcher?.close();
    await Promise.all([stopLogKeeper(c, false), dropPrestart(c)]);
    clearTimeout(c.healthTimer);
    // runc keeps state only for a container it still knows; skip the spawn otherwise, and
    // when the exit's release (container-exit.ts) is letting go of it already.
    if (!c.releasing && (await access(join(ctx.runc.root, c.id)).then(() => true, () => false))) await ctx.runc.delete(c.id, { force: true });
    // A namespace file made at create for a start that never came (an exit's release lets go of its own).
    await Promise.all([ctx.unmountRootfs(c), c.releasing ? undefined : removeNetnsFile(ctx.netnsFileOf(c))]);
    // The flag is the kernel's (see mountRootfs): the snapshotter need not read the mount table again.
    if (c.state.mounted) throw new BerthError('conflict', `cannot remove container ${c.id.slice(0, 12)}: its root filesystem is still mounted at "${c.rootfs}"`);
    tUnmount = performance.now();
    const track = (deletion: Promise<void>) => ctx.track(deletion);
    // Independent of each other; the record goes last, so a failure leaves it for a retry.
    await settleAll([
      ctx.opts.snapshotter.remove(c.config.rootfsKey, { unmounted: true, track }).catch((e: unknown) => {
        if (!(e instanceof BerthError && e.kind === 'not-found')) throw e;
      }),
      ctx.opts.volumes.release({ id: c.id, mountPoints: c.config.mountPoints, removeVolumes: !!opts.removeVolumes }),
    ]);
    tFiles = performance.now();
    await ctx.store.remove(c.id, { track });
  } catch (err) {
    c.state.status = prev === 'removing' ? 'dead' : prev;
    await ctx.saveState(c).catch(() => undefined);
    failRemoval(c, `removal of container ${c.id.slice(0, 12)} failed: ${errorMessage(err)}`);
    throw err;
  }
  ctx.containers.delete(c.id);
  if (ctx.names.get(c.name) === c.id) ctx.names.delete(c.name);
  ctx.publish(c, 'destroy');
  c.removed.resolve({ exitCode: c.state.exitCode });
  const ms = (a: number, b: number) => +(b - a).toFixed(1);
  ctx.log.trace('remove phases', { container: c.id.slice(0, 12), killMs: +killMs.toFixed(1), unmountMs: ms(t0, tUnmount), filesMs: ms(tUnmount, tFiles), recordMs: ms(tFiles, performance.now()) });
}
