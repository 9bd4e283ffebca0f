// A streaming tar rewriter: parses a tar, hands each member to a policy, writes the members the
// policy returns (re-encoded) with the data passed through without copying.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { invalidArgument, type Digest } from '../../util/index.js';
import {
  BLOCK,
  NO_XATTRS,
  TYPE_BY_FLAG,
  ZERO_BLOCK,
  checksumOk,
  cstr,
  displayName,
  encodeHeader,
  num,
  padTo,
  parsePax,
  paxInt,
  type PaxRecords,
  type TarHeader,
} from './tar-header.js';

export { NO_XATTRS, displayName, encodeHeader, type EntryType, type TarHeader } from './tar-header.js';

/** What a policy does with one member: headers to write, and whether its data follows the last one. */
export interface Rewrite {
  headers: TarHeader[];
  /** Pass the member's data through after the last header (whose size must equal the member's). */
  keepData: boolean;
}

export interface RewritePolicy {
  entry(h: TarHeader): Rewrite;
  /** Extra members to append before the end-of-archive marker. */
  finish?(): TarHeader[];
}

const MAX_META_BYTES = 1 << 20;
const SMALL_PIECE = 64 * 1024;

/**
 * Parses a tar stream and writes a rewritten tar: each member goes through `policy.entry`, data
 * blocks are forwarded untouched. Errors on truncation, bad checksums and unsupported members.
 * Everything after the end-of-archive marker is consumed (so a digest upstream covers it) and dropped.
 */
export class TarRewriter extends Transform {
  private buf: Buffer | undefined;
  private state: 'header' | 'data' | 'meta' | 'end' = 'header';
  private remaining = 0; // data bytes left in the current member
  private padding = 0; // padding bytes after them
  private forwarding = false;
  private metaKind: 'x' | 'g' | 'L' | 'K' = 'x';
  private metaParts: Buffer[] = [];
  private pax: PaxRecords = {};
  private globalPax: PaxRecords = {};
  private hasGlobalPax = false;
  private longName: string | undefined;
  private longLink: string | undefined;
  private sawZeroBlock = false;
  entries = 0;

  private readonly hash: Hash | undefined;
  /** Bytes read (the whole input, also what follows the end marker). */
  bytesIn = 0;
  /**
   * What the layer's files take, as dockerd counts a layer's size (its graph driver's DiffSize:
   * regular files' bytes, symlinks' target lengths, every hard-linked file once, directories and
   * device files nothing): `docker history` and `docker images` show this, not the tar's bytes.
   */
  contentBytes = 0;

  /** `digest: true` hashes the input as it passes (one stream stage less than a separate hasher). */
  constructor(private readonly policy: RewritePolicy, opts: { digest?: boolean } = {}) {
    super({ highWaterMark: 1 << 20 });
    if (opts.digest) this.hash = createHash('sha256');
  }

