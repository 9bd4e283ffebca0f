// Can this machine run binaries of a platform? Asked by container create and by the builder's
// RUN. The host's, or any platform for which binfmt_misc has an enabled entry whose magic/mask matches that architecture's ELF header,
// whose interpreter exists, and that has the F flag (the kernel opens the interpreter at
// registration, so it works inside a container's mount namespace, where the path is absent).
// `scripts/setup` registers qemu-user-static that way.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hostPlatform, type Platform } from '../image/index.js';
import { BerthError } from '../util/index.js';

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

/** One binfmt_misc entry as `/proc/sys/fs/binfmt_misc/<name>` shows it. */
export interface BinfmtEntry {
  name: string;
  enabled: boolean;
  interpreter: string;
  flags: string;
  offset: number;
  /** Present for magic entries (`M`), absent for extension entries (`E`). */
  magic?: Buffer | undefined;
  mask?: Buffer | undefined;
}

/** ELF class, byte order and e_machine of the architectures qemu-user emulates for containers. */
const ELF_MACHINES: Record<string, { bits: 32 | 64; bigEndian: boolean; machine: number }> = {
  amd64: { bits: 64, bigEndian: false, machine: 0x3e },
  '386': { bits: 32, bigEndian: false, machine: 0x03 },
  arm64: { bits: 64, bigEndian: false, machine: 0xb7 },
  arm: { bits: 32, bigEndian: false, machine: 0x28 },
  riscv64: { bits: 64, bigEndian: false, machine: 0xf3 },
  ppc64le: { bits: 64, bigEndian: false, machine: 0x15 },
  s390x: { bits: 64, bigEndian: true, machine: 0x16 },
  mips64le: { bits: 64, bigEndian: false, machine: 0x08 },
};

/** Parses the text of a binfmt_misc entry file; undefined for text that is not one. */
export function parseBinfmtEntry(name: string, text: string): BinfmtEntry | undefined {
  const lines = text.split('\n').map((l) => l.trim());
  const enabled = lines[0] === 'enabled';
  if (!enabled && lines[0] !== 'disabled') return undefined;
  const field = (key: string) => {
    const l = lines.find((x) => x.startsWith(key));
    return l === undefined ? undefined : l.slice(key.length).trim();
  };
  const interpreter = field('interpreter ');
  if (interpreter === undefined) return undefined;
  const hex = (s: string | undefined) => (s !== undefined && /^([0-9a-f]{2})*$/i.test(s) ? Buffer.from(s, 'hex') : undefined);
  return {
    name,
    enabled,
    interpreter,
    flags: field('flags:') ?? '',
    offset: Number.parseInt(field('offset ') ?? '0', 10) || 0,
    magic: hex(field('magic ')),
    mask: hex(field('mask ')),
  };
}

/** The first 20 bytes of an executable ELF file of `architecture` (what binfmt magics match). */
export function elfHeaderFor(architecture: string): Buffer | undefined {
  const m = ELF_MACHINES[architecture];
  if (!m) return undefined;
  const h = Buffer.alloc(20);
  h.set([0x7f, 0x45, 0x4c, 0x46, m.bits === 64 ? 2 : 1, m.bigEndian ? 2 : 1, 1], 0);
  // e_type ET_EXEC (2) and e_machine in the file's byte order.
  if (m.bigEndian) {
    h.writeUInt16BE(2, 16);
    h.writeUInt16BE(m.machine, 18);
  } else {
    h.writeUInt16LE(2, 16);
    h.writeUInt16LE(m.machine, 18);
  }
  return h;
}

/** True when the entry's magic (under its mask) matches `header` at its offset. */
export function entryMatches(entry: BinfmtEntry, header: Buffer): boolean {
  if (!entry.magic) return false;
  for (let i = 0; i < entry.magic.length; i++) {
    const b = header[entry.offset + i];
    if (b === undefined) return false;
    const mask = entry.mask?.[i] ?? 0xff;
    if ((b & mask) !== (entry.magic[i]! & mask)) return false;
  }
  return true;
}

export type EmulationStatus =
  | { ok: true; via: 'host' | string }
  | { ok: false; reason: string };

/** Whether binaries of `platform` run here, and through which binfmt entry. */
export async function emulationFor(platform: Platform, opts: { binfmtDir?: string; host?: Platform } = {}): Promise<EmulationStatus> {
  const host = opts.host ?? hostPlatform();
  // A config without os/architecture (some old images) is taken for the host's, as docker does.
  if (platform.os !== 'linux' && platform.os !== '') return { ok: false, reason: `${platform.os} binaries do not run on linux` };
  if (platform.architecture === host.architecture || platform.architecture === '') return { ok: true, via: 'host' };
  // 32-bit x86 runs natively on amd64 kernels.
  if (host.architecture === 'amd64' && platform.architecture === '386') return { ok: true, via: 'host' };
  // 32-bit arm usually does on arm64 (AArch32 compat; a CPU without it fails at exec, as under docker).
  if (host.architecture === 'arm64' && platform.architecture === 'arm') return { ok: true, via: 'host' };
  const header = elfHeaderFor(platform.architecture);
  if (!header) return { ok: false, reason: `no emulation is known for architecture ${platform.architecture}` };
  // BERTH_BINFMT_DIR lets a test point the daemon at a binfmt_misc without emulators.
  const dir = opts.binfmtDir ?? process.env['BERTH_BINFMT_DIR'] ?? BINFMT_DIR;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { ok: false, reason: `binfmt_misc is not mounted at ${dir}` };
  }
  const status = await readFile(join(dir, 'status'), 'utf8').catch(() => '');
  if (status.trim() === 'disabled') return { ok: false, reason: 'binfmt_misc is disabled' };
  let nearMiss: string | undefined;
  for (const name of names) {
    if (name === 'register' || name === 'status') continue;
    const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    const entry = text === undefined ? undefined : parseBinfmtEntry(name, text);
    if (!entry || !entryMatches(entry, header)) continue;
    if (!entry.enabled) {
      nearMiss = `binfmt_misc entry ${name} is disabled`;
      continue;
    }
    if (!entry.flags.includes('F')) {
      nearMiss = `binfmt_misc entry ${name} lacks the F flag (its interpreter is not found inside containers)`;
      continue;
    }
    if (!(await stat(entry.interpreter).then(() => true, () => false))) {
      nearMiss = `the interpreter ${entry.interpreter} of binfmt_misc entry ${name} is missing`;
      continue;
    }
    return { ok: true, via: name };
  }
  return { ok: false, reason: nearMiss ?? `no binfmt_misc entry runs ${platform.architecture} binaries` };
}

function platformText(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/**
 * Throws a one-line error naming the platform and the fix when binaries of `platform` cannot run
 * here (a RUN step, a container's process: the kernel only reports "exec format error").
 * Resolves to how they run: `host`, or the binfmt_misc entry that emulates them.
 */
export async function assertCanRun(platform: Platform, opts: { binfmtDir?: string; host?: Platform; subject?: string } = {}): Promise<string> {
  const s = await emulationFor(platform, opts);
  if (s.ok) return s.via;
  const subject = opts.subject ? `${opts.subject}: ` : '';
  throw new BerthError(
    'unavailable',
    `${subject}cannot run ${platformText(platform)} binaries on this ${platformText(opts.host ?? hostPlatform())} host: ${s.reason} (exec format error); install qemu-user-static and register it with binfmt_misc with the F flag (berth's scripts/setup does both)`,
  );
}
