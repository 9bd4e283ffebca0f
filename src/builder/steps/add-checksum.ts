// `ADD --checksum=<algorithm>:<hex> <url>`: the digest the download must have. It is the
// step's cache input (no download to compute a key), and the download is verified before
// anything reaches a layer.
import { createHash, type Hash } from 'node:crypto';
import { invalidArgument } from '../../util/index.js';

const ALGORITHMS = { sha256: 64, sha384: 96, sha512: 128 } as const;
export type ChecksumAlgorithm = keyof typeof ALGORITHMS;

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  hex: string;
  /** `sha256:<hex>` as written (hex lower-cased). */
  text: string;
}

/** Parses `sha256:<64 hex>` (or sha384/sha512); throws invalid-argument otherwise. */
export function parseChecksum(value: string): Checksum {
  const m = /^([a-z0-9]+):([a-fA-F0-9]+)$/.exec(value);
  const algorithm = m?.[1] as ChecksumAlgorithm | undefined;
  if (!m || !algorithm || !(algorithm in ALGORITHMS)) {
    throw invalidArgument(`invalid checksum digest format "${value}": expected sha256:<hex>, sha384:<hex> or sha512:<hex>`);
  }
  const hex = m[2]!.toLowerCase();
  if (hex.length !== ALGORITHMS[algorithm]) {
    throw invalidArgument(`invalid checksum digest "${value}": a ${algorithm} digest has ${ALGORITHMS[algorithm]} hex digits`);
  }
  return { algorithm, hex, text: `${algorithm}:${hex}` };
}

export function checksumHash(c: Checksum): Hash {
  return createHash(c.algorithm);
}