  /** sha256 of the input; valid once the input has ended (requires `digest: true`). */
  inputDigest(): Digest {
    if (!this.hash) throw new Error('TarRewriter was created without digest: true');
    this.digestValue ??= `sha256:${this.hash.digest('hex')}` as Digest;
    return this.digestValue;
  }
  private digestValue: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash?.update(chunk);
    this.bytesIn += chunk.length;
    try {
      this.consume(chunk);
      this.flushOut();
      cb();
    } catch (err) {
      this.out = [];
      this.outBytes = 0;
      cb(err as Error);
    }
  }

  /**
   * Small pieces (headers, small files) of one input chunk are pushed as one buffer: far fewer
   * pipe writes. Big data slices are pushed as they are, uncopied.
   */
  private out: Buffer[] = [];
  private outBytes = 0;

  private output(b: Buffer): void {
    if (b.length >= SMALL_PIECE) {
      this.flushOut();
      this.push(b);
      return;
    }
    this.out.push(b);
    this.outBytes += b.length;
    if (this.outBytes >= SMALL_PIECE) this.flushOut();
  }

  private flushOut(): void {
    if (this.out.length === 0) return;
    this.push(this.out.length === 1 ? this.out[0] : Buffer.concat(this.out, this.outBytes));
    this.out = [];
    this.outBytes = 0;
  }

  override _flush(cb: TransformCallback): void {
    if (this.state === 'end') return cb();
    if (this.state === 'header' && this.sawZeroBlock && !this.buf) {
      // A single zero block then EOF: tolerated, as GNU tar and Go do.
      try {
        this.finishArchive();
      } catch (err) {
        return cb(err as Error);
      }
      this.flushOut();
      return cb();
    }
    cb(invalidArgument('invalid tar: archive is truncated (unexpected end of data)'));
  }

  private finishArchive(): void {
    for (const h of this.policy.finish?.() ?? []) this.output(encodeHeader(h));
    this.output(Buffer.alloc(BLOCK * 2));
    this.state = 'end';
  }

  private consume(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.state === 'end') return; // trailing zeros or junk after the end marker
      if (this.state === 'data' || this.state === 'meta') {
        if (this.remaining > 0) {
          const n = Math.min(this.remaining, chunk.length - pos);
          const part = chunk.subarray(pos, pos + n);
          if (this.state === 'data') {
            if (this.forwarding) this.output(part);
          } else this.metaParts.push(part);
          this.remaining -= n;
          pos += n;
          continue;
        }
        if (this.padding > 0) {
          const n = Math.min(this.padding, chunk.length - pos);
          if (this.state === 'data' && this.forwarding) this.output(chunk.subarray(pos, pos + n));
          this.padding -= n;
          pos += n;
          if (this.padding > 0) continue;
        }
        if (this.state === 'meta') this.endMeta();
        this.state = 'header';
        continue;
      }
      // header: gather 512 bytes
      let block: Buffer;
      if (this.buf) {
        const need = BLOCK - this.buf.length;
        const n = Math.min(need, chunk.length - pos);
        this.buf = Buffer.concat([this.buf, chunk.subarray(pos, pos + n)]);
        pos += n;
        if (this.buf.length < BLOCK) continue;
        block = this.buf;
        this.buf = undefined;
      } else if (chunk.length - pos >= BLOCK) {
        block = chunk.subarray(pos, pos + BLOCK);
        pos += BLOCK;
      } else {
        this.buf = Buffer.from(chunk.subarray(pos));
        pos = chunk.length;
        continue;
      }
      this.onHeaderBlock(block);
    }
  }

  private startData(size: number, forward: boolean): void {
    this.remaining = size;
    this.padding = padTo(size);
    this.forwarding = forward;
    this.state = 'data';
  }

  private onHeaderBlock(block: Buffer): void {
    if (block.equals(ZERO_BLOCK)) {
      if (this.sawZeroBlock) this.finishArchive();
      else this.sawZeroBlock = true;
      return;
    }
    if (this.sawZeroBlock) throw invalidArgument('invalid tar: data after a zero block');
    if (!checksumOk(block)) throw invalidArgument('invalid tar: header checksum mismatch (corrupt or not a tar)');
    const flag = String.fromCharCode(block[156]!);
    const size = num(block, 124, 12, 'size');
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META_BYTES) throw invalidArgument(`invalid tar: extended header of ${size} bytes is too large`);
      this.metaKind = flag;
      this.metaParts = [];
      this.remaining = size;
      this.padding = padTo(size);
      this.state = 'meta';
      if (size === 0) this.endMetaIfEmpty();
      return;
    }
    const type = TYPE_BY_FLAG[flag];
    const ustar = block.toString('latin1', 257, 263) === 'ustar\0';
    let name = cstr(block, 0, 100);
    if (ustar && block[345] !== 0) name = `${cstr(block, 345, 155)}/${name}`;
    const pax = this.hasGlobalPax ? { ...this.globalPax, ...this.pax } : this.pax;
    if (this.longName !== undefined) name = this.longName;
    if (pax.path !== undefined) name = pax.path;
    if (!type) {
      throw invalidArgument(`unsupported tar member "${displayName(name)}": type flag "${flag}" (sparse, multi-volume or unknown)`);
    }
    let linkname = cstr(block, 157, 100);
    if (this.longLink !== undefined) linkname = this.longLink;
    if (pax.linkpath !== undefined) linkname = pax.linkpath;
    const h: TarHeader = {
      name,
      type,
      mode: num(block, 100, 8, 'mode') & 0o7777,
      uid: pax.uid !== undefined ? paxInt(pax.uid, 'uid') : num(block, 108, 8, 'uid'),
      gid: pax.gid !== undefined ? paxInt(pax.gid, 'gid') : num(block, 116, 8, 'gid'),
      size: pax.size !== undefined ? paxInt(pax.size, 'size') : size,
      mtime: num(block, 136, 12, 'mtime'),
      linkname,
      uname: pax.uname ?? cstr(block, 265, 32),
      gname: pax.gname ?? cstr(block, 297, 32),
      devmajor: type === 'char' || type === 'block' ? num(block, 329, 8, 'devmajor') : 0,
      devminor: type === 'char' || type === 'block' ? num(block, 337, 8, 'devminor') : 0,
      xattrs: NO_XATTRS,
    };
    if (pax.mtime !== undefined) {
      if (!/^-?\d+(\.\d+)?$/.test(pax.mtime)) throw invalidArgument(`invalid tar: bad PAX mtime for "${displayName(name)}"`);
      h.mtime = Math.floor(Number(pax.mtime));
      if (pax.mtime.includes('.')) h.mtimeText = pax.mtime;
    }
    let xattrs: Map<string, Buffer> | undefined;
    for (const [k, v] of Object.entries(pax)) {
      if (k.startsWith('SCHILY.xattr.')) {
        (xattrs ??= new Map()).set(k.slice('SCHILY.xattr.'.length), Buffer.from(v, 'latin1'));
      } else if (k.startsWith('LIBARCHIVE.xattr.')) {
        (xattrs ??= new Map()).set(decodeURIComponent(k.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(v, 'base64'));
      } else if (k.startsWith('GNU.sparse.')) {
        throw invalidArgument(`unsupported tar member "${displayName(name)}": GNU sparse files are not supported`);
      }
    }
    if (xattrs) h.xattrs = xattrs;
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    // Only regular files carry data; other types are header-only whatever their size field says (as Go's reader).
    const dataSize = type === 'file' ? h.size : 0;
    if (type !== 'file') h.size = 0;
    this.entries++;
    this.contentBytes += type === 'symlink' ? Buffer.byteLength(h.linkname) : dataSize;
    const rw = this.policy.entry(h);
    for (let i = 0; i < rw.headers.length; i++) {
      const out = rw.headers[i]!;
      const last = i === rw.headers.length - 1;
      if (out.type !== 'file') out.size = 0;
      if (last && rw.keepData && out.size !== dataSize) {
        throw new Error(`tar policy changed the size of "${displayName(name)}"`);
      }
      this.output(encodeHeader(out));
    }
    this.startData(dataSize, rw.keepData && type === 'file');
    if (dataSize === 0) this.state = 'header';
  }

  private endMetaIfEmpty(): void {
    this.endMeta();
    this.state = 'header';
  }

  private endMeta(): void {
    const data = Buffer.concat(this.metaParts);
    this.metaParts = [];
    switch (this.metaKind) {
      case 'x':
        this.pax = parsePax(data);
        break;
      case 'g':
        this.globalPax = { ...this.globalPax, ...parsePax(data) };
        this.hasGlobalPax = true;
        break;
      case 'L':
        this.longName = cstr(data, 0, data.length);
        break;
      case 'K':
        this.longLink = cstr(data, 0, data.length);
        break;
    }
  }
}
