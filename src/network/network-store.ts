// Network records on disk, one JSON file per network, written atomically (DESIGN.md "Data on disk").
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, writeJsonAtomic, type Durability } from '../util/index.js';
import { NetworkRecordSchema, type NetworkRecord } from './types.js';

const RECORD_RE = /^[0-9a-f]{64}\.json$/;

export class NetworkStore {
  readonly dir: string;
  constructor(dataRoot: string) {
    this.dir = join(dataRoot, 'networks');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // A crash between temp write and rename leaves a temp file: sweep it (STYLE.md §6).
    for (const name of await readdir(this.dir)) {
      if (name.includes('.tmp-')) await rm(join(this.dir, name), { force: true });
    }
  }

  /**
   * `durable: false` skips the fsyncs: for changes of live state only (endpoint plumbed or not),
   * which restore() re-derives from the kernel anyway. The rename stays atomic, and a berthd
   * crash loses nothing that reached the page cache; only a power loss could, and then no
   * container survives either. `'background'`: synced without holding up the caller, for the
   * memberships a container's run makes and drops (see Durability).
   */
  async save(rec: NetworkRecord, opts: { durable?: Durability } = {}): Promise<void> {
    await writeJsonAtomic(this.pathOf(rec.id), NetworkRecordSchema.parse(rec), { mode: 0o600, durable: opts.durable ?? true });
  }

  async remove(id: string): Promise<void> {
    await rm(this.pathOf(id), { force: true });
  }

  async loadAll(): Promise<NetworkRecord[]> {
    const out: NetworkRecord[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (!RECORD_RE.test(name)) continue;
      out.push(await this.load(join(this.dir, name)));
    }
    return out;
  }

  private async load(path: string): Promise<NetworkRecord> {
    const text = await readFile(path, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new BerthError('internal', `network record ${path} is not valid JSON`, { cause: e });
    }
    const parsed = NetworkRecordSchema.safeParse(json);
    if (!parsed.success) {
      throw new BerthError('internal', `network record ${path} is invalid: ${parsed.error.issues[0]?.message ?? ''}`);
    }
    return parsed.data;
  }

  private pathOf(id: string): string {
    return join(this.dir, `${id}.json`);
  }
}
