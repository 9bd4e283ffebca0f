// Dockerfile stages → steps → images. Each step looks its cache key up in the index (a hit
// reuses the image it produced), otherwise runs and commits a new intermediate image, as the
// legacy builder does; every miss carries the reason. Stages run through runGraph.
import { pipeline, type Readable } from 'node:stream';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches, type ContainerConfig, type Platform } from '../image/index.js';
import { BerthError, errorKind, SourceError, type Digest } from '../util/index.js';
import { CacheFrom } from './cache-from.js';
import type { BuildCacheStore, StepInputs } from './cache-store.js';
import { cacheKey, explainMiss } from './cache-key.js';
import {
  PROXY_ARG_NAMES,
  expandWord,
  StageScope,
  parseOnbuildTrigger,
  predefinedArgs,
  resolveBase,
  resolveFromRef,
  resolveMetaArgs,
  stageDependencies,
  stagesNeededFor,
  type Dockerfile,
  type Instruction,
  type Stage,
} from './dockerfile/index.js';
import { runGraph } from './graph.js';
import { byteCounter } from './snapshot-work.js';
import { copyStep } from './steps/copy.js';
import { metadataStep } from './steps/metadata.js';
import { runStep } from './steps/run.js';
import type { BuildContextView, BuilderDeps, StageOutput, StageState, StepContext, StepPlan } from './steps/step.js';
import { workdirStep } from './steps/workdir.js';
import type { BuildEvent, BuildOptions, StepRef } from './types.js';
import type { BuildHold } from './build-holds.js';
import { assertCanRun } from '../runtime/index.js';
import { configPlatform, forPlatform } from './platforms.js';

const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ExecuteResult {
  imageId: Digest;
  cached: number;
  executed: number;
}

export class BuildExecutor {
  private cached = 0;
  private executed = 0;
  private readonly outputs = new Map<number, Promise<StageOutput>>();
  private readonly resolveOutput = new Map<number, (o: StageOutput) => void>();
  private readonly numbering = new Map<Instruction, number>();
  private total = 0;
  private cacheFrom: CacheFrom | undefined;
  private readonly deps: BuilderDeps;
  /** Images and layers this build needs are held from prune/GC until `releaseImages`. */
  private readonly hold: BuildHold;
  /** The one platform this executor builds for (build-service runs one executor per platform). */
  private readonly target: Platform;
  /** The platform each stage's RUN steps execute as (its base image's). */
  private readonly stagePlatforms = new Map<number, Platform>();

  constructor(
    deps: BuilderDeps,
    private readonly cache: BuildCacheStore,
    private readonly df: Dockerfile,
    private readonly context: BuildContextView,
    private readonly opts: BuildOptions,
    private readonly emit: (e: BuildEvent) => void,
  ) {
    this.hold = deps.holds.open();
    this.target = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    this.deps = { ...deps, images: holdingImages(forPlatform(deps.images, this.target), this.hold) };
  }

  /**
   * Lets prune/GC have this build's images again: call once the result is tagged. A failed
   * `run` releases them itself.
   */
  releaseImages(): void {
    this.hold.release();
  }

  async run(signal: AbortSignal): Promise<ExecuteResult> {
    try {
      return await this.runInner(signal);
    } catch (err) {
      this.hold.release();
      throw err;
    }
  }

