// The image reference index on disk: `<data-root>/images/index.json`, one small versioned JSON
// file holding image records (id = config digest) and references (name:tag, name@digest → id).
// Read once with a schema, mutated under a lock, written atomically (STYLE.md §6).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ChainId } from '../storage/index.js';
import { BerthError, KeyedMutex, invalidArgument, notFound, writeFileAtomic, type Digest } from '../util/index.js';
import { isIdPrefix, type ImageRef } from './reference.js';
import { indexRecordSchema, type IndexRecord } from './image-index-record.js';
import { digestSchema } from './schemas.js';

export const IMAGE_INDEX_VERSION = 1;

const recordSchema = z.object({
  id: digestSchema,
  manifestDigest: digestSchema.optional(),
  manifestMediaType: z.string().optional(),
  /** Layer blobs in the content store, bottom first (same order as diffIds). */
  layers: z.array(z.object({ digest: digestSchema, size: z.number(), mediaType: z.string() })),
  diffIds: z.array(digestSchema),
  topChainId: digestSchema.optional(),
  created: z.string(),
  /** Unpacked size: sum of the layer sizes. */
  size: z.number(),
  lastTagTime: z.string().optional(),
  parent: digestSchema.optional(),
  /** The config's labels, kept here so listing needs no config reads (absent in older records). */
  labels: z.record(z.string(), z.string()).optional(),
});

const indexFileSchema = z.object({
  version: z.literal(IMAGE_INDEX_VERSION),
  images: z.record(z.string(), recordSchema),
  refs: z.record(z.string(), digestSchema),
  /** Image indexes (multi-platform images) by index digest; a ref may name one instead of an image. */
  indexes: z.record(z.string(), indexRecordSchema).optional(),
});

export interface ImageRecord {
  id: Digest;
  manifestDigest?: Digest | undefined;
  manifestMediaType?: string | undefined;
  layers: Array<{ digest: Digest; size: number; mediaType: string }>;
  diffIds: Digest[];
  topChainId?: ChainId | undefined;
  created: string;
  size: number;
  lastTagTime?: string | undefined;
  parent?: Digest | undefined;
  labels?: Record<string, string> | undefined;
}

type IndexFile = z.infer<typeof indexFileSchema>;

/** A consistent view of the index handed to `update` callbacks; changes are written when it returns. */
export interface ImageIndexTxn {
  getImage(id: Digest): ImageRecord | undefined;
  putImage(rec: ImageRecord): void;
  deleteImage(id: Digest): void;
  setRef(ref: ImageRef, id: Digest): Digest | undefined;
  deleteRef(ref: ImageRef): Digest | undefined;
  refsOf(id: Digest): ImageRef[];
  getIndex(digest: Digest): IndexRecord | undefined;
  putIndex(rec: IndexRecord): void;
  deleteIndex(digest: Digest): void;
}

export class ImageStore {
  private readonly file: string;
  private data: IndexFile = { version: IMAGE_INDEX_VERSION, images: {}, refs: {} };
  private readonly lock = new KeyedMutex();

  private constructor(readonly dir: string) {
    this.file = join(dir, 'index.json');
  }

