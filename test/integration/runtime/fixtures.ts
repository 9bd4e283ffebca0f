// Test fixtures for runtime integration tests: a busybox rootfs built from Debian's
// busybox-static, an overlay "snapshotter" over it, and an image lookup that knows it.
import { existsSync } from 'node:fs';
import { after, type TestContext } from 'node:test';
import { mkdir, mkdtemp, readFile, rm, symlink, copyFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DOCKER_CLI, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { BerthError, EventBus, run } from '../../../src/util/index.js';
import {
  BasicNetworkAttacher,
  BasicVolumeMounter,
  ContainerService,
  type ContainerServiceOptions,
  type ImageLookup,
  type ResolvedImage,
  type RootfsSnapshotter,
} from '../../../src/runtime/index.js';

export const BUSYBOX = '/bin/busybox';
export const canRun = process.getuid?.() === 0 && existsSync(BUSYBOX) && existsSync('/usr/bin/conmon');
export const skipReason = canRun ? undefined : 'needs root, /bin/busybox (busybox-static) and conmon';

/** A minimal busybox rootfs: the static binary, its applets as symlinks, passwd/group with nobody. */
export async function buildBusyboxRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  for (const d of ['etc', 'tmp', 'root', 'proc', 'sys', 'dev', 'usr/bin', 'var']) await mkdir(join(dir, d), { recursive: true });
  await copyFile(BUSYBOX, join(dir, 'bin/busybox'));
  const { stdout } = await run(BUSYBOX, ['--list'], { timeoutMs: 5000 });
  for (const applet of stdout.split('\n').filter(Boolean)) {
    if (applet === 'busybox') continue;
    await symlink('/bin/busybox', join(dir, 'bin', applet)).catch(() => undefined);
  }
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  await writeFile(join(dir, 'notexec'), 'data\n');
}

/** Overlay mounts over one read-only lower directory (stands in for the storage snapshotter). */
export class DirSnapshotter implements RootfsSnapshotter {
  constructor(
    readonly lower: string,
    readonly root: string,
  ) {}
  async prepare(key: string): Promise<unknown> {
    await mkdir(join(this.root, key, 'upper'), { recursive: true });
    await mkdir(join(this.root, key, 'work'), { recursive: true });
    return [];
  }
  async mount(key: string, target: string): Promise<void> {
    await mkdir(target, { recursive: true });
    const opts = `lowerdir=${this.lower},upperdir=${join(this.root, key, 'upper')},workdir=${join(this.root, key, 'work')}`;
    await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, target], { timeoutMs: 10_000 });
  }
  async unmount(target: string): Promise<void> {
    await run('umount', [target], { timeoutMs: 10_000 });
  }
  upperPath(key: string): string {
    return join(this.root, key, 'upper');
  }
  diff(): Readable {
    throw new BerthError('not-implemented', 'diff is not part of the test snapshotter');
  }
  async remove(key: string): Promise<void> {
    await rm(join(this.root, key), { recursive: true, force: true });
  }
}

export class FixedImages implements ImageLookup {
  constructor(readonly images: Record<string, ResolvedImage>) {}
  async resolve(name: string): Promise<ResolvedImage> {
    const img = this.images[name] ?? this.images[name.replace(/:latest$/, '')];
    if (!img) throw new BerthError('not-found', `No such image: ${name}`);
    return img;
  }
}

export const BUSYBOX_IMAGE: ResolvedImage = {
  id: 'sha256:' + 'b'.repeat(64),
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
  repoTags: ['busybox:latest'],
};

export interface RuntimeEnv {
  root: string;
  service: ContainerService;
  events: EventBus;
  snapshotter: DirSnapshotter;
  images: FixedImages;
  /** A second service over the same data-root (a restarted daemon). */
  reopen(): Promise<ContainerService>;
  cleanup(): Promise<void>;
}

let sharedRootfs: Promise<string> | undefined;
// Registered at import time so it runs once, after every test of the file.
after(async () => {
  if (sharedRootfs) await rm(await sharedRootfs, { recursive: true, force: true });
});
/** One busybox rootfs per test process (read-only lower dir). */
export function busyboxRootfs(): Promise<string> {
  sharedRootfs ??= (async () => {
    const d = await mkdtemp(join(tmpdir(), 'berth-busybox-'));
    await buildBusyboxRootfs(d);
    return d;
  })();
  return sharedRootfs;
}

