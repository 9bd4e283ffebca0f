// What a build is asked to do and what it reports while it runs. Protocol-agnostic: the API
// route turns events into the legacy `docker build` JSON stream or berth's own.
import type { Digest } from '../util/index.js';

export interface SecretSource {
  id: string;
  /** A file on the daemon's host (berth build sends absolute paths over the local socket). */
  src?: string;
  /** Secret value given inline by the API caller (never written to disk outside tmpfs). */
  value?: Buffer;
}

export interface BuildOptions {
  /** Path of the Dockerfile inside the context. */
  dockerfile: string;
  /**
   * An absolute directory on the daemon's host to read as the context instead of the request's
   * tar (`berth build` over the local socket); `.dockerignore` is applied by the daemon.
   */
  localContext?: string | undefined;
  /** `name[:tag]` references to tag the result with. */
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  target?: string | undefined;
  noCache: boolean;
  /** Always re-resolve base images (no registry yet: only fails when an image is missing). */
  pull: boolean;
  /** Local images whose history may satisfy cache lookups. */
  cacheFrom: string[];
  /** RUN network: `default` (the default bridge, as `docker run`), `none`, `host`. */
  network: 'default' | 'none' | 'host';
  secrets: SecretSource[];
  /**
   * Target platform(s): `linux/arm64`, or a comma list (`linux/amd64,linux/arm64`) whose images
   * are stored as one index under the tags; the host's when absent.
   */
  platform?: string | undefined;
  extraHosts: string[];
  /** Parallel stages (default 3). */
  maxParallelStages?: number;
}

/** One step as it is numbered in the legacy output (`Step 3/9`) and BuildKit's (`#5`). */
export interface StepRef {
  /** 1-based over every instruction of the needed stages, FROM included. */
  step: number;
  total: number;
  /** Stage position among the needed stages (1-based), their count, and its name. */
  stage: number;
  stageCount: number;
  stageName?: string | undefined;
  /** `FROM busybox`, `RUN echo hi` (as written, continuation lines joined). */
  text: string;
  line: number;
}

export type BuildEvent =
  | { type: 'step-start'; ref: StepRef }
  /** Cache hit; `imageId` is the cached result. */
  | { type: 'step-cached'; ref: StepRef; imageId: Digest }
  /** Cache miss, with the reason (which file, which arg, which base changed). */
  | { type: 'step-miss'; ref: StepRef; reason: string }
  | { type: 'step-log'; ref: StepRef; data: string }
  | { type: 'step-done'; ref: StepRef; imageId: Digest | undefined; cached: boolean; durationMs: number }
  | { type: 'step-error'; ref: StepRef; message: string }
  | { type: 'warning'; message: string }
  | { type: 'context'; bytes: number; files: number; durationMs: number };

export interface BuildResult {
  imageId: Digest;
  tags: string[];
  /** Steps served from the cache / executed. */
  cached: number;
  executed: number;
}

/** One build cache entry for `system df`. */
export interface BuildCacheUsage {
  key: string;
  parentKey: string;
  description: string;
  size: number;
  createdAt: string;
  lastUsedAt: string;
  usageCount: number;
}
