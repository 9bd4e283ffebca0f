import { Readable } from 'node:stream';
import { spawnStreaming } from '../../util/index.js';
import { OVERLAY_OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX, memberComponents } from './layer-policy.js';
import { NO_XATTRS, TarRewriter, type Rewrite, type RewritePolicy, type TarHeader } from './tar-rewriter.js';

/** How long GNU tar may take to read one layer or upper dir. */
export const TAR_CREATE_TIMEOUT_MS = 30 * 60_000;

function withoutOverlayXattrs(xattrs: ReadonlyMap<string, Buffer>): ReadonlyMap<string, Buffer> {
  if (xattrs.size === 0) return xattrs;
  const out = new Map<string, Buffer>();
  for (const [k, v] of xattrs) if (!k.startsWith('trusted.overlay.')) out.set(k, v);
  return out;
}

/**
 * Turns GNU tar's view of an overlay dir back into a layer tar: whiteouts (char 0:0) become
 * `.wh.<name>`, opaque directories get a `.wh..wh..opq` member, overlay bookkeeping xattrs are
 * dropped, names lose their `./`, and mtimes are whole seconds (as Docker writes them).
 */
export class OverlayExportPolicy implements RewritePolicy {
  entry(h: TarHeader): Rewrite {
    const comps = memberComponents(h.name);
    if (comps.length === 0) return { headers: [], keepData: false }; // the root itself is not part of a layer
    const name = comps.join('/');
    const base: TarHeader = { ...h, name, mtimeText: undefined, xattrs: withoutOverlayXattrs(h.xattrs) };
    if (h.type === 'link') base.linkname = memberComponents(h.linkname).join('/');
    if (h.type === 'char' && h.devmajor === 0 && h.devminor === 0) {
      const dir = comps.slice(0, -1);
      const whiteout: TarHeader = {
        ...base,
        name: [...dir, `${WHITEOUT_PREFIX}${comps[comps.length - 1]!}`].join('/'),
        type: 'file',
        mode: 0o600,
        size: 0,
        xattrs: NO_XATTRS,
      };
      return { headers: [whiteout], keepData: false };
    }
    if (h.type === 'dir' && h.xattrs.get(OVERLAY_OPAQUE_XATTR)?.toString() === 'y') {
      const marker: TarHeader = { ...base, name: `${name}/${WHITEOUT_OPAQUE}`, type: 'file', mode: h.mode & 0o777, size: 0, xattrs: NO_XATTRS };
      return { headers: [base, marker], keepData: false };
    }
    return { headers: [base], keepData: h.type === 'file' };
  }
}

/** GNU tar arguments that capture everything a layer can carry, in a stable order. */
export function tarCreateArgs(dir: string): string[] {
  return ['-c', '-f', '-', '-C', dir, '--numeric-owner', '--xattrs', '--xattrs-include=*', '--sort=name', '--format=posix', '--warning=no-file-ignored', '.'];
}

/**
 * Streams the contents of an overlay dir (a layer's diff/ or a snapshot's upper/) as a layer tar.
 * Never buffers the layer: GNU tar reads the tree (it can read xattrs, Node cannot), a TS stream
 * rewrites overlay markers. The stream errors if tar fails, so a partial tar never looks complete.
 */
export function diffDirectory(dir: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    // Exit status 1 is "a file changed while being read" (a running container's upper dir):
    // the archive is still complete and consistent member by member, as with docker commit.
    const tar = spawnStreaming('tar', tarCreateArgs(dir), {
      timeoutMs: opts.timeoutMs ?? TAR_CREATE_TIMEOUT_MS,
      signal: opts.signal,
      okCodes: [1],
    });
    tar.stdin.end();
    const rewriter = new TarRewriter(new OverlayExportPolicy());
    tar.stdout.on('error', (err) => rewriter.destroy(err));
    tar.stdout.pipe(rewriter);
    let finished = false;
    try {
      for await (const chunk of rewriter) yield chunk as Buffer;
      await tar.done;
      finished = true;
    } finally {
      if (!finished) tar.kill();
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
