// `create`: a ContainerSpec becomes a record on disk (config.json + state.json), a prepared
// rootfs snapshot and volume mount points. Nothing runs yet; a failure leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { BerthError, errorMessage } from '../util/index.js';
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformMatches } from '../image/index.js';
import { settleAll, type ContainerContext } from './container-context.js';
import { prepareLookups, spawnPendingConmon } from './container-prestart.js';
import { Container, type CreateResult } from './container-record.js';
import type { ContainerSpec } from './container-spec.js';
import { initialState, type ContainerConfigFile, type MountPoint } from './container-store.js';
import { requestedDevices } from './devices.js';
import { assertCanRun } from './emulation.js';
import { parseMaxFile } from './log-rotation.js';
import { generateName, validateName } from './names.js';
import { createNetnsFile } from './netns-file.js';
import { commandFor } from './oci-spec.js';
import type { ResolvedImage } from './ports.js';

export async function createContainer(
  ctx: ContainerContext,
  spec: ContainerSpec,
  opts: { name?: string; platform?: string; signal?: AbortSignal } = {},
): Promise<CreateResult> {
  const t0 = performance.now();
  const warnings: string[] = [];
  const name = opts.name ? validateName(opts.name) : generateName((n) => ctx.names.has(n));
  const taken = ctx.names.get(name);
  if (taken) throw ctx.nameConflict(name, taken);
  const hp = spec.host;
  // Docker refuses a bad max-file at create (the docker CLI exits 125).
  parseMaxFile(hp.logConfig.config['max-file']);
  if (hp.autoRemove && hp.restartPolicy.name !== 'no') {
    throw new BerthError('invalid-argument', "can't create 'AutoRemove' container with restart policy");
  }
  const image = await ctx.opts.images.resolve(spec.image, opts);
  const tImage = performance.now();
  if (opts.platform) checkPlatform(spec.image, opts.platform, image.platform);
  const foreign = await foreignPlatformWarning(spec.image, image.platform, opts.platform);
  if (foreign) warnings.push(foreign);
  const argv = commandFor(spec, image.config);
  // Checked again at start; failing here makes it a create error (docker CLI: 125).
  await requestedDevices(spec.host.devices ?? []);
  const inherited = volumesFromMounts(ctx, spec.host.volumesFrom ?? []);
  const tChecks = performance.now();
  let tSnap = 0;
  let tVol = 0;
  const id = randomBytes(32).toString('hex');
  // Reserve the name before the first await that could interleave another create.
  const other = ctx.names.get(name);
  if (other) throw ctx.nameConflict(name, other);
  ctx.names.set(name, id);
  const dir = ctx.store.dir(id);
  let prepared = false;
  let volumesPrepared = false;
  try {
    // Independent of each other: the snapshot, and the volumes followed by the record (its
    // directories made meanwhile). A crash before the snapshot exists leaves a created
    // container whose start fails and whose removal succeeds.
    const dirsMade = ctx.store.createDirs(id);
    const recordWritten = ctx.opts.volumes.prepare({ id, spec, imageVolumes: Object.keys(image.config.Volumes ?? {}), inherited }).then(async (mountPoints) => {
      volumesPrepared = true;
      tVol = performance.now();
      const record: ContainerConfigFile = {
        version: 1,
        id,
        name,
        created: new Date().toISOString(),
        spec,
        image: { id: image.id, ref: spec.image, config: image.config, topChainId: image.topChainId },
        path: argv[0]!,
        args: argv.slice(1),
        rootfsKey: id,
        mountPoints,
      };
      await dirsMade;
      await ctx.store.create(record, { durable: false });
      return record;
    });
    let syncSnapshot = async (): Promise<void> => undefined;
    const [, config] = await settleAll([
      ctx.opts.snapshotter.prepare(id, image.topChainId, { signal: opts.signal, deferSync: (s) => (syncSnapshot = s) }).then(() => {
        prepared = true;
        tSnap = performance.now();
      }),
      recordWritten,
      dirsMade,
    ]);
    // Written without waiting for the disk: a crash of berthd loses nothing (the page cache has
    // it). For a power loss they are synced after the answer, the snapshot first, so a record
    // that reached the disk has its snapshot; close waits for that. Not an --rm container's,
    // like its running state (container-start.ts): it goes again within its run (~60 ms), and
    // its fsyncs would only compete with that run's requests.
    if (!hp.autoRemove) ctx.syncAfterwards(id, 'record', () => syncSnapshot().then(() => ctx.store.syncRecord(id)));
    const c = new Container(config, initialState(), dir);
    ctx.containers.set(id, c);
    ctx.publish(c, 'create');
    premount(ctx, c);
    const ms = (t: number) => +(t - tChecks).toFixed(1);
    ctx.log.trace('create phases', { container: id.slice(0, 12), imageMs: +(tImage - t0).toFixed(1), checksMs: +(tChecks - tImage).toFixed(1), snapshotMs: ms(tSnap), volumesMs: ms(tVol), recordMs: ms(performance.now()) });
    return { id, warnings };
  } catch (err) {
    ctx.names.delete(name);
    if (prepared) await ctx.opts.snapshotter.remove(id).catch(() => undefined);
    if (volumesPrepared) await ctx.opts.volumes.release({ id, mountPoints: [], removeVolumes: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Mounts a new container's rootfs after create has answered, under its lock, and makes the
 * network namespace file of one that will join a bridge: the start that follows (docker run
 * sends attach and wait first) finds both ready and spawns neither `mount` nor `unshare` on
 * its critical path; `cp` and `export` of a created container use the mount too. The start's
 * conmon and rootfs lookups are readied too (container-prestart.ts). Removal and close let go
 * of all of it.
 */
function premount(ctx: ContainerContext, c: Container): void {
  void ctx.locks
    .run(c.id, async () => {
      if (c.removing || c.state.status !== 'created') return;
      spawnPendingConmon(ctx, c);
      const mode = c.config.spec.host.networkMode;
      const joinsBridge = mode !== 'host' && mode !== 'none' && !mode.startsWith('container:');
      await Promise.all([
        ctx.mountRootfs(c),
        joinsBridge
          ? createNetnsFile(ctx.netnsFileOf(c)).then(() => {
              c.netnsPremade = true;
            })
          : undefined,
      ]);
      // Not awaited: the start, which may come at once, takes them as a promise while it goes on.
      prepareLookups(c);
    })
    .catch((err: unknown) => ctx.log.debug('premount failed; start mounts instead', { container: c.id.slice(0, 12), error: errorMessage(err) }));
}

/**
 * `--volumes-from <container>[:ro|rw]`: each container's mount points, read-only with `:ro`
 * (else as they are there), for the volume mounter to put under the container's own.
 */
function volumesFromMounts(ctx: ContainerContext, refs: readonly string[]): MountPoint[] {
  const out: MountPoint[] = [];
  for (const ref of refs) {
    const colon = ref.lastIndexOf(':');
    const [name, mode] = colon > 0 ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'rw'];
    if (mode !== 'rw' && mode !== 'ro') throw new BerthError('invalid-argument', `invalid mode: ${mode}`);
    // A 400, as dockerd answers: a 404 to a create makes the docker CLI pull the image.
    const source = ctx.find(name);
    if (!source) throw new BerthError('invalid-argument', `No such container: ${name}`);
    for (const mp of source.config.mountPoints) out.push({ ...mp, rw: mp.rw && mode === 'rw' });
  }
  return out;
}

/**
 * `create?platform=`: the local image must be of that platform (dockerd 404s otherwise; the
 * docker CLI then pulls unless `--pull never`). An image without a recorded platform passes.
 */
export function checkPlatform(ref: string, wanted: string, have: ResolvedImage['platform']): void {
  if (!have?.architecture) return;
  const want = parsePlatform(wanted);
  const actual = { os: have.os || 'linux', architecture: have.architecture, ...(have.variant ? { variant: have.variant } : {}) };
  if (platformMatches(want, actual)) return;
  const shown = /^(sha256:)?[0-9a-f]{12,64}$/.test(ref) || ref.includes('@') || /:[^/]*$/.test(ref) ? ref : `${ref}:latest`;
  throw new BerthError(
    'not-found',
    `image with reference ${shown} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(actual)}`,
  );
}

/**
 * An image of another platform than the host's: create fails naming the platform and the fix
 * when nothing here runs its binaries (binfmt_misc emulation); otherwise, when no `--platform`
 * was asked, docker's warning (the docker CLI prints create's Warnings as `WARNING: ...`).
 */
export async function foreignPlatformWarning(ref: string, have: ResolvedImage['platform'], asked: string | undefined, opts: { binfmtDir?: string } = {}): Promise<string | undefined> {
  if (!have?.architecture) return undefined;
  const platform = normalizePlatform({ os: have.os || 'linux', architecture: have.architecture, ...(have.variant ? { variant: have.variant } : {}) });
  const via = await assertCanRun(platform, { ...opts, subject: `image ${ref} is ${formatPlatform(platform)}` });
  if (via === 'host' || asked) return undefined;
  return `The requested image's platform (${formatPlatform(platform)}) does not match the detected host platform (${formatPlatform(hostPlatform())}) and no specific platform was requested`;
}
