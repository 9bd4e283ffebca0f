// `--platform linux/amd64,linux/arm64`: the list of target platforms of one build.
import { formatPlatform, hostPlatform, parsePlatform, type Platform } from '../image/index.js';
import { invalidArgument } from '../util/index.js';

/**
 * Parses a comma-separated platform list (`linux/amd64,linux/arm64/v8`); empty means the host.
 * Duplicates (after normalization: `linux/aarch64` is `linux/arm64`) are dropped, order kept.
 */
export function parsePlatformList(text: string | undefined): Platform[] {
  const parts = (text ?? '').split(',').map((s) => s.trim());
  if (parts.every((p) => p === '')) return [hostPlatform()];
  const out: Platform[] = [];
  const seen = new Set<string>();
  for (const p of parts) {
    if (p === '') throw invalidArgument(`invalid platform list "${text}": empty entry`);
    const platform = parsePlatform(p);
    const key = formatPlatform(platform);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(platform);
  }
  return out;
}

/** `linux/arm/v7` → `linux_arm_v7`: the per-platform directory of local and tar outputs (as buildx). */
export function platformDirName(p: Platform): string {
  return formatPlatform(p).replace(/\//g, '_');
}
