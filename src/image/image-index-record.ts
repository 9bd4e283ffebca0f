// The on-disk record of an image index (OCI index / Docker manifest list) in the reference
// index: which manifest each platform has and, when that image is stored locally, its id.
import { z } from 'zod';
import type { Digest } from '../util/index.js';
import { digestSchema, platformSchema, type Platform } from './schemas.js';

export const indexRecordSchema = z.object({
  digest: digestSchema,
  mediaType: z.string(),
  size: z.number(),
  created: z.string(),
  manifests: z.array(
    z.object({
      digest: digestSchema,
      mediaType: z.string(),
      size: z.number(),
      platform: platformSchema.optional(),
      /** The config digest of the image when it is stored locally. */
      imageId: digestSchema.optional(),
    }),
  ),
  lastTagTime: z.string().optional(),
});

export interface IndexEntry {
  digest: Digest;
  mediaType: string;
  size: number;
  platform?: Platform | undefined;
  imageId?: Digest | undefined;
}

export interface IndexRecord {
  digest: Digest;
  mediaType: string;
  size: number;
  created: string;
  manifests: IndexEntry[];
  lastTagTime?: string | undefined;
}
