// The contract between the executor and one instruction kind: compute the step's cache
// inputs (cheap: digests, no side effects), and on a miss produce the new config and,
// optionally, a layer.
import type { Readable } from 'node:stream';
import type { ContainerConfig, ImageService } from '../../image/index.js';
import type { OneShotRunner } from '../../runtime/index.js';
import type { ChainId, Storage } from '../../storage/index.js';
import type { Digest } from '../../util/index.js';
import type { StepInputs } from '../cache-store.js';
import type { ContextFiles, IntakeEntry } from '../context-intake.js';
import type { BuildHolds } from '../build-holds.js';
import type { FileHasher } from '../file-hash.js';
import type { SecretSource } from '../types.js';

export interface BuilderDeps {
  images: Pick<ImageService, 'resolve' | 'commit' | 'tag' | 'remove' | 'list'>;
  storage: Storage;
  runner: OneShotRunner;
  hasher: FileHasher;
  /** Images of running builds, kept from prune and GC. */
  holds: BuildHolds;
  /** `<data-root>/builder`: mounts, cache mounts, temp contexts. */
  workRoot: string;
  /** `<exec-root>/builder`: secrets (tmpfs). */
  runRoot: string;
}

/** The image a stage has reached so far. */
export interface StageState {
  imageId: Digest | undefined;
  key: string;
  config: ContainerConfig;
  topChainId: ChainId | undefined;
  /** CMD was set in this stage (then a later ENTRYPOINT keeps it, as in Docker). */
  cmdSet?: boolean;
}

/** What a finished stage offers to COPY --from / FROM <stage>. */
export interface StageOutput extends StageState {
  name?: string | undefined;
}

export interface BuildContextView {
  /** Member bytes, and a directory tree on demand (bind mounts). */
  spool: ContextFiles;
  /** Members after .dockerignore, by clean relative path. */
  entries: Map<string, IntakeEntry>;
  /** Paths dropped by .dockerignore (to explain a missing COPY source). */
  ignored: Set<string>;
}

export interface StepContext {
  deps: BuilderDeps;
  context: BuildContextView;
  state: StageState;
  file: string;
  line: number;
  signal: AbortSignal;
  /** Variables for RUN: ARG values visible in the stage (ENV of the config wins). */
  argEnv: Map<string, string>;
  /** RUN's network when it names none: `bridge` = the default bridge, like `docker run`. */
  network: 'none' | 'host' | 'bridge';
  extraHosts: string[];
  secrets: SecretSource[];
  /** A finished earlier stage by name or index, or undefined when `from` names an image. */
  stageOutput(from: string): Promise<StageOutput | undefined>;
  log(data: string): void;
}

export interface StepResult {
  config: ContainerConfig;
  /** Layer tar; absent for metadata-only steps (history gets `empty_layer`). */
  layer?: Readable;
  /** Release mounts etc. after the layer was committed. */
  cleanup?: () => Promise<void>;
}

export interface StepPlan {
  inputs: StepInputs;
  createdBy: string;
  /** No image is committed (ARG): only the cache key moves on. */
  keyOnly?: boolean;
  /** The config after the step without running it (metadata steps, WORKDIR); RUN/COPY keep the config. */
  configAfter?: () => ContainerConfig;
  execute(): Promise<StepResult>;
}
