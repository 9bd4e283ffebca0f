// Signals and waits: stop (stop signal, grace period, then SIGKILL), kill, restart, pause,
// unpause, wait. The lock is held to send a signal, never while waiting for the exit.
import { BerthError } from '../util/index.js';
import { withTimeout, type ContainerContext } from './container-context.js';
import type { ExitInfo } from './container-record.js';
import { startProcess } from './container-start.js';
import { signalContainer } from './container-signal.js';
import { checkTransition } from './container-state.js';
import { normalizeSignal, signalNumber } from './signals.js';

/** Stop grace period when neither the request nor the container names one (Docker's 10 s). */
const DEFAULT_STOP_TIMEOUT_S = 10;
/** After SIGKILL a container is gone within this; longer means something is badly wrong. */
export const KILL_WAIT_MS = 15_000;

export async function stopContainer(ctx: ContainerContext, ref: string, opts: { timeoutS?: number; signal?: string } = {}): Promise<void> {
  const c = ctx.get(ref);
  let exited: Promise<ExitInfo>;
  const stopped = await ctx.locks.run(c.id, async () => {
    if (c.state.status === 'restarting') {
      clearTimeout(c.restartTimer);
      c.state.status = 'exited';
      c.state.manuallyStopped = true;
      await ctx.saveState(c);
      return false;
    }
    checkTransition(c.id, c.state.status, 'stop');
    c.state.manuallyStopped = true;
    await ctx.saveState(c);
    exited = c.nextExit.promise;
    if (c.state.status === 'paused') await ctx.runc.resume(c.id).catch(() => undefined);
    const sig = opts.signal ?? c.config.spec.stopSignal ?? c.config.image.config.StopSignal ?? 'SIGTERM';
    await signalContainer(ctx, c, normalizeSignal(sig)).catch(() => undefined);
    ctx.publish(c, 'kill', { signal: String(signalNumber(normalizeSignal(sig))) });
    return true;
  });
  if (!stopped) return;
  const timeoutS = opts.timeoutS ?? c.config.spec.stopTimeout ?? DEFAULT_STOP_TIMEOUT_S;
  if (!(await withTimeout(exited!, timeoutS < 0 ? Infinity : timeoutS * 1000))) {
    await signalContainer(ctx, c, 'SIGKILL', { all: true }).catch(() => undefined);
    ctx.publish(c, 'kill', { signal: '9' });
    if (!(await withTimeout(exited!, KILL_WAIT_MS))) throw new BerthError('internal', `container ${c.id.slice(0, 12)} did not exit after SIGKILL`);
  }
  ctx.publish(c, 'stop');
}

export async function killContainer(ctx: ContainerContext, ref: string, signal = 'SIGKILL'): Promise<void> {
  const c = ctx.get(ref);
  await ctx.locks.run(c.id, async () => {
    checkTransition(c.id, c.state.status, 'kill');
    const sig = normalizeSignal(signal);
    // dockerd: killing with SIGKILL or the stop signal cancels the restart policy.
    const stopSig = normalizeSignal(c.config.spec.stopSignal ?? c.config.image.config.StopSignal ?? 'SIGTERM');
    if (sig === 'SIGKILL' || sig === stopSig) {
      c.state.manuallyStopped = true;
      await ctx.saveState(c);
    }
    await signalContainer(ctx, c, sig, { all: sig === 'SIGKILL' });
    if (sig === 'SIGKILL' && c.state.status === 'paused') await ctx.runc.resume(c.id).catch(() => undefined);
    ctx.publish(c, 'kill', { signal: String(signalNumber(sig)) });
  });
}

export async function restartContainer(ctx: ContainerContext, ref: string, opts: { timeoutS?: number; signal?: string } = {}): Promise<void> {
  const c = ctx.get(ref);
  if (c.isRunning || c.state.status === 'restarting') await stopContainer(ctx, c.id, opts);
  await ctx.locks.run(c.id, async () => {
    if (c.state.status === 'running') return;
    c.state.manuallyStopped = false;
    await startProcess(ctx, c, {});
  });
  ctx.publish(c, 'restart');
}

/** `pause` (freeze every process of the container) or `unpause` (thaw them). */
export async function setPaused(ctx: ContainerContext, ref: string, paused: boolean): Promise<void> {
  const c = ctx.get(ref);
  const action = paused ? 'pause' : 'unpause';
  await ctx.locks.run(c.id, async () => {
    checkTransition(c.id, c.state.status, action);
    await (paused ? ctx.runc.pause(c.id) : ctx.runc.resume(c.id));
    c.state.status = paused ? 'paused' : 'running';
    await ctx.saveState(c);
    ctx.publish(c, action);
  });
}

/** Docker's wait conditions: not-running (default), next-exit, removed. */
export async function waitFor(
  ctx: ContainerContext,
  ref: string,
  condition: 'not-running' | 'next-exit' | 'removed' = 'not-running',
  opts: { signal?: AbortSignal } = {},
): Promise<ExitInfo> {
  const c = ctx.get(ref);
  if (condition === 'removed') return c.removed.wait(opts.signal);
  if (condition === 'not-running' && !c.isRunning && c.state.status !== 'restarting') return { exitCode: c.state.exitCode, error: c.state.error || undefined };
  return c.nextExit.wait(opts.signal);
}
