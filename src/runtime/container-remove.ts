// `rm` (and `--rm`): kill what still runs, wait for its exit to be processed, then under the
// lock release runc state, mount, snapshot and volumes, and drop the record last (a failure
// leaves the record for a retry; a crash midway leaves it in its previous state).
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../util/index.js';
import { settleAll, withTimeout, type ContainerContext, type RemoveOptions } from './container-context.js';
import { checkExitFile, stopLogKeeper } from './container-exit.js';
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
    await ctx.locks.run(c.id, async () => {
      const prev = c.state.status;
      c.state.status = 'removing';
      // Lost in a crash, the container is simply seen in its previous state and can be removed again.
      if (!opts.afterExit) await ctx.saveState(c, { durable: false }).catch(() => undefined);
      try {
        c.exitWatcher?.close();
        await stopLogKeeper(c, false);
        clearTimeout(c.healthTimer);
        // runc keeps state only for a container it still knows; skip the spawn otherwise, and
        // when the exit's release (container-exit.ts) is letting go of it already.
        if (!c.releasing && (await access(join(ctx.runc.root, c.id)).then(() => true, () => false))) await ctx.runc.delete(c.id, { force: true });
        // A namespace file made at create for a start that never came (an exit's release lets go of its own).
        await Promise.all([ctx.unmountRootfs(c), c.releasing ? undefined : removeNetnsFile(ctx.netnsFileOf(c))]);
        // Independent of each other; the record goes last, so a failure leaves it for a retry.
        await settleAll([
          ctx.opts.snapshotter.remove(c.config.rootfsKey).catch((e: unknown) => {
            if (!(e instanceof BerthError && e.kind === 'not-found')) throw e;
          }),
          ctx.opts.volumes.release({ id: c.id, mountPoints: c.config.mountPoints, removeVolumes: !!opts.removeVolumes }),
        ]);
        await ctx.store.remove(c.id);
      } catch (err) {
        c.state.status = prev === 'removing' ? 'dead' : prev;
        await ctx.saveState(c).catch(() => undefined);
        throw err;
      }
      ctx.containers.delete(c.id);
      if (ctx.names.get(c.name) === c.id) ctx.names.delete(c.name);
      ctx.publish(c, 'destroy');
      c.removed.resolve({ exitCode: c.state.exitCode });
    });
  } finally {
    c.removing = false;
  }
}
