import { createHash } from 'node:crypto';
import { invalidArgument, type Digest } from '../util/index.js';
import type { ChainId } from './layer-store.js';

/**
 * OCI chainID: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
 * `diffIds` is ordered from the bottom-most layer up.
 */
export function chainIdOf(diffIds: readonly Digest[]): ChainId {
  if (diffIds.length === 0) throw invalidArgument('cannot compute a chainID of no layers');
  let chain = diffIds[0]! as string;
  for (let i = 1; i < diffIds.length; i++) {
    chain = `sha256:${createHash('sha256').update(`${chain} ${diffIds[i]!}`).digest('hex')}`;
  }
  return chain as ChainId;
}

/** The chainID of a layer with diffID `diffId` on top of `parent`. */
export function childChainId(parent: ChainId | undefined, diffId: Digest): ChainId {
  if (!parent) return diffId as ChainId;
  return `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}` as ChainId;
}
