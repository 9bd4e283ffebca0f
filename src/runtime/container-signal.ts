// Signals to a container: straight to its init process when that is all `runc kill` would do
// (it runs, and for `--all` it has a pid namespace of its own, which dies with its init),
// sparing a runc spawn (a Go program: 10-20 ms of CPU) on every stop, kill and rm -f; through
// runc otherwise (paused, a shared pid namespace).
import { BerthError } from '../util/index.js';
import type { ContainerContext } from './container-context.js';
import type { Container } from './container-record.js';
import { isSameProcess } from './proc.js';
import { signalNumber } from './signals.js';

/** Sends `sig` (a normalized name, or a number for real-time signals) as `runc kill [--all]` would. */
export async function signalContainer(ctx: ContainerContext, c: Container, sig: string, opts: { all?: boolean } = {}): Promise<void> {
  const { status, pid, pidStartTime } = c.state;
  const direct = status === 'running' && pid > 0 && (!opts.all || ownsPidNamespace(c)) && (await isSameProcess(pid, pidStartTime));
  if (!direct) return ctx.runc.kill(c.id, sig, opts);
  try {
    process.kill(pid, signalNumber(sig));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw new BerthError('conflict', `container ${c.id.slice(0, 12)} is not running`, { cause: err });
    throw err;
  }
}

function ownsPidNamespace(c: Container): boolean {
  const mode = c.config.spec.host.pidMode;
  return mode !== 'host' && !mode.startsWith('container:');
}
