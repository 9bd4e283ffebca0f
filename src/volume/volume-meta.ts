// `<root>/<name>/meta.json`: what berth knows about one volume, parsed with a schema on
// read (STYLE.md §4) and written atomically. Container references live here too, so a
// volume in use stays in use across daemon restarts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BerthError, writeJsonAtomic } from '../util/index.js';
import { VOLUME_META_FILE } from './constants.js';

export const VOLUME_META_VERSION = 1;

export const VolumeMetaSchema = z.object({
  version: z.literal(VOLUME_META_VERSION),
  name: z.string().min(1),
  driver: z.string().min(1),
  /** RFC 3339 with seconds, like Docker's CreatedAt. */
  createdAt: z.string(),
  labels: z.record(z.string(), z.string()),
  /** Driver options as given (`type`, `device`, `o`). */
  options: z.record(z.string(), z.string()),
  /** Containers that reference the volume (created or running): it cannot be removed. */
  refs: z.array(z.string()),
  /** Containers that have it mounted right now (a local volume with options is mounted while this is non-empty). */
  active: z.array(z.string()),
  /** The container whose anonymous mount created it; `rm -v` of that container removes it. */
  createdFor: z.string().optional(),
  /** Copy-up from an image directory was considered once; it never happens again. */
  populated: z.boolean(),
});

export type VolumeMeta = z.infer<typeof VolumeMetaSchema>;

export function metaPath(volumeDir: string): string {
  return join(volumeDir, VOLUME_META_FILE);
}

export async function readVolumeMeta(volumeDir: string): Promise<VolumeMeta> {
  const path = metaPath(volumeDir);
  const text = await readFile(path, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BerthError('internal', `read volume metadata "${path}": not JSON`, { cause: err });
  }
  const r = VolumeMetaSchema.safeParse(raw);
  if (!r.success) {
    throw new BerthError('internal', `read volume metadata "${path}": ${r.error.issues[0]?.message ?? 'invalid'}`);
  }
  return r.data;
}

export async function writeVolumeMeta(volumeDir: string, meta: VolumeMeta): Promise<void> {
  await writeJsonAtomic(metaPath(volumeDir), meta, { mode: 0o600 });
}
