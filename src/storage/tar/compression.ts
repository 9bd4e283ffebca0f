import { Duplex, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { invalidArgument, spawnStreaming, type StreamingChild } from '../../util/index.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/** How long a `zstd -dc` child may run (a multi-GB layer on a slow disk). */
export const ZSTD_TIMEOUT_MS = 30 * 60_000;

/** Detects the compression of a layer from its first bytes. */
export function detectCompression(head: Buffer): Compression | 'bzip2' | 'xz' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** Reads at least `n` bytes (fewer at end of stream) and puts them back. */
export async function peek(input: Readable, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk = input.read() as Buffer | null;
    if (chunk !== null) {
      parts.push(chunk);
      have += chunk.length;
      continue;
    }
    if (input.readableEnded || input.destroyed) break;
    const ended = await new Promise<boolean>((resolve, reject) => {
      const cleanup = () => {
        input.off('readable', onReadable);
        input.off('end', onEnd);
        input.off('error', onError);
        input.off('close', onEnd);
      };
      const onReadable = () => (cleanup(), resolve(false));
      const onEnd = () => (cleanup(), resolve(true));
      const onError = (err: Error) => (cleanup(), reject(err));
      input.on('readable', onReadable);
      input.on('end', onEnd);
      input.on('error', onError);
      input.on('close', onEnd);
    });
    if (ended) break;
  }
  const head = Buffer.concat(parts);
  if (head.length > 0) input.unshift(head);
  return head;
}

export interface Decompressor {
  compression: Compression;
  /** A duplex that turns the compressed bytes into the tar; none for an uncompressed tar. */
  stream: Duplex | undefined;
  /** Resolves when a child decompressor exited cleanly (immediately for in-process ones). */
  done: Promise<unknown>;
  kill(): void;
}

/** Picks the decompressor for `input` from its magic bytes. */
export async function openDecompressor(input: Readable, opts: { signal?: AbortSignal } = {}): Promise<Decompressor> {
  const head = await peek(input, 6);
  const kind = detectCompression(head);
  switch (kind) {
    case 'gzip':
      return { compression: 'gzip', stream: createGunzip({ chunkSize: 1 << 17 }), done: Promise.resolve(), kill: () => undefined };
    case 'zstd': {
      // Node 20 has no zstd; the zstd binary streams it.
      const child: StreamingChild = spawnStreaming('zstd', ['-dc', '-q'], { timeoutMs: ZSTD_TIMEOUT_MS, signal: opts.signal });
      child.stdin.on('error', () => {
        // zstd exits on corrupt input before reading it all; its exit status carries the error.
      });
      return {
        compression: 'zstd',
        stream: Duplex.from({ writable: child.stdin, readable: child.stdout }),
        done: child.done.catch((err: unknown) => {
          throw invalidArgument(`cannot decompress zstd layer: ${(err as Error).message}`, err);
        }),
        kill: () => child.kill(),
      };
    }
    case 'none':
      return { compression: 'none', stream: undefined, done: Promise.resolve(), kill: () => undefined };
    default:
      throw invalidArgument(`unsupported layer compression "${kind}": expected gzip, zstd or an uncompressed tar`);
  }
}