export async function runtimeEnv(overrides: Partial<ContainerServiceOptions> = {}): Promise<RuntimeEnv> {
  const root = await mkdtemp(join(tmpdir(), 'berth-rt-'));
  const lower = await busyboxRootfs();
  const snapshotter = new DirSnapshotter(lower, join(root, 'snapshots'));
  const images = new FixedImages({ busybox: BUSYBOX_IMAGE });
  const events = new EventBus();
  const cgroupParent = `/berth-test-${process.pid}`;
  const make = async () => {
    const s = new ContainerService({
      dataRoot: join(root, 'data'),
      execRoot: join(root, 'run'),
      images,
      snapshotter,
      volumes: new BasicVolumeMounter(),
      network: new BasicNetworkAttacher(),
      events,
      cgroupParent,
      ...overrides,
    });
    await s.init();
    return s;
  };
  const service = await make();
  const opened: ContainerService[] = [service];
  return {
    root,
    service,
    events,
    snapshotter,
    images,
    reopen: async () => {
      const s = await make();
      opened.push(s);
      return s;
    },
    cleanup: async () => {
      const last = opened[opened.length - 1]!;
      for (const c of last.list()) await last.remove(c.id, { force: true }).catch(() => undefined);
      for (const s of opened) await s.close();
      await run('runc', ['--root', join(root, 'run', 'runc'), 'list', '-q'], { timeoutMs: 5000 })
        .then(async (r) => {
          for (const id of r.stdout.split('\n').filter(Boolean)) {
            await run('runc', ['--root', join(root, 'run', 'runc'), 'delete', '--force', id], { timeoutMs: 5000 }).catch(() => undefined);
          }
        })
        .catch(() => undefined);
      const mounts = await readFile('/proc/self/mountinfo', 'utf8');
      for (const line of mounts.split('\n')) {
        const mp = line.split(' ')[4];
        if (mp?.startsWith(root)) await run('umount', ['-l', mp], { timeoutMs: 5000 }).catch(() => undefined);
      }
      for (const ctl of ['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'devices', 'freezer', 'systemd', '']) {
        const base = ctl ? `/sys/fs/cgroup/${ctl}${cgroupParent}` : `/sys/fs/cgroup/unified${cgroupParent}`;
        const kids = await readdir(base).catch(() => [] as string[]);
        for (const k of kids) await rm(join(base, k), { recursive: false }).catch(() => undefined);
        await run('rmdir', [base], { timeoutMs: 5000 }).catch(() => undefined);
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Collects a container's log output as text per stream. */
export async function collectLogs(gen: AsyncGenerator<{ stream: string; data: Buffer }>): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  for await (const r of gen) {
    if (r.stream === 'stdout') stdout += r.data.toString();
    else stderr += r.data.toString();
  }
  return { stdout, stderr };
}

/**
 * `docker import`s a busybox rootfs into a test daemon as `tag` through its docker CLI, after
 * `customize` (extra files) and with `changes` (default `CMD ["sh"]`).
 */
export async function importBusyboxImage(
  d: { docker(args: string[], opts?: { timeoutMs?: number }): Promise<{ code: number; stderr: string }> },
  tag: string,
  opts: { customize?: (rootfs: string) => Promise<void>; changes?: string[] } = {},
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bbimg-'));
  try {
    const rootfs = join(dir, 'rootfs');
    await buildBusyboxRootfs(rootfs);
    await opts.customize?.(rootfs);
    await run('tar', ['-C', rootfs, '--numeric-owner', '-cf', join(dir, 'busybox.tar'), '.'], { timeoutMs: 60_000 });
    const changes = (opts.changes ?? ['CMD ["sh"]']).flatMap((c) => ['--change', c]);
    const r = await d.docker(['import', ...changes, join(dir, 'busybox.tar'), tag], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`docker import of the busybox rootfs failed: ${r.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A harness daemon holding the busybox image `tag` (with `customize`/`changes` as in
 * importBusyboxImage), or undefined when the test skips: not root, or no docker CLI or busybox.
 */
export async function startDaemonWithBusybox(
  t: TestContext,
  tag: string,
  opts: { customize?: (rootfs: string) => Promise<void>; changes?: string[] } = {},
): Promise<TestDaemon | undefined> {
  if (!existsSync(DOCKER_CLI) || !existsSync('/bin/busybox')) {
    t.skip(`needs ${DOCKER_CLI} and /bin/busybox (busybox-static)`);
    return undefined;
  }
  const d = await startTestDaemon(t);
  if (!d) return undefined;
  await importBusyboxImage(d, tag, opts);
  return d;
}
