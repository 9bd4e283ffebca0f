// Platform strings (`linux/amd64`, `linux/arm/v7`) and picking a manifest from an index.
import { arch as nodeArch } from 'node:process';
import { invalidArgument, notFound } from '../util/index.js';
import type { Descriptor, Platform } from './schemas.js';

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  x64: 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
  ia32: '386',
};

function normalizeArch(arch: string, variant: string | undefined): { architecture: string; variant: string | undefined } {
  const a = ARCH_ALIASES[arch.toLowerCase()] ?? arch.toLowerCase();
  if (arch === 'armhf') return { architecture: 'arm', variant: variant ?? 'v7' };
  if (arch === 'armel') return { architecture: 'arm', variant: variant ?? 'v6' };
  if (a === 'arm64' && variant === 'v8') return { architecture: a, variant: undefined };
  if (a === 'amd64' && variant === 'v1') return { architecture: a, variant: undefined };
  return { architecture: a, variant };
}

export function normalizePlatform(p: Platform): Platform {
  const { architecture, variant } = normalizeArch(p.architecture, p.variant);
  const out: Platform = { os: p.os.toLowerCase(), architecture };
  if (variant) out.variant = variant;
  if (p['os.version']) out['os.version'] = p['os.version'];
  return out;
}

/** The platform berthd runs on. */
export function hostPlatform(): Platform {
  return normalizePlatform({ os: 'linux', architecture: nodeArch, variant: nodeArch === 'arm' ? 'v7' : undefined });
}

/** Parses `os[/arch[/variant]]`; an empty string means the host platform. */
export function parsePlatform(s: string): Platform {
  if (s === '') return hostPlatform();
  const parts = s.split('/');
  if (parts.length > 3 || parts.some((p) => p === '' || !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw invalidArgument(`invalid platform "${s}": expected os[/arch[/variant]]`);
  }
  const [os, arch, variant] = parts as [string, string | undefined, string | undefined];
  if (arch === undefined) {
    // docker accepts a bare os or a bare arch.
    if (os.toLowerCase() === 'linux') return hostPlatform();
    return normalizePlatform({ os: 'linux', architecture: os });
  }
  return normalizePlatform({ os, architecture: arch, variant });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** True when an image of platform `have` runs on `want` (variant: exact when both set; arm64 accepts none). */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  if (w.variant && h.variant && w.variant !== h.variant) return false;
  return true;
}

/**
 * Picks the manifest for `want` from an index's descriptors: an exact variant match first, then
 * any compatible one; descriptors without a platform match only when nothing else does.
 */
export function selectManifest(manifests: readonly Descriptor[], want: Platform = hostPlatform()): Descriptor {
  const w = normalizePlatform(want);
  const withPlatform = manifests.filter((m) => m.platform);
  const exact = withPlatform.find((m) => {
    const h = normalizePlatform(m.platform!);
    return h.os === w.os && h.architecture === w.architecture && (h.variant ?? '') === (w.variant ?? '');
  });
  if (exact) return exact;
  const compatible = withPlatform.find((m) => platformMatches(w, m.platform!));
  if (compatible) return compatible;
  const untyped = manifests.find((m) => !m.platform);
  if (untyped) return untyped;
  throw notFound(`no matching manifest for ${formatPlatform(w)} in the manifest list entries`);
}
