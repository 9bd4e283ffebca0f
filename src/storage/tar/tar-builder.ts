// Builds layer tars in memory (STYLE.md §10 "Fixtures"): ordinary and hostile members alike. For tests and benches.
import { encodeHeader, type EntryType, type TarHeader } from './tar-format.js';

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
