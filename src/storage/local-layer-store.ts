import { lstat, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import {
  KeyedMutex,
  conflict,
  digestHex,
  digestMismatch,
  fsyncDir,
  isDigest,
  notFound,
  parseDigest,
  run,
  writeJsonAtomic,
  type Digest,
} from '../util/index.js';
import { childChainId } from './chain-id.js';
import type { ChainId, LayerInfo, LayerStore, StagedLayer } from './layer-store.js';
import { isEnoent, readMetadata } from './metadata-file.js';
import { LINKS_DIR, TEMP_PREFIX, shortLinkId, tempName } from './layout.js';
import { diffDirectory } from './tar/diff.js';
import { extractLayer } from './tar/extract.js';

const digestSchema = z.string().refine(isDigest, 'expected sha256:<64 hex>');

const layerMetaSchema = z.object({
  version: z.literal(1),
  chainId: digestSchema,
  diffId: digestSchema,
  parent: digestSchema.optional(),
  size: z.number().int().nonnegative(),
  /** Absent from a layer unpacked before berth counted it: the tar's size stands in. */
  contentSize: z.number().int().nonnegative().optional(),
  /** Name of this layer's entry in `layers/l/`. */
  link: z.string().regex(/^[A-Z2-7]{26}$/),
  /** Link names of the parent chain, nearest parent first. */
  lowers: z.array(z.string().regex(/^[A-Z2-7]{26}$/)),
});
type LayerMeta = z.infer<typeof layerMetaSchema>;

/** A staged layer of this store: its temp dir, until committed or discarded. */
interface LocalStagedLayer extends StagedLayer {
  dir: string | undefined;
}

function toInfo(m: LayerMeta): LayerInfo {
  return { chainId: m.chainId as ChainId, diffId: m.diffId as Digest, parent: m.parent as ChainId | undefined, size: m.size, contentSize: m.contentSize ?? m.size };
}

async function drain(input: Readable): Promise<void> {
  for await (const _ of input) void _;
}

/**
 * Marks `dir` as a top of directory hierarchies (ext4 `chattr +T`), so that each layer's tree is
 * placed in a block group of its own, as the filesystem root's children are. Measured on ext4
 * without a journal: a layer unpacked right after another one was deleted ran 3–10× slower,
 * because every new inode skips the group's recently freed ones one by one; spread out, the new
 * layer rarely lands in that group. Best effort: elsewhere the flag is unknown and ignored.
 */
async function spreadSubdirs(dir: string): Promise<void> {
  await run('chattr', ['+T', dir], { timeoutMs: 5_000 }).catch(() => undefined);
}

/** Consulted before a layer is removed: does a snapshot sit on it? */
export type LayerUseCheck = (chainId: ChainId) => Promise<string | undefined>;

/**
 * Unpacked layers under `<root>/layers/<chainid-hex>/{diff/, link, lower, meta.json}` plus
 * `layers/l/<link> -> ../<hex>/diff`, as Docker's overlay2, so that a mount of a long chain names
 * each lower dir with 26 characters. Each layer is built under a temp name and renamed into place.
 */
export class LocalLayerStore implements LayerStore {
  readonly dir: string;
  readonly linksDir: string;
  private readonly locks = new KeyedMutex();
  /** Unpacks in progress by expected chainID. */
  private readonly unpacking = new Map<string, Promise<LayerInfo>>();
  private readonly listeners = new Set<(c: ChainId) => void>();
  private useCheck: LayerUseCheck = async () => undefined;
  /**
   * meta.json of each layer read or committed: it never changes while the layer exists, and
   * this store is its only writer (removal drops the entry first). One small entry per layer
   * on disk; it spares every container create a read and a parse on its path.
   */
  private readonly metas = new Map<ChainId, LayerMeta>();

  private constructor(dir: string) {
    this.dir = dir;
    this.linksDir = join(dir, LINKS_DIR);
  }

  static async open(dir: string): Promise<LocalLayerStore> {
    const store = new LocalLayerStore(dir);
    await mkdir(store.linksDir, { recursive: true });
    await spreadSubdirs(dir);
    await store.recover();
    return store;
  }

  /** Removes half-built or half-removed layers and restores links lost in a crash. */
  private async recover(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (name.startsWith(TEMP_PREFIX)) await rm(join(this.dir, name), { recursive: true, force: true });
    }
    for (const meta of await this.readAll()) {
      const link = join(this.linksDir, meta.link);
      try {
        await lstat(link);
      } catch (err) {
        if (!isEnoent(err)) throw err;
        await symlink(`../${digestHex(meta.chainId as Digest)}/diff`, link);
      }
    }
  }

  setUseCheck(check: LayerUseCheck): void {
    this.useCheck = check;
  }

  onApply(listener: (c: ChainId) => void): void {
    this.listeners.add(listener);
  }

  private layerDir(chainId: ChainId): string {
    return join(this.dir, digestHex(chainId));
  }

  diffPath(chainId: ChainId): string {
    return join(this.layerDir(chainId), 'diff');
  }

  async readMeta(chainId: ChainId): Promise<LayerMeta | undefined> {
    const known = this.metas.get(chainId);
    if (known) return known;
    const meta = await readMetadata(join(this.layerDir(chainId), 'meta.json'), layerMetaSchema, `layer "${chainId}"`);
    if (meta) this.remember(meta);
    return meta;
  }

  private remember(meta: LayerMeta): void {
    Object.freeze(meta.lowers);
    this.metas.set(meta.chainId as ChainId, Object.freeze(meta));
  }

  private async readAll(): Promise<LayerMeta[]> {
    const out: LayerMeta[] = [];
    for (const name of await readdir(this.dir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const meta = await this.readMeta(`sha256:${name}` as ChainId);
      if (meta) out.push(meta);
    }
    return out;
  }

  async get(chainId: ChainId): Promise<LayerInfo | undefined> {
    const meta = await this.readMeta(chainId);
    return meta ? toInfo(meta) : undefined;
  }

  async list(): Promise<LayerInfo[]> {
    return (await this.readAll()).map(toInfo);
  }

  /** Link names of the layer and its parents, topmost first: the overlay lowerdir order. */
  async lowerLinks(chainId: ChainId): Promise<string[]> {
    const meta = await this.readMeta(chainId);
    if (!meta) throw notFound(`layer "${chainId}" not found`);
    return [meta.link, ...meta.lowers];
  }

  private notify(chainId: ChainId): void {
    for (const l of this.listeners) l(chainId);
  }

  async apply(
    parent: ChainId | undefined,
    input: Readable,
    opts: { expectedDiffId?: Digest; signal?: AbortSignal } = {},
  ): Promise<LayerInfo> {
    const parentMeta = parent ? await this.readMeta(parent) : undefined;
    if (parent && !parentMeta) {
      input.destroy();
      throw notFound(`parent layer "${parent}" not found`);
    }
    if (parent) this.notify(parent);
    if (!opts.expectedDiffId) return this.unpack(parent, parentMeta, input, opts);
    const chainId = childChainId(parent, parseDigest(opts.expectedDiffId));
    // Two pulls of images sharing a layer: the second waits for the first unpack instead of
    // doing it again, and unpacks itself only if the first failed.
    for (;;) {
      const existing = await this.get(chainId);
      if (existing) {
        await drain(input);
        this.notify(existing.chainId);
        return existing;
      }
      const running = this.unpacking.get(chainId);
      if (!running) break;
      await running.catch(() => undefined);
    }
    const work = this.unpack(parent, parentMeta, input, opts);
    this.unpacking.set(chainId, work);
    try {
      return await work;
    } finally {
      this.unpacking.delete(chainId);
    }
  }

  private async unpack(
    parent: ChainId | undefined,
    parentMeta: LayerMeta | undefined,
    input: Readable,
    opts: { expectedDiffId?: Digest; signal?: AbortSignal },
  ): Promise<LayerInfo> {
    const staged = await this.stageAs(input, opts);
    try {
      if (opts.expectedDiffId && staged.diffId !== opts.expectedDiffId) {
        throw digestMismatch('layer', opts.expectedDiffId, staged.diffId);
      }
      return await this.commitOn(parent, parentMeta, staged);
    } finally {
      await this.discardStaged(staged);
    }
  }

  async stage(input: Readable, opts: { signal?: AbortSignal; inputDigest?: Promise<Digest> | undefined } = {}): Promise<StagedLayer> {
    return this.stageAs(input, opts);
  }

  private async stageAs(input: Readable, opts: { signal?: AbortSignal; inputDigest?: Promise<Digest> | undefined }): Promise<LocalStagedLayer> {
    const tmp = join(this.dir, tempName());
    try {
      await mkdir(join(tmp, 'diff'), { recursive: true });
      const result = await extractLayer(input, join(tmp, 'diff'), { signal: opts.signal, inputDigest: opts.inputDigest });
      return { diffId: result.diffId, size: result.size, contentSize: result.contentSize, dir: tmp };
    } catch (err) {
      input.destroy();
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  async commitStaged(parent: ChainId | undefined, staged: StagedLayer): Promise<LayerInfo> {
    const local = staged as LocalStagedLayer;
    if (!local.dir) throw conflict('staged layer was already committed or discarded');
    const parentMeta = parent ? await this.readMeta(parent) : undefined;
    if (parent && !parentMeta) throw notFound(`parent layer "${parent}" not found`);
    if (parent) this.notify(parent);
    try {
      return await this.commitOn(parent, parentMeta, local);
    } finally {
      await this.discardStaged(local);
    }
  }

  async discardStaged(staged: StagedLayer): Promise<void> {
    const local = staged as LocalStagedLayer;
    const dir = local.dir;
    local.dir = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  /** Renames the staged tree to its chainID (it is consumed); an existing chainID wins. */
  private async commitOn(parent: ChainId | undefined, parentMeta: LayerMeta | undefined, staged: LocalStagedLayer): Promise<LayerInfo> {
    const chainId = childChainId(parent, staged.diffId);
    return this.locks.run(chainId, async () => {
      const existing = await this.get(chainId);
      if (existing) {
        this.notify(chainId);
        return existing;
      }
      const tmp = staged.dir;
      if (!tmp) throw conflict('staged layer was already committed or discarded');
      const meta: LayerMeta = {
        version: 1,
        chainId,
        diffId: staged.diffId,
        parent,
        size: staged.size,
        contentSize: staged.contentSize,
        link: shortLinkId(),
        lowers: parentMeta ? [parentMeta.link, ...parentMeta.lowers] : [],
      };
      // `link` and `lower` mirror Docker's overlay2 files for people who look at the disk.
      await writeFile(join(tmp, 'link'), meta.link);
      await writeFile(join(tmp, 'lower'), meta.lowers.map((l) => `l/${l}`).join(':'));
      await writeJsonAtomic(join(tmp, 'meta.json'), meta);
      await rename(tmp, this.layerDir(chainId));
      this.remember(meta);
      staged.dir = undefined;
      await symlink(`../${digestHex(chainId)}/diff`, join(this.linksDir, meta.link));
      await fsyncDir(this.dir);
      this.notify(chainId);
      return toInfo(meta);
    });
  }

  exportTar(chainId: ChainId, opts: { signal?: AbortSignal } = {}): Readable {
    const store = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      if (!(await store.readMeta(chainId))) throw notFound(`layer "${chainId}" not found`);
      for await (const c of diffDirectory(store.diffPath(chainId), opts)) yield c as Buffer;
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async remove(chainId: ChainId): Promise<void> {
    await this.locks.run(chainId, async () => {
      const meta = await this.readMeta(chainId);
      if (!meta) throw notFound(`layer "${chainId}" not found`);
      const child = (await this.readAll()).find((m) => m.parent === chainId);
      if (child) throw conflict(`layer "${chainId}" is the parent of layer "${child.chainId}"`);
      const user = await this.useCheck(chainId);
      if (user) throw conflict(`layer "${chainId}" is in use by snapshot "${user}"`);
      await this.removeUnchecked(meta);
    });
  }

  /** Removes a layer without checking who uses it (GC has checked references itself). */
  async removeUnchecked(meta: LayerMeta): Promise<void> {
    const gone = join(this.dir, tempName());
    this.metas.delete(meta.chainId as ChainId);
    // Rename first so the layer disappears atomically; the slow delete happens on a private name.
    await rename(this.layerDir(meta.chainId as ChainId), gone);
    await rm(join(this.linksDir, meta.link), { force: true });
    await fsyncDir(this.dir);
    await rm(gone, { recursive: true, force: true });
  }

  async allMeta(): Promise<LayerMeta[]> {
    return this.readAll();
  }
}

export type { LayerMeta };
