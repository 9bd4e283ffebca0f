import { randomUUID } from 'node:crypto';
import { conflict, type Digest } from '../util/index.js';
import type { ChainId } from './layer-store.js';

/**
 * A lease keeps what an in-flight pull, build or load has written so far safe from GC until it
 * is released (STYLE.md §6). Every blob committed and every layer applied while a lease is held
 * is added to it automatically; `add` pins resources that already existed.
 */
export interface Lease {
  readonly id: string;
  add(resource: { blob?: Digest; chain?: ChainId }): void;
  release(): void;
}

export interface Leases {
  acquire(id?: string): Lease;
  /** Ids of the leases currently held. */
  list(): string[];
}

/** In-memory leases: they protect work of this process only, which is all GC must respect. */
export class LeaseManager implements Leases {
  private readonly held = new Map<string, { blobs: Set<Digest>; chains: Set<ChainId> }>();

  acquire(id: string = randomUUID()): Lease {
    if (this.held.has(id)) throw conflict(`lease "${id}" is already held`);
    const entry = { blobs: new Set<Digest>(), chains: new Set<ChainId>() };
    this.held.set(id, entry);
    const manager = this;
    return {
      id,
      add(resource) {
        if (resource.blob) entry.blobs.add(resource.blob);
        if (resource.chain) entry.chains.add(resource.chain);
      },
      release() {
        if (manager.held.get(id) === entry) manager.held.delete(id);
      },
    };
  }

  list(): string[] {
    return [...this.held.keys()];
  }

  /** Called by the stores: a resource was written (or reused) while leases are held. */
  noteBlob(digest: Digest): void {
    for (const e of this.held.values()) e.blobs.add(digest);
  }

  noteChain(chain: ChainId): void {
    for (const e of this.held.values()) e.chains.add(chain);
  }

  /** Everything any held lease protects. */
  protectedResources(): { blobs: Set<Digest>; chains: Set<ChainId> } {
    const blobs = new Set<Digest>();
    const chains = new Set<ChainId>();
    for (const e of this.held.values()) {
      for (const b of e.blobs) blobs.add(b);
      for (const c of e.chains) chains.add(c);
    }
    return { blobs, chains };
  }
}