  private async runInner(signal: AbortSignal): Promise<ExecuteResult> {
    const host = hostPlatform();
    const predefined = predefinedArgs({ buildPlatform: host, targetPlatform: this.target, ...(this.opts.target ? { target: this.opts.target } : {}), buildArgs: this.opts.buildArgs });
    const globals = resolveMetaArgs(this.df.metaArgs, this.opts.buildArgs, predefined, { escapeToken: this.df.escapeToken, file: this.df.file });
    const stages = stagesNeededFor(this.df, this.opts.target, { globals });
    this.warnUnusedArgs(stages);
    this.cacheFrom = await CacheFrom.open(this.opts.cacheFrom, this.deps.images, this.deps.storage, (message) => this.emit({ type: 'warning', message }), signal);
    let n = 0;
    for (const s of stages) {
      this.numbering.set(s.from, ++n);
      for (const i of s.instructions) this.numbering.set(i, ++n);
    }
    this.total = n + (Object.keys(this.opts.labels).length ? 1 : 0);
    for (const s of stages) {
      this.outputs.set(s.index, new Promise((r) => this.resolveOutput.set(s.index, r)));
      this.outputs.get(s.index)!.catch(() => undefined);
    }
    const nodes = stages.map((s) => ({ id: s.index, deps: stageDependencies(this.df, s, globals).map((d) => d.index) }));
    const results = await runGraph(nodes, this.opts.maxParallelStages ?? 3, (idx, sig) => this.runStage(stages, this.df.stages[idx]!, globals, sig), { signal });
    const last = stages[stages.length - 1]!;
    let final = results.get(last.index)!;
    // A stage from scratch is of its FROM's platform (`FROM --platform=linux/arm64 scratch`), as in BuildKit.
    const finalPlatform = this.stagePlatforms.get(last.index) ?? this.target;
    if (Object.keys(this.opts.labels).length) final = await this.labelStep(final, finalPlatform, signal);
    if (!final.imageId) final = await this.commitEmpty(final, finalPlatform, signal);
    return { imageId: final.imageId!, cached: this.cached, executed: this.executed };
  }

  private warnUnusedArgs(stages: Stage[]): void {
    const declared = new Set<string>([...PROXY_ARG_NAMES]);
    for (const a of this.df.metaArgs) for (const kv of a.args) declared.add(kv.key);
    for (const s of stages) for (const i of s.instructions) if (i.kind === 'arg') for (const kv of i.args) declared.add(kv.key);
    // BUILDKIT_* args are options to the builder itself (BUILDKIT_CONTEXT_KEEP_GIT_DIR), never ARGs.
    const unused = Object.keys(this.opts.buildArgs).filter((k) => !declared.has(k) && !k.startsWith('BUILDKIT_')).sort();
    if (unused.length) this.emit({ type: 'warning', message: `One or more build-args [${unused.join(' ')}] were not consumed` });
  }

  private ref(stages: Stage[], stage: Stage, ins: Instruction): StepRef {
    const pos = stages.indexOf(stage);
    return {
      step: this.numbering.get(ins) ?? 0,
      total: this.total,
      stage: pos + 1,
      stageCount: stages.length,
      stageName: stage.name,
      text: ins.original,
      line: ins.startLine,
    };
  }

  private async runStage(stages: Stage[], stage: Stage, globals: Map<string, string>, signal: AbortSignal): Promise<StageOutput> {
    try {
      const out = await this.runStageInner(stages, stage, globals, signal);
      this.resolveOutput.get(stage.index)!(out);
      return out;
    } catch (err) {
      throw err;
    }
  }

