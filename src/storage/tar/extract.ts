import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, errorKind, invalidArgument, spawnStreaming, type Digest } from '../../util/index.js';
import { openDecompressor, type Compression } from './compression.js';
import { LayerExtractPolicy } from './layer-policy.js';
import { TarRewriter } from './tar-rewriter.js';

/** How long GNU tar may take to write one layer. */
export const TAR_TIMEOUT_MS = 30 * 60_000;

export interface ExtractResult {
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** What its files take, as dockerd counts a layer's size (TarRewriter.contentBytes). */
  contentSize: number;
  compression: Compression;
  entries: number;
}

/** GNU tar arguments that restore everything a layer can carry. */
export function tarExtractArgs(dest: string, asRoot: boolean): string[] {
  return [
    '-x',
    // 128 KiB records, reassembled from short pipe reads: a quarter fewer syscalls than tar's 10 KiB default.
    '-b',
    '256',
    '-B',
    '-f',
    '-',
    '-C',
    dest,
    // Every path was validated and resolved by LayerExtractPolicy, so tar's own defences are not
    // needed, and one of them is wrong for layers: it creates escaping symlinks last, as
    // placeholders, so a later member of the same name would lose to the earlier symlink.
    '--absolute-names',
    '--numeric-owner',
    asRoot ? '--same-owner' : '--no-same-owner',
    '-p',
    '--xattrs',
    '--xattrs-include=*',
    '--no-unquote',
    '--warning=no-timestamp',
    '--warning=no-unknown-keyword',
  ];
}

function isZlibError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/**
 * Unpacks a layer tar (gzip, zstd or none) into the existing, empty directory `dest`, computing
 * the diffID over the uncompressed bytes. Every member is validated (layer-policy.ts) in a TS
 * stream and re-packed into GNU tar, which does what Node cannot (mknod, chown, xattrs).
 * On error `dest` may hold a partial tree: the caller builds it under a temp name and removes it.
 * `dest` must be a directory this process just created (empty): the safety checks know only
 * the symlinks of this tar. To unpack into a tree that may hold hostile symlinks (a container's
 * root), use `extractArchive`.
 */
export async function extractLayer(
  input: Readable,
  dest: string,
  opts: {
    signal?: AbortSignal;
    asRoot?: boolean;
    timeoutMs?: number;
    whiteouts?: boolean;
    /**
     * The sha256 of exactly these input bytes, computed by the caller as they passed (the
     * content store, for a blob stored and unpacked at once). Used as the diffID when the
     * input is uncompressed, instead of hashing the same bytes a second time.
     */
    inputDigest?: Promise<Digest> | undefined;
  } = {},
): Promise<ExtractResult> {
  const asRoot = opts.asRoot ?? process.getuid?.() === 0;
  let decompressor;
  try {
    decompressor = await openDecompressor(input, { signal: opts.signal });
  } catch (err) {
    input.destroy();
    throw err;
  }
  const hashedByCaller = opts.inputDigest !== undefined && decompressor.compression === 'none';
  const rewriter = new TarRewriter(new LayerExtractPolicy({ whiteouts: opts.whiteouts }), { digest: !hashedByCaller });
  const tar = spawnStreaming('tar', tarExtractArgs(dest, asRoot), {
    timeoutMs: opts.timeoutMs ?? TAR_TIMEOUT_MS,
    signal: opts.signal,
    stdout: 'ignore',
  });
  tar.stdin.on('error', () => {
    // tar exits early on a write error; its exit status carries the reason.
  });
  const piped = decompressor.stream
    ? pipeline(input, decompressor.stream, rewriter, tar.stdin, { signal: opts.signal })
    : pipeline(input, rewriter, tar.stdin, { signal: opts.signal });
  piped.catch(() => {
    tar.kill();
    decompressor.kill();
  });
  const [p, d, t] = await Promise.allSettled([piped, decompressor.done, tar.done]);
  if (p.status === 'rejected' || d.status === 'rejected' || t.status === 'rejected') {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new DOMException('aborted', 'AbortError');
    const pErr = p.status === 'rejected' ? (p.reason as unknown) : undefined;
    if (pErr instanceof BerthError && errorKind(pErr) === 'invalid-argument') throw pErr;
    if (d.status === 'rejected') throw d.reason;
    if (pErr !== undefined && isZlibError(pErr)) {
      throw invalidArgument(`cannot decompress gzip layer: ${(pErr as Error).message}`, pErr);
    }
    if (t.status === 'rejected') {
      throw new BerthError('internal', `cannot unpack layer: ${(t.reason as Error).message}`, { cause: t.reason });
    }
    throw pErr;
  }
  const diffId = hashedByCaller ? await opts.inputDigest! : rewriter.inputDigest();
  return { diffId, size: rewriter.bytesIn, contentSize: rewriter.contentBytes, compression: decompressor.compression, entries: rewriter.entries };
}
