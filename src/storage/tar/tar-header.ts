// Tar headers: the member type, decoding of ustar/GNU/PAX fields and encoding (ustar + PAX).
// Names and PAX values are latin1 "byte strings" so every byte survives a round trip (binary
// xattrs such as security.capability, non-UTF-8 file names).
import { invalidArgument } from '../../util/index.js';

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

export const BLOCK = 512;
/**
 * The shared xattr map of members without xattrs (most of them): saves an allocation per member.
 * Never mutate a header's map in place; copy it first (`new Map(h.xattrs)`).
 */
export const NO_XATTRS: ReadonlyMap<string, Buffer> = new Map();
export const ZERO_BLOCK = Buffer.alloc(BLOCK);

export const TYPE_BY_FLAG: Record<string, EntryType> = {
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

export function cstr(buf: Buffer, off: number, len: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('latin1', off, end === -1 || end > off + len ? off + len : end);
}

export function num(buf: Buffer, off: number, len: number, what: string): number {
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

export function checksumOk(block: Buffer): boolean {
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

export interface PaxRecords {
  [key: string]: string; // latin1 byte strings
}

export function parsePax(data: Buffer): PaxRecords {
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

export function padTo(n: number): number {
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

export function paxInt(v: string, what: string): number {
  if (!/^\d+$/.test(v)) throw invalidArgument(`invalid tar: bad PAX ${what} "${v}"`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw invalidArgument(`invalid tar: PAX ${what} too large`);
  return n;
}