  static async open(dir: string): Promise<ImageStore> {
    const store = new ImageStore(dir);
    await mkdir(dir, { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(store.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (e) {
        throw new BerthError('internal', `image index "${store.file}" is not valid JSON`, { cause: e });
      }
      const version = (raw as { version?: unknown } | null)?.version;
      if (version !== IMAGE_INDEX_VERSION) {
        throw new BerthError('internal', `image index "${store.file}" has unsupported version ${String(version)} (expected ${IMAGE_INDEX_VERSION})`);
      }
      const parsed = indexFileSchema.safeParse(raw);
      if (!parsed.success) {
        throw new BerthError('internal', `image index "${store.file}" is corrupt: ${parsed.error.issues[0]?.message ?? ''}`);
      }
      store.data = parsed.data;
    }
    return store;
  }

  get(id: Digest): ImageRecord | undefined {
    return this.data.images[id] as ImageRecord | undefined;
  }

  list(): ImageRecord[] {
    return Object.values(this.data.images) as ImageRecord[];
  }

  getIndex(digest: Digest): IndexRecord | undefined {
    return this.data.indexes?.[digest] as IndexRecord | undefined;
  }

  listIndexes(): IndexRecord[] {
    return Object.values(this.data.indexes ?? {}) as IndexRecord[];
  }

  lookupRef(ref: ImageRef): Digest | undefined {
    return this.data.refs[ref];
  }

  refsOf(id: Digest): ImageRef[] {
    return [...(this.refsById().get(id) ?? [])];
  }

  /** References grouped by image, sorted; rebuilt lazily after each change (listing 200 images is hot). */
  private byId: Map<Digest, ImageRef[]> | undefined;

  private refsById(): Map<Digest, ImageRef[]> {
    if (!this.byId) {
      const m = new Map<Digest, ImageRef[]>();
      for (const [ref, target] of Object.entries(this.data.refs)) {
        const list = m.get(target);
        if (list) list.push(ref as ImageRef);
        else m.set(target, [ref as ImageRef]);
      }
      for (const list of m.values()) list.sort();
      this.byId = m;
    }
    return this.byId;
  }

  allRefs(): Array<[ImageRef, Digest]> {
    return Object.entries(this.data.refs) as Array<[ImageRef, Digest]>;
  }

  /** Finds an image by id or unique id prefix (`abc1`, `sha256:abc1…`); undefined when none. */
  searchId(prefix: string): Digest | undefined {
    if (!isIdPrefix(prefix)) return undefined;
    const hex = prefix.startsWith('sha256:') ? prefix.slice(7) : prefix;
    let found: Digest | undefined;
    for (const id of Object.keys(this.data.images)) {
      if (id.startsWith(`sha256:${hex}`)) {
        if (found) throw invalidArgument(`ambiguous image id prefix "${prefix}": more than one image matches`);
        found = id as Digest;
      }
    }
    return found;
  }

  /** Finds an index by unique digest prefix; undefined when none. */
  searchIndexId(prefix: string): Digest | undefined {
    if (!isIdPrefix(prefix)) return undefined;
    const hex = prefix.startsWith('sha256:') ? prefix.slice(7) : prefix;
    const found = Object.keys(this.data.indexes ?? {}).filter((d) => d.startsWith(`sha256:${hex}`));
    if (found.length > 1) throw invalidArgument(`ambiguous image id prefix "${prefix}": more than one image matches`);
    return found[0] as Digest | undefined;
  }

  /** Runs `fn` on a copy of the index under the lock and writes the result atomically; all or nothing. */
  async update<T>(fn: (txn: ImageIndexTxn) => T | Promise<T>): Promise<T> {
    return this.lock.run('index', async () => {
      const next: IndexFile = structuredClone(this.data);
      const txn: ImageIndexTxn = {
        getImage: (id) => next.images[id] as ImageRecord | undefined,
        putImage: (rec) => {
          next.images[rec.id] = rec;
        },
        deleteImage: (id) => {
          if (!next.images[id]) throw notFound(`No such image: ${id}`);
          delete next.images[id];
        },
        setRef: (ref, id) => {
          const prev = next.refs[ref];
          next.refs[ref] = id;
          return prev;
        },
        deleteRef: (ref) => {
          const prev = next.refs[ref];
          delete next.refs[ref];
          return prev;
        },
        getIndex: (digest) => next.indexes?.[digest] as IndexRecord | undefined,
        putIndex: (rec) => {
          (next.indexes ??= {})[rec.digest] = rec;
        },
        deleteIndex: (digest) => {
          if (next.indexes) delete next.indexes[digest];
        },
        refsOf: (id) =>
          Object.entries(next.refs)
            .filter(([, t]) => t === id)
            .map(([r]) => r as ImageRef)
            .sort(),
      };
      const result = await fn(txn);
      await writeFileAtomic(this.file, JSON.stringify(next));
      this.data = next;
      this.byId = undefined;
      return result;
    });
  }
}
