// The persisted build cache index, `<data-root>/builder/cache/index.json`: cache key → the
// (intermediate) image a step produced, plus what the step read, so that a later miss can
// say what changed. Written atomically; bounded (least recently used entries go first).
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BerthError, KeyedMutex, writeJsonAtomic, type Digest } from '../util/index.js';

/** At most this many entries; the least recently used are dropped beyond it. */
const MAX_ENTRIES = 5000;
/** File lists kept per entry for explanations (bigger sets keep only their digest). */
export const MAX_EXPLAIN_FILES = 2000;

const inputsSchema = z.object({
  /** The expanded instruction as it entered the key. */
  instruction: z.string(),
  /** Base image id (first step of a stage). */
  base: z.string().optional(),
  /** Build args visible to the step (RUN): name → value digest (values are not stored). */
  args: z.record(z.string(), z.string()).optional(),
  /** Files read: relative path → content digest (capped). */
  files: z.record(z.string(), z.string()).optional(),
  filesDigest: z.string().optional(),
});
export type StepInputs = z.infer<typeof inputsSchema>;

const entrySchema = z.object({
  imageId: z.string(),
  parentKey: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string(),
  usageCount: z.number(),
  /** Bytes of the step's layer (0 for metadata-only steps). */
  size: z.number(),
  inputs: inputsSchema,
});
export type CacheEntry = z.infer<typeof entrySchema>;

const fileSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), entrySchema) });

export class BuildCacheStore {
  private entries = new Map<string, CacheEntry>();
  private readonly lock = new KeyedMutex();
  private dirty = false;

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<BuildCacheStore> {
    const s = new BuildCacheStore(dir);
    await mkdir(dir, { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(join(dir, 'index.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      const parsed = fileSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new BerthError('internal', `corrupt build cache index "${join(dir, 'index.json')}": ${parsed.error.message}`);
      s.entries = new Map(Object.entries(parsed.data.entries));
    }
    return s;
  }

  get(key: string): CacheEntry | undefined {
    return this.entries.get(key);
  }

  /** Marks an entry used (saved with the next flush). */
  touch(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.lastUsedAt = new Date().toISOString();
    e.usageCount++;
    this.dirty = true;
  }

  /** Entries that share `parentKey`, most recently used first (to explain a miss). */
  siblings(parentKey: string): Array<[string, CacheEntry]> {
    const out: Array<[string, CacheEntry]> = [];
    for (const [k, e] of this.entries) if (e.parentKey === parentKey) out.push([k, e]);
    return out.sort((a, b) => (a[1].lastUsedAt < b[1].lastUsedAt ? 1 : -1));
  }

  /** Entries whose first-step inputs name a base image (to explain a changed base). */
  withInstruction(instruction: string): Array<[string, CacheEntry]> {
    const out: Array<[string, CacheEntry]> = [];
    for (const [k, e] of this.entries) if (e.inputs.instruction === instruction && e.inputs.base !== undefined) out.push([k, e]);
    return out.sort((a, b) => (a[1].lastUsedAt < b[1].lastUsedAt ? 1 : -1));
  }

  /**
   * Records a step result. File lists (which can be long) go to their own file under
   * `inputs/`, read back only to explain a miss, so the index stays small.
   */
  async put(key: string, entry: Omit<CacheEntry, 'createdAt' | 'lastUsedAt' | 'usageCount'>): Promise<void> {
    const now = new Date().toISOString();
    const { files, ...inputs } = entry.inputs;
    if (files) {
      await mkdir(join(this.dir, 'inputs'), { recursive: true });
      await writeJsonAtomic(this.filesPath(key), files, { durable: false });
    }
    this.entries.set(key, { ...entry, inputs, createdAt: now, lastUsedAt: now, usageCount: 1 });
    this.dirty = true;
    await this.flush();
  }

  private filesPath(key: string): string {
    return join(this.dir, 'inputs', `${key.replace(/^sha256:/, '')}.json`);
  }

  /** The file list a step read (for explanations); undefined when it was not kept. */
  async filesOf(key: string): Promise<Record<string, string> | undefined> {
    try {
      const parsed = z.record(z.string(), z.string()).safeParse(JSON.parse(await readFile(this.filesPath(key), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  delete(key: string): void {
    if (this.entries.delete(key)) {
      this.dirty = true;
      void rm(this.filesPath(key), { force: true });
    }
  }

  list(): Array<[string, CacheEntry]> {
    return [...this.entries];
  }

  imageIds(): Set<Digest> {
    return new Set([...this.entries.values()].map((e) => e.imageId as Digest));
  }

  async flush(): Promise<void> {
    await this.lock.run('index', async () => {
      if (!this.dirty) return;
      this.dirty = false;
      if (this.entries.size > MAX_ENTRIES) {
        const sorted = [...this.entries].sort((a, b) => (a[1].lastUsedAt < b[1].lastUsedAt ? -1 : 1));
        for (const [k] of sorted.slice(0, this.entries.size - MAX_ENTRIES)) {
          this.entries.delete(k);
          await rm(this.filesPath(k), { force: true });
        }
      }
      await writeJsonAtomic(join(this.dir, 'index.json'), { version: 1, entries: Object.fromEntries(this.entries) });
    });
  }
}
