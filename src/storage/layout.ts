// On-disk names under the data-root (DESIGN.md "Data on disk"); one place so tools and tests agree.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const LAYERS_DIR = 'layers';
export const LINKS_DIR = 'l';
export const SNAPSHOTS_DIR = 'snapshots';
export const CONTENT_DIR = 'content';
/** Prefix of directories being built or removed; swept at startup. */
export const TEMP_PREFIX = '.tmp-';

export function tempName(): string {
  return `${TEMP_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`;
}

const SHORT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A 26-character link name, as Docker's overlay2 `l/` entries, keeping 120-layer mount options short. */
export function shortLinkId(): string {
  const bytes = randomBytes(26);
  let out = '';
  for (const b of bytes) out += SHORT_ALPHABET[b % 32];
  return out;
}

export function layersPath(root: string, ...rest: string[]): string {
  return join(root, LAYERS_DIR, ...rest);
}
