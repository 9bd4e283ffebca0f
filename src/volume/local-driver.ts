// The `local` driver's options (`--opt type=tmpfs,device=tmpfs,o=size=64m`), checked
// like Docker's, and mounted over the volume's `_data` with util-linux `mount` while a
// container uses the volume (Docker mounts at first use and unmounts when unused).
import { BerthError, ExecError, invalidArgument, run } from '../util/index.js';
import { MOUNT_TIMEOUT_MS, UNMOUNT_TIMEOUT_MS } from './constants.js';
import { isMountPoint } from './mountinfo.js';

const VALID_OPTS = ['type', 'o', 'device', 'size'] as const;
/** An option that is given requires these others (moby `volume/local/local_unix.go`). */
const MANDATORY_OPTS: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };

/** Throws invalid-argument with Docker's wording for options the local driver does not take. */
export function validateLocalDriverOptions(opts: Record<string, string>): void {
  const keys = Object.keys(opts).sort();
  for (const k of keys) {
    if (!(VALID_OPTS as readonly string[]).includes(k)) throw invalidArgument(`invalid option: "${k}"`);
  }
  for (const k of keys) {
    for (const req of MANDATORY_OPTS[k] ?? []) {
      if (!(req in opts)) throw invalidArgument(`missing required option: "${req}"`);
    }
  }
  if ('size' in opts) throw invalidArgument('quota size requested but no quota support');
}

/** True when the options ask for a mount over `_data` (otherwise `_data` is a plain directory). */
export function needsMount(opts: Record<string, string>): boolean {
  return opts['device'] !== undefined && opts['type'] !== undefined;
}

/** Passwords in `o=` (cifs) never reach an error message or a log. */
function maskPasswords(s: string): string {
  return s.replace(/password=[^,\s]*/g, 'password=********');
}

export async function mountLocalVolume(
  opts: Record<string, string>,
  target: string,
  ctx: { signal?: AbortSignal } = {},
): Promise<void> {
  const device = opts['device'];
  const type = opts['type'];
  if (!device || !type) throw new BerthError('internal', 'missing device in volume options');
  const args = ['-t', type];
  if (opts['o']) args.push('-o', opts['o']);
  args.push('--', device, target);
  try {
    await run('mount', args, { timeoutMs: MOUNT_TIMEOUT_MS, signal: ctx.signal });
  } catch (err) {
    const detail = err instanceof ExecError ? err.stderrTail.trim() || err.message : String(err);
    throw new BerthError('internal', `failed to mount local volume: ${maskPasswords(detail)}`);
  }
}

/** Detaches the mount (like moby's MNT_DETACH), so a busy mount never blocks a stop or removal. */
export async function unmountLocalVolume(target: string, ctx: { signal?: AbortSignal } = {}): Promise<void> {
  if (!(await isMountPoint(target))) return;
  await run('umount', ['-l', '--', target], { timeoutMs: UNMOUNT_TIMEOUT_MS, signal: ctx.signal });
}
