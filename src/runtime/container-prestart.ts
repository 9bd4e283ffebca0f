// What create readies for a container's first start while the docker CLI sends attach and
// wait (~3 ms between create's answer and the start): a conmon spawned and held on its start
// pipe, and the lookups in the new rootfs (the user's passwd/group entries, the executable
// along PATH: ~40 fs calls). The start then writes config.json and lets conmon go at once,
// instead of waiting 3-5 ms for conmon's exec and start-up and for those calls to get through
// libuv's thread pool.
//
// Both are only good for the first start of a container nobody changed: the lookups are
// forgotten when `docker cp` writes into the rootfs, a conmon named before a rename is not
// used, and a conmon nobody took within PENDING_CONMON_MS (~4 MB each) is killed: a
// `docker create` whose start may never come. Removal and the daemon's close let go of both.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errorMessage } from '../util/index.js';
import { spawnConmon, type ConmonStartOptions, type PendingConmon } from './conmon.js';
import { settleAll, type ContainerContext } from './container-context.js';
import type { Container } from './container-record.js';
import { conmonLogSizeMax } from './logs.js';
import { resolveInRoot } from './rootfs-path.js';
import { resolveUser, type ResolvedUser } from './user.js';

/** How long a conmon spawned at create waits for the start before it is killed. */
export const PENDING_CONMON_MS = 10_000;

export interface StartLookups {
  user: ResolvedUser;
}

/** A first start's head start, kept on the container (`Container.prestart`) until the start takes it. */
export interface Prestart {
  conmon?: { name: string; pending: Promise<PendingConmon | undefined>; timer: NodeJS.Timeout };
  /** A rejection is the start's error (126/127 wording). */
  lookups?: Promise<StartLookups>;
}

/** The conmon of `c`'s next start (the start passes its abort signal to `run`). */
export function conmonOptions(ctx: ContainerContext, c: Container): ConmonStartOptions {
  const spec = c.config.spec;
  return {
    id: c.id,
    name: c.name,
    bundle: c.bundle,
    exitDir: c.exitDir,
    logPath: c.logPath,
    logSizeMax: conmonLogSizeMax(spec.host.logConfig.config['max-size']),
    socketDir: ctx.socketDir,
    tty: spec.tty,
    stdin: spec.openStdin,
    // dockerd never closes a TTY's stdin when a client leaves; StdinOnce applies without one.
    leaveStdinOpen: !spec.stdinOnce || spec.tty,
  };
}

/**
 * Spawns the pending conmon of a container that was just created (its bundle has no
 * config.json yet: after a crash of berthd the conmon finds none and runc create fails).
 * Called under the container lock.
 */
export function spawnPendingConmon(ctx: ContainerContext, c: Container): void {
  const pending = spawnConmon(ctx.runc, conmonOptions(ctx, c)).catch((err: unknown) => {
    ctx.log.debug('cannot spawn conmon ahead of the start; the start spawns it', { container: c.id.slice(0, 12), error: errorMessage(err) });
    return undefined;
  });
  // Unref'd: a pending conmon keeps neither the daemon nor a test alive.
  const timer = setTimeout(() => void ctx.locks.run(c.id, () => dropPendingConmon(c)).catch(() => undefined), ctx.opts.pendingConmonMs ?? PENDING_CONMON_MS).unref();
  c.prestart.conmon = { name: c.name, pending, timer };
}

/**
 * Looks up the user and the executable in the mounted rootfs ahead of the first start. Called
 * under the lock; runs on after it: a `docker cp` meanwhile makes the start look again.
 */
export function prepareLookups(c: Container): void {
  const lookups = startLookups(c);
  // Its rejection is the start's error, if a start takes it; otherwise nobody's.
  lookups.catch(() => undefined);
  c.prestart.lookups = lookups;
}

/** The conmon spawned at create, if it is still good for this start (taken: the caller owns it). */
export async function takePendingConmon(c: Container): Promise<PendingConmon | undefined> {
  const held = c.prestart.conmon;
  if (!held) return undefined;
  clearTimeout(held.timer);
  c.prestart.conmon = undefined;
  const conmon = await held.pending;
  if (conmon && held.name !== c.name) {
    // Renamed since: conmon carries the old name.
    await conmon.abandon();
    return undefined;
  }
  return conmon;
}

/** The lookups made at create, if the rootfs is as they saw it (taken: the next start looks again). */
export function takeLookups(c: Container): Promise<StartLookups> | undefined {
  const lookups = c.prestart.lookups;
  c.prestart.lookups = undefined;
  return lookups;
}

/** Something wrote into the rootfs (`docker cp`): what create looked up there may be stale. */
export function forgetLookups(c: Container): void {
  c.prestart.lookups = undefined;
}

/** Kills a pending conmon nobody took; under the container lock. */
export async function dropPendingConmon(c: Container): Promise<void> {
  const conmon = await takePendingConmon(c);
  await conmon?.abandon();
}

/** Lets go of whatever create readied (removal, the daemon's close); under the container lock. */
export async function dropPrestart(c: Container): Promise<void> {
  await dropPendingConmon(c);
  forgetLookups(c);
}

/**
 * The start's lookups in the container's rootfs: the user (from the image's /etc/passwd and
 * /etc/group) and the executable, which must exist as runc will look for it.
 */
export async function startLookups(c: Container): Promise<StartLookups> {
  const spec = c.config.spec;
  const image = c.config.image.config;
  // settleAll: a failed executable check must not leave the user lookup reading the rootfs
  // while the failed start unmounts it (umount then found it busy).
  const [user] = await settleAll([
    resolveUser(c.rootfs, spec.user || image.User || '', spec.host.groupAdd),
    checkExecutable(c, c.config.path, [...(image.Env ?? []), ...spec.env], spec.workingDir || image.WorkingDir || '/'),
  ]);
  return { user };
}

/** Docker's 127 / 126 wording (the docker CLI picks its exit code from it). */
async function checkExecutable(c: Container, cmd: string, env: string[], cwd: string): Promise<void> {
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
  // Every PATH candidate looked up at once (a few lstats each); the first in PATH order wins.
  const found = await Promise.all(candidates.map((cand) => resolveInRoot(c.rootfs, cand).then((host) => stat(host)).catch(() => undefined)));
  for (const st of found) {
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
