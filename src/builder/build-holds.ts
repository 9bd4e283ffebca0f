// What running builds still need: every image a build resolved or committed (base images,
// intermediate images, stage outputs for COPY --from) is held until the build has written
// its tags, and a storage lease keeps the layers and blobs it wrote from GC. `image prune`,
// `rmi` and `builder prune` see a held image as used by a running build (a hard conflict, as
// for a running container), so they skip it instead of pulling it from under the build.
import { randomBytes } from 'node:crypto';
import type { ChainId, Lease, Storage } from '../storage/index.js';
import type { Digest } from '../util/index.js';

export interface BuildHold {
  /** 64 hex characters: what a refused `rmi` names as the image's user. */
  readonly id: string;
  keep(image: { id: Digest; topChainId?: ChainId | undefined }): void;
  /** Idempotent. */
  release(): void;
}

export class BuildHolds {
  private readonly builds = new Map<string, Set<Digest>>();

  constructor(private readonly storage: Pick<Storage, 'leases'>) {}

  open(): BuildHold {
    const id = randomBytes(32).toString('hex');
    const images = new Set<Digest>();
    this.builds.set(id, images);
    // Layers and blobs committed while a lease is held are added to it by the stores.
    const lease: Lease = this.storage.leases.acquire(`build-${id}`);
    return {
      id,
      keep: (image) => {
        images.add(image.id);
        if (image.topChainId) lease.add({ chain: image.topChainId });
      },
      release: () => {
        this.builds.delete(id);
        lease.release();
      },
    };
  }

  /** Running builds using `imageId`, in the shape of the image service's usage check. */
  users(imageId: string): Array<{ id: string; running: boolean }> {
    const out: Array<{ id: string; running: boolean }> = [];
    for (const [id, images] of this.builds) if (images.has(imageId as Digest)) out.push({ id, running: true });
    return out;
  }

  /** Number of builds running now. */
  get active(): number {
    return this.builds.size;
  }
}
