// Builds layer tars in memory (STYLE.md §10 "Fixtures"): ordinary and hostile members alike. For tests and benches.
import { Readable } from 'node:stream';
import { TarRewriter, encodeHeader, type EntryType, type TarHeader } from './tar-rewriter.js';

export interface MemberSpec {
  name: string;
  type?: EntryType;
  data?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string | Buffer>;
}

export function member(spec: MemberSpec): Buffer[] {
  const data = spec.data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(spec.data) ? spec.data : Buffer.from(spec.data);
  const type = spec.type ?? 'file';
  const h: TarHeader = {
    name: Buffer.from(spec.name, 'utf8').toString('latin1'),
    type,
    mode: spec.mode ?? (type === 'dir' ? 0o755 : 0o644),
    uid: spec.uid ?? 0,
    gid: spec.gid ?? 0,
    size: type === 'file' ? data.length : 0,
    mtime: spec.mtime ?? 1_700_000_000,
    linkname: spec.linkname ? Buffer.from(spec.linkname, 'utf8').toString('latin1') : '',
    uname: '',
    gname: '',
    devmajor: spec.devmajor ?? 0,
    devminor: spec.devminor ?? 0,
    xattrs: new Map(Object.entries(spec.xattrs ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)])),
  };
  const out = [encodeHeader(h)];
  if (type === 'file' && data.length > 0) out.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  return out;
}

/** A complete tar (with the two zero blocks at the end unless `trailer` is false). */
export function buildTar(members: MemberSpec[], opts: { trailer?: boolean } = {}): Buffer {
  const parts = members.flatMap(member);
  if (opts.trailer !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The member headers of a tar held in memory (tests only), with each file's data. */
export async function listTar(data: Buffer | AsyncIterable<Buffer>): Promise<Array<TarHeader & { data: Buffer }>> {
  const out: Array<TarHeader & { data: Buffer }> = [];
  const reader = new TarRewriter({
    entry(h) {
      out.push({ ...h, data: Buffer.alloc(0) });
      return { headers: [h], keepData: h.type === 'file' };
    },
  });
  // Re-read the rewritten stream's data by offsets: simpler to collect file bodies via a second pass.
  const chunks: Buffer[] = [];
  const input = Buffer.isBuffer(data) ? Readable.from([data]) : Readable.from(data);
  for await (const c of input.pipe(reader)) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  // The rewritten tar has the same members; walk it to attach file data.
  let pos = 0;
  let i = 0;
  while (pos + 512 <= all.length && i < out.length) {
    const flag = String.fromCharCode(all[pos + 156]!);
    const size = parseInt(all.toString('latin1', pos + 124, pos + 136).replace(/\0.*$/, '').trim() || '0', 8);
    pos += 512;
    if (flag === 'x') {
      pos += size + ((512 - (size % 512)) % 512);
      continue;
    }
    const h = out[i++]!;
    if (h.type === 'file') {
      h.data = all.subarray(pos, pos + h.size);
      pos += h.size + ((512 - (h.size % 512)) % 512);
    }
  }
  return out;
}

/** Layers that try to write outside their directory, each with the member that must be named. */
export const hostileLayers: Array<{ why: string; members: MemberSpec[]; culprit: string }> = [
  { why: 'an absolute path', members: [{ name: '/etc/passwd', data: 'root::0:0' }], culprit: '/etc/passwd' },
  { why: 'a path with ..', members: [{ name: '../escape', data: 'x' }], culprit: '../escape' },
  { why: 'a path with .. in the middle', members: [{ name: 'a/../../escape', data: 'x' }], culprit: 'a/../../escape' },
  {
    why: 'a member through an absolute symlink',
    members: [{ name: 'evil', type: 'symlink', linkname: '/tmp' }, { name: 'evil/pwned', data: 'x' }],
    culprit: 'evil/pwned',
  },
  {
    why: 'a member through a relative symlink pointing outside',
    members: [{ name: 'a/', type: 'dir' }, { name: 'a/up', type: 'symlink', linkname: '../../..' }, { name: 'a/up/pwned', data: 'x' }],
    culprit: 'a/up/pwned',
  },
  {
    why: 'a member through a chain of symlinks pointing outside',
    members: [
      { name: 'one', type: 'symlink', linkname: 'two/..' },
      { name: 'two', type: 'symlink', linkname: '..' },
      { name: 'one/pwned', data: 'x' },
    ],
    culprit: 'one/pwned',
  },
  {
    why: 'a symlink loop',
    members: [{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }, { name: 'a/x', data: 'x' }],
    culprit: 'a/x',
  },
  { why: 'a hardlink to an absolute path', members: [{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }], culprit: 'passwd' },
  { why: 'a hardlink with ..', members: [{ name: 'passwd', type: 'link', linkname: '../../etc/passwd' }], culprit: 'passwd' },
  { why: 'a hardlink to a member not yet extracted', members: [{ name: 'early', type: 'link', linkname: 'late' }, { name: 'late', data: 'x' }], culprit: 'early' },
  {
    why: 'a hardlink through a symlink pointing outside',
    members: [{ name: 'etc', type: 'symlink', linkname: '/etc' }, { name: 'shadow', type: 'link', linkname: 'etc/shadow' }],
    culprit: 'shadow',
  },
];
