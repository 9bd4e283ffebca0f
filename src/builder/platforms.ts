// `--platform linux/amd64,linux/arm64`: the list of target platforms of one build.
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, type Platform } from '../image/index.js';
import { invalidArgument } from '../util/index.js';
import type { BuilderDeps } from './steps/step.js';

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

/**
 * The image service as one platform's build sees it: names that point to an index resolve to
 * that platform's image unless the caller asks for another, and images committed without a
 * parent (FROM scratch) get that platform.
 */
export function forPlatform(images: BuilderDeps['images'], platform: Platform): BuilderDeps['images'] {
  const p = formatPlatform(platform);
  return {
    tag: (...a) => images.tag(...a),
    remove: (...a) => images.remove(...a),
    list: (...a) => images.list(...a),
    // An empty platform asks for any stored one.
    resolve: (name, opts = {}) => images.resolve(name, { ...opts, platform: opts.platform ?? p }),
    commit: (args, opts) => images.commit(args.parent || args.platform ? args : { ...args, platform: p }, opts),
  };
}

/** The platform an image config declares. */
export function configPlatform(cfg: { os: string; architecture: string; variant?: string | undefined }): Platform {
  return normalizePlatform({ os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) });
}
