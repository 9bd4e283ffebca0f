// What a layer tar may contain, and how it maps onto an overlay lower dir (STYLE.md §6,
// DESIGN.md "Layer extraction never writes outside its target directory").
import { invalidArgument } from '../../util/index.js';
import { NO_XATTRS, displayName, type Rewrite, type RewritePolicy, type TarHeader } from './tar-rewriter.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';
const MAX_SYMLINK_HOPS = 40;

function unsafe(name: string, why: string): Error {
  return invalidArgument(`unsafe layer member "${displayName(name)}": ${why}`);
}

/** Splits a member path into clean components; rejects absolute paths and `..`. */
export function memberComponents(raw: string, what = raw): string[] {
  if (raw.startsWith('/')) throw unsafe(what, 'absolute path');
  const parts = raw.split('/');
  const comps: string[] = [];
  for (const c of parts) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw unsafe(what, 'path contains ".."');
    comps.push(c);
  }
  return comps;
}

/**
 * Validates and rewrites the members of a layer tar before GNU tar writes them:
 * - paths are relative and stay inside the layer, also through symlinks the layer itself created
 *   (a member below an in-layer symlink is rewritten to the resolved path, so tar never follows a link);
 * - hardlinks point at a member already extracted from this layer;
 * - `.wh.<name>` becomes the overlay whiteout (char device 0:0 `<name>`), `.wh..wh..opq` the
 *   `trusted.overlay.opaque=y` xattr on its directory; other `trusted.overlay.*` xattrs are dropped.
 */
export class LayerExtractPolicy implements RewritePolicy {
  /** `whiteouts: false` keeps `.wh.*` members as ordinary files (plain archives, docker cp). */
  constructor(private readonly opts: { whiteouts?: boolean } = {}) {}

  private readonly symlinks = new Map<string, string>();
  private readonly written = new Set<string>();
  private readonly dirs = new Map<string, TarHeader>();
  private readonly opaque = new Set<string>();

  entry(h: TarHeader): Rewrite {
    const member = h.name;
    const comps = memberComponents(h.name);
    if (comps.length === 0) {
      if (h.type !== 'dir') throw unsafe(member, 'the layer root must be a directory');
      return { headers: [{ ...h, name: './', xattrs: stripOverlayXattrs(h.xattrs) }], keepData: false };
    }
    const base = comps[comps.length - 1]!;
    const parent = this.resolveParent(comps.slice(0, -1), member);
    if (base.startsWith(WHITEOUT_PREFIX) && this.opts.whiteouts !== false) return this.whiteout(h, parent, base);
    const path = [...parent, base].join('/');
    const out: TarHeader = { ...h, name: path, xattrs: stripOverlayXattrs(h.xattrs) };
    if (h.type === 'link') {
      const linkComps = memberComponents(h.linkname, `${member} -> ${h.linkname}`);
      if (linkComps.length === 0) throw unsafe(member, 'hardlink to the layer root');
      const target = [...this.resolveParent(linkComps.slice(0, -1), member), linkComps[linkComps.length - 1]!].join('/');
      if (!this.written.has(target)) {
        throw unsafe(member, `hardlink to "${displayName(h.linkname)}", which is not an earlier member of this layer`);
      }
      out.linkname = target;
    }
    if (h.type === 'dir') {
      this.symlinks.delete(path);
      this.written.delete(path);
      if (this.opaque.has(path)) out.xattrs = new Map(out.xattrs).set(OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      this.dirs.set(path, out);
    } else {
      this.dirs.delete(path);
      if (h.type === 'symlink') this.symlinks.set(path, h.linkname);
      else this.symlinks.delete(path);
      this.written.add(path);
    }
    return { headers: [out], keepData: h.type === 'file' };
  }

  private whiteout(h: TarHeader, parent: string[], base: string): Rewrite {
    const dir = parent.join('/');
    if (base === WHITEOUT_OPAQUE) {
      this.opaque.add(dir);
      const known = this.dirs.get(dir);
      const header: TarHeader = known
        ? { ...known }
        : { ...h, type: 'dir', name: dir === '' ? './' : dir, mode: 0o755, size: 0, linkname: '', xattrs: NO_XATTRS };
      header.xattrs = new Map(header.xattrs).set(OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      if (dir !== '') this.dirs.set(dir, header);
      return { headers: [header], keepData: false };
    }
    if (base.startsWith(WHITEOUT_META_PREFIX)) return { headers: [], keepData: false }; // aufs bookkeeping: ignored
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw unsafe(h.name, 'invalid whiteout');
    const path = [...parent, name].join('/');
    this.symlinks.delete(path);
    this.dirs.delete(path);
    this.written.add(path);
    const header: TarHeader = {
      ...h,
      name: path,
      type: 'char',
      mode: 0,
      size: 0,
      linkname: '',
      devmajor: 0,
      devminor: 0,
      xattrs: NO_XATTRS,
    };
    return { headers: [header], keepData: false };
  }

  /** Resolves the directory components of a member through symlinks made by this layer. */
  private resolveParent(comps: string[], member: string): string[] {
    if (this.symlinks.size === 0) return comps;
    let hops = 0;
    const walk = (input: string[], out: string[]): string[] => {
      for (const c of input) {
        if (c === '..') {
          if (out.length === 0) throw unsafe(member, 'path goes through a symlink pointing outside the layer');
          out.pop();
          continue;
        }
        const candidate = [...out, c].join('/');
        const target = this.symlinks.get(candidate);
        if (target === undefined) {
          out.push(c);
          continue;
        }
        if (++hops > MAX_SYMLINK_HOPS) throw unsafe(member, 'too many levels of symbolic links');
        if (target.startsWith('/')) {
          throw unsafe(member, `path goes through symlink "${displayName(candidate)}" pointing outside the layer ("${displayName(target)}")`);
        }
        out = walk(target.split('/').filter((t) => t !== '' && t !== '.'), out);
      }
      return out;
    };
    return walk(comps, []);
  }
}

function stripOverlayXattrs(xattrs: ReadonlyMap<string, Buffer>): ReadonlyMap<string, Buffer> {
  if (xattrs.size === 0) return xattrs;
  let overlay = false;
  for (const k of xattrs.keys()) if (k.startsWith(OVERLAY_XATTR_PREFIX)) overlay = true;
  if (!overlay) return xattrs;
  const out = new Map<string, Buffer>();
  for (const [k, v] of xattrs) if (!k.startsWith(OVERLAY_XATTR_PREFIX)) out.set(k, v);
  return out;
}
