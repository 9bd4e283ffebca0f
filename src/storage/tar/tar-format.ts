// A small streaming tar reader/writer for layer tars. Names and PAX values are kept as
// latin1 "byte strings" so every byte survives a round trip (binary xattrs such as
// security.capability, non-UTF-8 file names). Entry data is passed through without copying.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { invalidArgument, type Digest } from '../../util/index.js';

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** Path as a latin1 byte string, as found in the archive (normalised by the policy). */
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch; PAX may carry a fraction, kept as its decimal text. */
  mtime: number;
  mtimeText?: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** xattr name -> raw value (from PAX SCHILY.xattr.*). Shared and read-only: copy before changing. */
  xattrs: ReadonlyMap<string, Buffer>;
}

/** A readable form of a byte-string path for error messages. */
export function displayName(name: string): string {
  return Buffer.from(name, 'latin1').toString('utf8');
}

const BLOCK = 512;
/**
 * The shared xattr map of members without xattrs (most of them): saves an allocation per member.
 * Never mutate a header's map in place; copy it first (`new Map(h.xattrs)`).
 */
export const NO_XATTRS: ReadonlyMap<string, Buffer> = new Map();
const ZERO_BLOCK = Buffer.alloc(BLOCK);

const TYPE_BY_FLAG: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};
const FLAG_BY_TYPE: Record<EntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

function cstr(buf: Buffer, off: number, len: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('latin1', off, end === -1 || end > off + len ? off + len : end);
}

function num(buf: Buffer, off: number, len: number, what: string): number {
  const first = buf[off]!;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement; only positive values make sense here.
    if (first !== 0x80) throw invalidArgument(`invalid tar header: negative ${what}`);
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + buf[i]!;
    if (!Number.isSafeInteger(v)) throw invalidArgument(`invalid tar header: ${what} too large`);
    return v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw invalidArgument(`invalid tar header: bad ${what} field "${buf.toString('latin1', off, end)}"`);
    v = v * 8 + (c - 0x30);
  }
  for (; i < end; i++) {
    if (buf[i] !== 0x20 && buf[i] !== 0) throw invalidArgument(`invalid tar header: bad ${what} field "${buf.toString('latin1', off, end)}"`);
  }
  return v;
}

function checksumOk(block: Buffer): boolean {
  const stored = num(block, 148, 8, 'checksum');
  let unsigned = 256; // the checksum field counts as 8 spaces
  let signed = 256;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const b = block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

interface PaxRecords {
  [key: string]: string; // latin1 byte strings
}

function parsePax(data: Buffer): PaxRecords {
  const out: PaxRecords = {};
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp === -1) break;
    const len = parseInt(data.toString('latin1', pos, sp), 10);
    if (!Number.isSafeInteger(len) || len <= 0 || pos + len > data.length) {
      throw invalidArgument('invalid tar: malformed PAX record');
    }
    const rec = data.subarray(sp + 1, pos + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq === -1) throw invalidArgument('invalid tar: malformed PAX record');
    out[rec.toString('latin1', 0, eq)] = rec.toString('latin1', eq + 1);
    pos += len;
  }
  return out;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'latin1'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

function padTo(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

function writeStr(block: Buffer, s: string, off: number, len: number): void {
  block.write(s, off, len, 'latin1');
}

function writeOct(block: Buffer, v: number, off: number, len: number): void {
  // len-1 octal digits, zero-padded, then NUL (the block is zero-filled already).
  for (let i = off + len - 2; i >= off; i--) {
    block[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}

function fitsOct(v: number, len: number): boolean {
  return v >= 0 && v < 8 ** (len - 1);
}

function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) return false;
  }
  return true;
}

function ustarBlock(h: TarHeader, name: string, linkname: string, flag: string, size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  writeStr(b, name, 0, 100);
  writeOct(b, h.mode & 0o7777, 100, 8);
  writeOct(b, fitsOct(h.uid, 8) ? h.uid : 0, 108, 8);
  writeOct(b, fitsOct(h.gid, 8) ? h.gid : 0, 116, 8);
  writeOct(b, fitsOct(size, 12) ? size : 0, 124, 12);
  writeOct(b, fitsOct(Math.floor(h.mtime), 12) ? Math.floor(h.mtime) : 0, 136, 12);
  b.write('        ', 148, 8, 'latin1');
  b.write(flag, 156, 1, 'latin1');
  writeStr(b, linkname, 157, 100);
  b.write('ustar\x0000', 257, 8, 'latin1');
  writeStr(b, h.uname, 265, 32);
  writeStr(b, h.gname, 297, 32);
  writeOct(b, h.devmajor, 329, 8);
  writeOct(b, h.devminor, 337, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  writeOct(b, sum, 148, 7); // six digits, then NUL and space
  b[154] = 0;
  b[155] = 0x20;
  return b;
}

/** Encodes a header (with a PAX extended header when ustar cannot hold it). */
export function encodeHeader(h: TarHeader): Buffer {
  const name = h.type === 'dir' && !h.name.endsWith('/') ? `${h.name}/` : h.name;
  const flag = FLAG_BY_TYPE[h.type];
  const recs: Buffer[] = [];
  if (name.length > 100 || !isPlainAscii(name)) recs.push(paxRecord('path', Buffer.from(name, 'latin1')));
  if (h.linkname.length > 100 || !isPlainAscii(h.linkname)) recs.push(paxRecord('linkpath', Buffer.from(h.linkname, 'latin1')));
  if (!fitsOct(h.uid, 8)) recs.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (!fitsOct(h.gid, 8)) recs.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (!fitsOct(h.size, 12)) recs.push(paxRecord('size', Buffer.from(String(h.size))));
  if (h.mtimeText !== undefined) recs.push(paxRecord('mtime', Buffer.from(h.mtimeText, 'latin1')));
  else if (!fitsOct(h.mtime, 12)) recs.push(paxRecord('mtime', Buffer.from(String(h.mtime))));
  for (const [k, v] of h.xattrs) recs.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const main = ustarBlock(h, name.slice(0, 100), h.linkname.slice(0, 100), flag, h.size);
  if (recs.length === 0) return main;
  const body = Buffer.concat(recs);
  const paxHeader: TarHeader = { ...h, type: 'file', linkname: '', xattrs: NO_XATTRS };
  const xblock = ustarBlock(paxHeader, 'PaxHeader', '', 'x', body.length);
  return Buffer.concat([xblock, body, Buffer.alloc(padTo(body.length)), main]);
}

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

function paxInt(v: string, what: string): number {
  if (!/^\d+$/.test(v)) throw invalidArgument(`invalid tar: bad PAX ${what} "${v}"`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw invalidArgument(`invalid tar: PAX ${what} too large`);
  return n;
}