  private async baseState(stage: Stage, globals: Map<string, string>, signal: AbortSignal): Promise<{ state: StageState; onbuild: string[]; platform: Platform }> {
    const base = resolveBase(this.df, stage, globals);
    if (base.kind === 'stage') {
      const out = await this.outputs.get(base.stage.index)!;
      return { state: { ...out, config: structuredClone(out.config), cmdSet: false }, onbuild: [], platform: this.stagePlatforms.get(base.stage.index) ?? this.target };
    }
    // FROM --platform=$BUILDPLATFORM: the stage runs as that platform, not the target.
    const asked = stage.platform ? parsePlatform(expandWord(stage.platform, globals, { escapeToken: this.df.escapeToken })) : this.opts.platform ? this.target : undefined;
    const want = asked ?? this.target;
    if (base.ref === 'scratch') {
      // Cache keys of scratch stages carry the platform (a host build keeps the plain key).
      const key = platformMatches(hostPlatform(), want) ? 'scratch' : `scratch:${formatPlatform(want)}`;
      return { state: { imageId: undefined, key, config: { Env: [DEFAULT_PATH_ENV] }, topChainId: undefined }, onbuild: [], platform: want };
    }
    let img;
    try {
      img = await this.deps.images.resolve(base.ref, { signal, platform: formatPlatform(want) });
    } catch (err) {
      if (errorKind(err) !== 'not-found') throw err;
      // A multi-platform image without this platform: say so rather than "not found".
      const other = await this.deps.images.resolve(base.ref, { signal, platform: '' }).catch(() => undefined);
      if (other) {
        throw new SourceError(
          this.df.file,
          stage.from.startLine,
          `${stage.from.original}: base image "${base.ref}" has no ${formatPlatform(want)} variant: load or bootstrap an image with that platform`,
          { cause: err },
        );
      }
      throw new SourceError(this.df.file, stage.from.startLine, `${stage.from.original}: base image "${base.ref}" not found: pull it first (berth has no registry client yet)`, { cause: err });
    }
    const have = configPlatform(img.config);
    if (asked && have.architecture !== '' && !platformMatches(asked, have)) {
      throw new SourceError(
        this.df.file,
        stage.from.startLine,
        `${stage.from.original}: base image "${base.ref}" has no ${formatPlatform(asked)} variant (it is ${formatPlatform(have)}): load or bootstrap a multi-platform image`,
      );
    }
    const config: ContainerConfig = structuredClone(img.config.config ?? {});
    // As BuildKit's dockerfile2llb does for every stage: `ENV PATH=/x:$PATH` on a base without
    // PATH gives /x and the default PATH, and the image keeps a PATH.
    if (!(config.Env ?? []).some((e) => e.startsWith('PATH='))) config.Env = [...(config.Env ?? []), DEFAULT_PATH_ENV];
    const onbuild = config.OnBuild ?? [];
    config.OnBuild = [];
    return { state: { imageId: img.id, key: `image:${img.id}`, config, topChainId: img.topChainId }, onbuild, platform: have };
  }

  private async runStageInner(stages: Stage[], stage: Stage, globals: Map<string, string>, signal: AbortSignal): Promise<StageOutput> {
    const fromRef = this.ref(stages, stage, stage.from);
    this.emit({ type: 'step-start', ref: fromRef });
    const t0 = Date.now();
    const { state, onbuild, platform } = await this.baseState(stage, globals, signal);
    this.stagePlatforms.set(stage.index, platform);
    const baseId = state.imageId ?? state.key;
    this.emit({ type: 'step-done', ref: fromRef, imageId: state.imageId, cached: true, durationMs: Date.now() - t0 });
    const scope = new StageScope({ imageEnv: state.config.Env ?? [], globals, buildArgs: this.opts.buildArgs, escapeToken: this.df.escapeToken, file: this.df.file });
    const triggers = onbuild.map((t) => parseOnbuildTrigger(t, { file: this.df.file }));
    const all: Array<{ ins: Instruction; trigger: boolean }> = [...triggers.map((ins) => ({ ins, trigger: true })), ...stage.instructions.map((ins) => ({ ins, trigger: false }))];
    let parentMissed = false;
    let first = true;
    for (const { ins: raw, trigger } of all) {
      signal.throwIfAborted();
      const ref = trigger ? { ...fromRef, text: `ONBUILD ${raw.original}` } : this.ref(stages, stage, raw);
      if (!trigger) this.emit({ type: 'step-start', ref });
      const started = Date.now();
      try {
        const ins = scope.apply(raw).instruction;
        if (ins.kind === 'cmd') state.cmdSet = true;
        const ctx = this.stepContext(stages, stage, state, scope, raw.startLine, signal, ref);
        const plan = await this.plan(ins, ctx);
        if (first) plan.inputs.base = baseId;
        first = false;
        const key = cacheKey(state.key, plan.inputs);
        if (plan.keyOnly) {
          state.key = key;
          this.emit({ type: 'step-done', ref, imageId: state.imageId, cached: true, durationMs: Date.now() - started });
          continue;
        }
        const hit = this.opts.noCache ? undefined : await this.lookup(key, signal);
        if (hit) {
          this.cache.touch(key);
          state.imageId = hit.id;
          state.config = structuredClone(hit.config.config ?? {});
          state.topChainId = hit.topChainId;
          state.key = key;
          this.cached++;
          this.emit({ type: 'step-cached', ref, imageId: hit.id });
          this.emit({ type: 'step-done', ref, imageId: hit.id, cached: true, durationMs: Date.now() - started });
          continue;
        }
        const parentKey = state.key;
        const fromSource = this.opts.noCache ? undefined : await this.fromCacheSource(plan, state, platform, signal);
        if (!fromSource) {
          const reason = this.opts.noCache ? '--no-cache' : await explainMiss(this.cache, state.key, plan.inputs, parentMissed);
          parentMissed = true;
          this.emit({ type: 'step-miss', ref, reason });
        } else this.emit({ type: 'step-cached', ref, imageId: fromSource.id });
        if (!fromSource && raw.kind === 'run') await assertCanRun(platform);
        const { id, size } = fromSource ?? (await this.execute(plan, state, platform, signal));
        const img = await this.deps.images.resolve(id, { signal });
        state.imageId = id;
        state.config = structuredClone(img.config.config ?? {});
        state.topChainId = img.topChainId;
        state.key = key;
        await this.cache.put(key, { imageId: id, parentKey, size, inputs: plan.inputs });
        if (fromSource) this.cached++;
        else this.executed++;
        this.emit({ type: 'step-done', ref, imageId: id, cached: fromSource !== undefined, durationMs: Date.now() - started });
      } catch (err) {
        const msg = err instanceof SourceError || !(err instanceof Error) ? String((err as Error).message ?? err) : `${this.df.file}:${raw.startLine}: ${raw.original}: ${err.message}`;
        this.emit({ type: 'step-error', ref, message: msg });
        if (err instanceof SourceError) throw err;
        if (err instanceof Error && (err.name === 'AbortError' || errorKind(err) === 'cancelled')) throw err;
        throw new BerthError(errorKind(err), msg, { cause: err });
      }
    }
    await this.cache.flush();
    return { ...state, name: stage.name };
  }

