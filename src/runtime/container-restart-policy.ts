// Restart policies (`--restart no|always|unless-stopped|on-failure[:N]`): whether an exit
// restarts the container and after which delay (100 ms doubling up to a minute, back to
// 100 ms after a run of 10 s or more). The restart itself is ContainerService.scheduleRestart.
import { RESTART_BACKOFF_START_MS, type Container } from './container-record.js';

const RESTART_RESET_AFTER_MS = 10_000;
const RESTART_BACKOFF_MAX_MS = 60_000;

export function shouldRestart(c: Container, exitCode: number): boolean {
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

/** The delay before the next restart of `c`, whose last run lasted `ranMs`; advances its backoff. */
export function nextRestartDelay(c: Container, ranMs: number): number {
  if (ranMs >= RESTART_RESET_AFTER_MS) c.restartBackoffMs = RESTART_BACKOFF_START_MS;
  const delay = c.restartBackoffMs;
  c.restartBackoffMs = Math.min(c.restartBackoffMs * 2, RESTART_BACKOFF_MAX_MS);
  return delay;
}

/** At daemon start: a stopped container that `always` / `unless-stopped` (not stopped by hand) brings back. */
export function restartsAtDaemonStart(c: Container): boolean {
  const p = c.config.spec.host.restartPolicy.name;
  return c.state.status === 'exited' && (p === 'always' || (p === 'unless-stopped' && !c.state.manuallyStopped));
}
