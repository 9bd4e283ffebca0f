// containers/<id>/config.json (what was asked) and state.json (what is), parsed with a
// schema on read, written atomically (STYLE.md §6).
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BerthError, syncFile, writeJsonAtomic } from '../util/index.js';
import type { ContainerSpec, ImageRuntimeConfig } from './container-spec.js';
import type { ContainerStatus } from './container-state.js';
import type { MountPointInfo } from '../volume/index.js';

export interface HealthLogEntry {
  start: string;
  end: string;
  exitCode: number;
  output: string;
}

export interface HealthState {
  status: 'starting' | 'healthy' | 'unhealthy';
  failingStreak: number;
  log: HealthLogEntry[];
}

/** A mount as inspect shows it (volume/'s shape), as stored with the container. */
export interface MountPoint extends MountPointInfo {
  /** Anonymous volume created for this container (removed with `rm -v`). */
  anonymous?: boolean;
}

export interface ContainerConfigFile {
  version: 1;
  id: string;
  name: string;
  created: string;
  spec: ContainerSpec;
  image: { id: string; ref: string; config: ImageRuntimeConfig; topChainId?: string };
  /** Process path + args as inspect shows them (`Path`, `Args`). */
  path: string;
  args: string[];
  /** Snapshot key of the rootfs. */
  rootfsKey: string;
  mountPoints: MountPoint[];
}

export interface ContainerStateFile {
  version: 1;
  status: ContainerStatus;
  pid: number;
  pidStartTime?: string;
  conmonPid: number;
  conmonStartTime?: string;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  restartCount: number;
  /** Stopped by the user: `unless-stopped` and `always` do not restart it at daemon start. */
  manuallyStopped: boolean;
  hasBeenStarted: boolean;
  health?: HealthState;
  /** The rootfs is mounted (cleanup must unmount it). */
  mounted: boolean;
  networkSettings?: Record<string, unknown>;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerStateFile {
  return {
    version: 1,
    status: 'created',
    pid: 0,
    conmonPid: 0,
    exitCode: 0,
    error: '',
    oomKilled: false,
    startedAt: ZERO_TIME,
    finishedAt: ZERO_TIME,
    restartCount: 0,
    manuallyStopped: false,
    hasBeenStarted: false,
    mounted: false,
  };
}

const healthSchema = z.object({
  status: z.enum(['starting', 'healthy', 'unhealthy']),
  failingStreak: z.number(),
  log: z.array(z.object({ start: z.string(), end: z.string(), exitCode: z.number(), output: z.string() })),
});

const stateSchema = z.object({
  version: z.literal(1),
  status: z.enum(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']),
  pid: z.number(),
  pidStartTime: z.string().optional(),
  conmonPid: z.number(),
  conmonStartTime: z.string().optional(),
  exitCode: z.number(),
  error: z.string(),
  oomKilled: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string(),
  restartCount: z.number(),
  manuallyStopped: z.boolean(),
  hasBeenStarted: z.boolean(),
  health: healthSchema.optional(),
  mounted: z.boolean(),
  networkSettings: z.record(z.string(), z.unknown()).optional(),
});

// The spec is produced by our own code; the schema checks the parts every reader relies on.
const specSchema = z
  .object({
    image: z.string(),
    env: z.array(z.string()),
    labels: z.record(z.string(), z.string()),
    tty: z.boolean(),
    host: z.object({ networkMode: z.string(), restartPolicy: z.object({ name: z.string(), maximumRetryCount: z.number() }) }).passthrough(),
  })
  .passthrough();

const configSchema = z.object({
  version: z.literal(1),
  id: z.string().regex(/^[a-f0-9]{64}$/),
  name: z.string(),
  created: z.string(),
  spec: specSchema,
  image: z.object({ id: z.string(), ref: z.string(), config: z.record(z.string(), z.unknown()), topChainId: z.string().optional() }),
  path: z.string(),
  args: z.array(z.string()),
  rootfsKey: z.string(),
  mountPoints: z.array(z.object({}).passthrough()),
});

export interface StoredContainer {
  config: ContainerConfigFile;
  state: ContainerStateFile;
}

/** A container directory being deleted: renamed out of the id namespace first, so it is gone at once. */
const TRASH_PREFIX = '.removed-';

export class ContainerStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Creates the root and deletes what removals a crash interrupted left behind. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const names = await readdir(this.root);
    await Promise.all(names.filter((n) => n.startsWith(TRASH_PREFIX)).map((n) => rm(join(this.root, n), { recursive: true, force: true })));
  }