  private stepContext(stages: Stage[], stage: Stage, state: StageState, scope: StageScope, line: number, signal: AbortSignal, ref: StepRef): StepContext {
    const argEnv = new Map<string, string>();
    const configKeys = new Set((state.config.Env ?? []).map((e) => e.split('=')[0]!));
    for (const [k, v] of scope.declaredArgs) if (v !== undefined && !configKeys.has(k)) argEnv.set(k, v);
    for (const k of PROXY_ARG_NAMES) if (this.opts.buildArgs[k] !== undefined) argEnv.set(k, this.opts.buildArgs[k]!);
    void stages;
    return {
      deps: this.deps,
      context: this.context,
      state,
      file: this.df.file,
      line,
      signal,
      argEnv,
      network: this.opts.network === 'default' ? 'bridge' : this.opts.network,
      extraHosts: this.opts.extraHosts,
      secrets: this.opts.secrets,
      stageOutput: async (from) => {
        const r = resolveFromRef(this.df, stage, from, line);
        if (r.kind === 'image') return undefined;
        const p = this.outputs.get(r.stage.index);
        if (!p) throw new SourceError(this.df.file, line, `stage "${from}" is not part of this build`);
        return p;
      },
      log: (data) => this.emit({ type: 'step-log', ref, data }),
    };
  }

  private async plan(ins: Instruction, ctx: StepContext): Promise<StepPlan> {
    switch (ins.kind) {
      case 'run':
        return runStep(ins, ctx);
      case 'copy':
      case 'add':
        return copyStep(ins, ctx);
      case 'workdir':
        return workdirStep(ins, ctx);
      case 'from':
        throw new SourceError(ctx.file, ctx.line, 'FROM inside a stage');
      default: {
        const p = metadataStep(ins, ctx);
        if (!p) throw new BerthError('not-implemented', `${ins.keyword} is not supported`);
        return p;
      }
    }
  }

  /** A cache hit only counts while the image it names still exists. */
  private async lookup(key: string, signal: AbortSignal) {
    const e = this.cache.get(key);
    if (!e) return undefined;
    try {
      return await this.deps.images.resolve(e.imageId, { signal });
    } catch (err) {
      if (errorKind(err) !== 'not-found') throw err;
      this.cache.delete(key);
      return undefined;
    }
  }

