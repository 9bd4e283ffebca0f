// IPv4 addresses and CIDR prefixes as numbers: parsing, formatting, containment, overlap.
import { invalidArgument } from '../util/index.js';

export interface Cidr {
  /** Network address (host bits zero) as an unsigned 32-bit number. */
  base: number;
  prefixLen: number;
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(s: string): number {
  const m = IPV4_RE.exec(s.trim());
  if (!m) throw invalidArgument(`invalid IPv4 address: ${s}`);
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255 || (m[i]!.length > 1 && m[i]!.startsWith('0'))) throw invalidArgument(`invalid IPv4 address: ${s}`);
    n = n * 256 + o;
  }
  return n;
}

export function isIpv4(s: string): boolean {
  try {
    parseIpv4(s);
    return true;
  } catch {
    // Not an address: that is the answer, not an error.
    return false;
  }
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** Parses `a.b.c.d/len`. With `strict`, host bits must be zero (Docker rejects `10.0.0.1/24` as a subnet). */
export function parseCidr(s: string, opts: { strict?: boolean } = {}): Cidr {
  const [addr, len, extra] = s.trim().split('/');
  if (addr === undefined || len === undefined || extra !== undefined || !/^\d{1,2}$/.test(len) || Number(len) > 32) {
    throw invalidArgument(`invalid CIDR address: ${s}`);
  }
  const prefixLen = Number(len);
  const ip = parseIpv4(addr);
  const base = (ip & maskOf(prefixLen)) >>> 0;
  if (opts.strict && base !== ip) {
    throw invalidArgument(`invalid subnet ${s}: it should be ${formatCidr({ base, prefixLen })}`);
  }
  return { base, prefixLen };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefixLen}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefixLen);
}

export function lastAddress(c: Cidr): number {
  return c.base + cidrSize(c) - 1;
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip <= lastAddress(c);
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return inner.prefixLen >= outer.prefixLen && cidrContains(outer, inner.base);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base <= lastAddress(b) && b.base <= lastAddress(a);
}

/** Docker-style MAC for an IPv4 endpoint: 02:42 followed by the four address bytes. */
export function macForIpv4(ip: number): string {
  const bytes = [0x02, 0x42, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
