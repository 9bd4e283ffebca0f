// --cache-from <image>: an image built elsewhere (loaded, no local parent chain) can still
// satisfy steps. As in Docker's legacy builder: when the current image's history and layers
// are a prefix of the source image's, and the source's next history entry was written by the
// same instruction, that step is taken from the source (its layer reused by chainID) instead
// of being run.
import type { Readable } from 'node:stream';
import type { ContainerConfig, ImageService } from '../image/index.js';
import { chainIdOf, type ChainId, type Storage } from '../storage/index.js';
import { errorKind, type Digest } from '../util/index.js';

interface HistoryLike {
  created_by?: string | undefined;
  empty_layer?: boolean | undefined;
}

export interface CacheSource {
  ref: string;
  history: HistoryLike[];
  diffIds: Digest[];
}

export interface CacheFromHit {
  /** The source's layer for this step, or undefined for a metadata-only entry. */
  layer: Readable | undefined;
  source: string;
}

function sameEntry(a: HistoryLike, b: HistoryLike): boolean {
  return (a.created_by ?? '') === (b.created_by ?? '') && (a.empty_layer ?? false) === (b.empty_layer ?? false);
}

export class CacheFrom {
  private constructor(
    private readonly sources: CacheSource[],
    private readonly images: Pick<ImageService, 'resolve'>,
    private readonly storage: Storage,
  ) {}

  /** Resolves the named images; missing ones are reported through `warn` and skipped. */
  static async open(refs: string[], images: Pick<ImageService, 'resolve'>, storage: Storage, warn: (msg: string) => void, signal: AbortSignal): Promise<CacheFrom> {
    const sources: CacheSource[] = [];
    for (const ref of refs) {
      try {
        const img = await images.resolve(ref, { signal });
        sources.push({ ref, history: img.config.history ?? [], diffIds: img.config.rootfs.diff_ids as Digest[] });
      } catch (err) {
        if (errorKind(err) !== 'not-found') throw err;
        warn(`cache-from image ${ref} not found locally: ignored`);
      }
    }
    return new CacheFrom(sources, images, storage);
  }

  get isEmpty(): boolean {
    return this.sources.length === 0;
  }

  /** A source whose next step after `parent` was written by `createdBy`, with its layer. */
  async find(parent: Digest | undefined, createdBy: string, signal: AbortSignal): Promise<CacheFromHit | undefined> {
    if (this.sources.length === 0) return undefined;
    let history: HistoryLike[] = [];
    let diffIds: Digest[] = [];
    if (parent) {
      const p = await this.images.resolve(parent, { signal });
      history = p.config.history ?? [];
      diffIds = p.config.rootfs.diff_ids as Digest[];
    }
    for (const s of this.sources) {
      if (s.history.length <= history.length || s.diffIds.length < diffIds.length) continue;
      if (!history.every((h, i) => sameEntry(h, s.history[i]!))) continue;
      if (!diffIds.every((d, i) => d === s.diffIds[i])) continue;
      const next = s.history[history.length]!;
      if ((next.created_by ?? '') !== createdBy) continue;
      if (next.empty_layer) return { layer: undefined, source: s.ref };
      const layerIndex = diffIds.length;
      if (layerIndex >= s.diffIds.length) continue;
      const diffId = s.diffIds[layerIndex]!;
      // The same bytes, so the same diffID and chain: an uncompressed blob is stored under its
      // diffID (berth's builds, docker load). A re-exported tar would not be byte-identical.
      if (await this.storage.content.info(diffId)) return { layer: this.storage.content.read(diffId), source: s.ref };
      const chain: ChainId = chainIdOf(s.diffIds.slice(0, layerIndex + 1));
      if (!(await this.storage.layers.get(chain))) continue;
      return { layer: this.storage.layers.exportTar(chain, { signal }), source: s.ref };
    }
    return undefined;
  }
}

export type { ContainerConfig };
