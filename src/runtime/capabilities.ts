// Linux capabilities: Docker's default set, the daemon's own bounding set (what
// `--privileged` may grant), and cap-add/cap-drop arithmetic with ALL.
import { readFile } from 'node:fs/promises';
import { invalidArgument } from '../util/index.js';

/** Capability names by bit number (linux/capability.h). */
export const CAPABILITY_BITS = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

/** Docker's default capabilities (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Parses the hex mask of /proc/<pid>/status `CapBnd:` into `CAP_*` names. */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt('0x' + hex.trim());
  const out: string[] = [];
  CAPABILITY_BITS.forEach((name, bit) => {
    if (mask & (1n << BigInt(bit))) out.push(`CAP_${name}`);
  });
  return out;
}

/** The daemon's own bounding set: `--privileged` grants exactly this (not a fixed list). */
export async function readBoundingSet(statusPath = '/proc/self/status'): Promise<string[]> {
  const text = await readFile(statusPath, 'utf8');
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(text);
  if (!m) return [...DEFAULT_CAPABILITIES];
  return capabilitiesFromMask(m[1]!);
}

/** "net_admin", "CAP_NET_ADMIN", "ALL" → canonical "CAP_NET_ADMIN" / "ALL". */
export function normalizeCapability(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const full = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!(CAPABILITY_BITS as readonly string[]).includes(full.slice(4))) {
    throw invalidArgument(`invalid capability "${name}": unknown capability`);
  }
  return full;
}

/**
 * Docker's order: start from the defaults (or everything for ALL in cap-add), add, then
 * drop (ALL in cap-drop removes everything except what cap-add names explicitly).
 * The result never exceeds the daemon's bounding set.
 */
export function computeCapabilities(opts: {
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  bounding: string[];
}): string[] {
  const bounding = new Set(opts.bounding);
  if (opts.privileged) return [...opts.bounding];
  const add = opts.capAdd.map(normalizeCapability);
  const drop = opts.capDrop.map(normalizeCapability);
  let caps: Set<string>;
  if (add.includes('ALL')) caps = new Set(opts.bounding);
  else caps = new Set(DEFAULT_CAPABILITIES);
  if (drop.includes('ALL')) caps = new Set();
  for (const c of add) if (c !== 'ALL') caps.add(c);
  for (const c of drop) if (c !== 'ALL' && !add.includes(c)) caps.delete(c);
  return [...caps].filter((c) => bounding.has(c)).sort(
    (a, b) => CAPABILITY_BITS.indexOf(a.slice(4) as never) - CAPABILITY_BITS.indexOf(b.slice(4) as never),
  );
}