  /** A step satisfied by a --cache-from image: its layer and history entry, our config. */
  private async fromCacheSource(plan: StepPlan, state: StageState, platform: Platform, signal: AbortSignal): Promise<{ id: Digest; size: number } | undefined> {
    if (!this.cacheFrom || this.cacheFrom.isEmpty) return undefined;
    const hit = await this.cacheFrom.find(state.imageId, plan.createdBy, signal);
    if (!hit) return undefined;
    const config = plan.configAfter ? plan.configAfter() : state.config;
    const counter = hit.layer ? byteCounter() : undefined;
    const id = await this.deps.images.commit(
      { parent: state.imageId, ...stagePlatform(state, platform), layer: hit.layer && counter ? counted(hit.layer, counter) : undefined, config, createdBy: plan.createdBy },
      { signal },
    );
    return { id, size: counter?.bytes ?? 0 };
  }

  private async execute(plan: StepPlan, state: StageState, platform: Platform, signal: AbortSignal): Promise<{ id: Digest; size: number }> {
    const r = await plan.execute();
    try {
      const counter = r.layer ? byteCounter() : undefined;
      const id = await this.deps.images.commit(
        {
          parent: state.imageId,
          ...stagePlatform(state, platform),
          layer: r.layer && counter ? counted(r.layer, counter) : undefined,
          config: r.config,
          createdBy: plan.createdBy,
        },
        { signal },
      );
      return { id, size: counter?.bytes ?? 0 };
    } finally {
      await r.cleanup?.();
    }
  }

  private async labelStep(state: StageOutput, platform: Platform, signal: AbortSignal): Promise<StageOutput> {
    const labels = this.opts.labels;
    const text = 'LABEL ' + Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(' ');
    const ref: StepRef = { step: this.total, total: this.total, stage: 0, stageCount: 0, text, line: 0 };
    this.emit({ type: 'step-start', ref });
    const inputs: StepInputs = { instruction: text };
    const key = cacheKey(state.key, inputs);
    const hit = this.opts.noCache ? undefined : await this.lookup(key, signal);
    if (hit) {
      this.emit({ type: 'step-cached', ref, imageId: hit.id });
      this.emit({ type: 'step-done', ref, imageId: hit.id, cached: true, durationMs: 0 });
      return { ...state, imageId: hit.id, key };
    }
    const config = { ...state.config, Labels: { ...(state.config.Labels ?? {}), ...labels } };
    const id = await this.deps.images.commit({ parent: state.imageId, ...stagePlatform(state, platform), config, createdBy: text }, { signal });
    await this.cache.put(key, { imageId: id, parentKey: state.key, size: 0, inputs });
    this.emit({ type: 'step-done', ref, imageId: id, cached: false, durationMs: 0 });
    return { ...state, imageId: id, config, key };
  }

  /** `FROM scratch` alone: an image with no layers. */
  private async commitEmpty(state: StageOutput, platform: Platform, signal: AbortSignal): Promise<StageOutput> {
    const id = await this.deps.images.commit({ config: state.config, ...stagePlatform(state, platform), createdBy: 'FROM scratch' }, { signal });
    return { ...state, imageId: id };
  }
}

/**
 * `layer` through the byte counter on its way to commit. Not `pipe()`: a layer that fails
 * (its tar killed when the build is cancelled mid-commit) must fail the commit, not go
 * unhandled and take the daemon down; a commit that gives up stops the layer.
 */
export function counted(layer: Readable, counter: ReturnType<typeof byteCounter>): Readable {
  return pipeline(layer, counter, () => undefined);
}

/**
 * The platform of an image committed without a parent: its stage's (the FROM's `--platform`,
 * else the target). An image with a parent inherits the parent's.
 */
function stagePlatform(state: StageState, platform: Platform): { platform?: string } {
  return state.imageId ? {} : { platform: formatPlatform(platform) };
}

/** The image service as a build sees it: every image it resolves or commits is held. */
function holdingImages(images: BuilderDeps['images'], hold: BuildHold): BuilderDeps['images'] {
  return {
    tag: (...a) => images.tag(...a),
    remove: (...a) => images.remove(...a),
    list: (...a) => images.list(...a),
    resolve: async (...a) => {
      const img = await images.resolve(...a);
      hold.keep(img);
      return img;
    },
    commit: async (...a) => {
      const id = await images.commit(...a);
      hold.keep({ id });
      return id;
    },
  };
}