  /** The container's directories (userdata, bundle, exits); no record yet, so nothing loads it. */
  async createDirs(id: string): Promise<void> {
    const dir = this.dir(id);
    // Each makes `dir` too if it comes first: one round of calls instead of two.
    await Promise.all(['userdata', 'bundle', 'exits'].map((d) => mkdir(join(dir, d), { recursive: true })));
  }

  /**
   * Writes the record (config.json; `durable: false`: without waiting for the disk, see
   * syncRecord). The initial state is implied: state.json is written at the first change,
   * and a container without one loads as created.
   */
  async create(config: ContainerConfigFile, opts: { durable?: boolean } = {}): Promise<void> {
    await writeJsonAtomic(join(this.dir(config.id), 'config.json'), config, { durable: opts.durable ?? true });
  }

  /** Makes a record written with `durable: false` durable (config.json and the entries of its directory). */
  async syncRecord(id: string): Promise<void> {
    await syncFile(join(this.dir(id), 'config.json'));
  }

  async saveConfig(config: ContainerConfigFile): Promise<void> {
    await writeJsonAtomic(join(this.dir(config.id), 'config.json'), config);
  }

  /** `durable: false` skips the fsyncs for states that may be lost in a crash (still atomic). */
  async saveState(id: string, state: ContainerStateFile, opts: { durable?: boolean } = {}): Promise<void> {
    await writeJsonAtomic(join(this.dir(id), 'state.json'), state, { durable: opts.durable ?? true });
  }

  /** Makes a state written with `durable: false` durable (whichever version state.json holds by then). */
  async syncState(id: string): Promise<void> {
    await syncFile(join(this.dir(id), 'state.json'));
  }

  async load(id: string): Promise<StoredContainer> {
    const dir = this.dir(id);
    const [c, s] = await Promise.all([
      readFile(join(dir, 'config.json'), 'utf8'),
      readFile(join(dir, 'state.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
        // Never started nor changed since its creation.
        if (err.code === 'ENOENT') return undefined;
        throw err;
      }),
    ]);
    const config = configSchema.safeParse(JSON.parse(c));
    if (!config.success) throw new BerthError('internal', `container ${id.slice(0, 12)}: invalid config.json: ${config.error.message}`);
    if (s === undefined) return { config: config.data as unknown as ContainerConfigFile, state: initialState() };
    const state = stateSchema.safeParse(JSON.parse(s));
    if (!state.success) throw new BerthError('internal', `container ${id.slice(0, 12)}: invalid state.json: ${state.error.message}`);
    // Validated above; the remaining fields are produced by this module only.
    return { config: config.data as unknown as ContainerConfigFile, state: state.data as ContainerStateFile };
  }

  async ids(): Promise<string[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n));
  }

  /**
   * Deletes the container's directory. It leaves the id namespace with one rename (the
   * record is gone once this resolves); the files are deleted after, in the background,
   * handed to `track` (which close waits for); init deletes what a crash left.
   */
  async remove(id: string, opts: { track?: (deletion: Promise<void>) => void } = {}): Promise<void> {
    const trash = join(this.root, `${TRASH_PREFIX}${id}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(this.dir(id), trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    // A failure leaves the trash for init to delete: the record is gone either way.
    const deletion = rm(trash, { recursive: true, force: true }).catch(() => undefined);
    opts.track?.(deletion);
  }
}
