// One build, several target platforms: the context is taken in and the Dockerfile parsed once
// (build-service), then one executor runs per platform, all at once (the first failure cancels
// the others); the images become one OCI index under each tag. A single platform (the host's
// or one `--platform`) is tagged directly, as docker build does.
import { BerthError, SourceError, errorKind, Semaphore, type Digest } from '../util/index.js';
import { formatPlatform, type ImageService, type Platform } from '../image/index.js';
import { parsePlatformList } from './platforms.js';
import type { BuildEvent, BuildOptions, BuildResult, StepRef } from './types.js';

/** What one platform's executor produced; `release` lets prune have its images again. */
export interface PlatformOutcome {
  imageId: Digest;
  cached: number;
  executed: number;
  release(): void;
}

export interface PlatformBuildHooks {
  /** Runs the executor for `opts` (whose `platform` is one platform, or absent for the host's). */
  runOne(opts: BuildOptions, onEvent: (e: BuildEvent) => void, signal: AbortSignal): Promise<PlatformOutcome>;
  /** Persists what must be on disk before the result is tagged (the cache index). */
  flush(): Promise<void>;
  images: Pick<ImageService, 'tag' | 'createIndex'>;
}

/** Platforms built at the same time; emulated RUN steps are CPU-bound, more would only queue. */
const MAX_PARALLEL_PLATFORMS = 4;

/** Step texts carry their platform when several are built at once, as BuildKit's `[linux/arm64 2/5]`. */
function labelled(e: BuildEvent, platform: Platform): BuildEvent {
  if (!('ref' in e)) return e;
  return { ...e, ref: { ...e.ref, text: `[${formatPlatform(platform)}] ${e.ref.text}` } };
}

/**
 * A failed platform's error in BuildKit's one-line form, naming the platform and the step:
 * `[linux/arm64 2/3] RUN false: process "/bin/sh -c false" did not complete successfully: exit code: 1`.
 * Cancellations pass unchanged.
 */
export function platformError(err: unknown, platform: Platform, failed: StepRef | undefined): unknown {
  if (!(err instanceof Error) || err.name === 'AbortError' || errorKind(err) === 'cancelled') return err;
  const where = failed ? ` ${failed.stageName ? `${failed.stageName} ` : ''}${failed.step}/${failed.total}` : '';
  const label = `[${formatPlatform(platform)}${where}]`;
  // A SourceError's detail starts with the instruction; other step errors carry `file:line: ` first.
  const detail = err instanceof SourceError ? err.detail : err.message.replace(/^[^\s:]+:\d+: /, '');
  return new BerthError(errorKind(err), `${label} ${detail}`, { cause: err });
}

export async function buildPlatforms(opts: BuildOptions, o: { signal: AbortSignal; onEvent: (e: BuildEvent) => void }, hooks: PlatformBuildHooks): Promise<BuildResult> {
  const platforms = opts.platform ? parsePlatformList(opts.platform) : undefined;
  if (!platforms || platforms.length === 1) {
    const one = platforms ? { ...opts, platform: formatPlatform(platforms[0]!) } : opts;
    const r = await hooks.runOne(one, o.onEvent, o.signal);
    try {
      await hooks.flush();
      for (const t of opts.tags) await hooks.images.tag(r.imageId, t);
    } finally {
      r.release(); // held from prune until tagged
    }
    return { imageId: r.imageId, tags: opts.tags, cached: r.cached, executed: r.executed };
  }
  const abort = new AbortController();
  const signal = AbortSignal.any([o.signal, abort.signal]);
  const slots = new Semaphore(MAX_PARALLEL_PLATFORMS);
  let failedPlatform: Platform | undefined;
  const settled = await Promise.allSettled(
    platforms.map((p) =>
      slots.run(async () => {
        let failedStep: StepRef | undefined;
        const onEvent = (e: BuildEvent) => {
          if (e.type === 'step-error') {
            failedStep ??= e.ref;
            // A step stopped because another platform failed was cancelled, not in error (BuildKit: CANCELED).
            if (failedPlatform && abort.signal.aborted) e = { ...e, message: `CANCELED: ${formatPlatform(failedPlatform)} failed` };
          }
          o.onEvent(labelled(e, p));
        };
        try {
          signal.throwIfAborted();
          return await hooks.runOne({ ...opts, platform: formatPlatform(p) }, onEvent, signal);
        } catch (raw) {
          const err = abort.signal.aborted ? raw : platformError(raw, p, failedStep);
          if (!abort.signal.aborted) {
            failedPlatform = p;
            abort.abort(err);
          }
          throw err;
        }
      }),
    ),
  );
  const done = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    // The first failure is the one to report (the others were cancelled because of it).
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw abort.signal.aborted ? abort.signal.reason : failed.reason;
    await hooks.flush();
    const index = await hooks.images.createIndex(
      done.map((r) => r.imageId),
      opts.tags,
      { signal: o.signal },
    );
    return {
      imageId: index,
      tags: opts.tags,
      cached: done.reduce((n, r) => n + r.cached, 0),
      executed: done.reduce((n, r) => n + r.executed, 0),
    };
  } finally {
    for (const r of done) r.release();
  }
}
