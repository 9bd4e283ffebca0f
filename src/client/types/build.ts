// Wire types of POST /build (the legacy builder protocol the docker CLI speaks with
// DOCKER_BUILDKIT=0) and berth's own progress objects (`berthprogress=1`).

/** One line of the legacy build stream. */
export interface BuildStreamLine {
  stream?: string;
  aux?: { ID: string };
  errorDetail?: { message: string };
  error?: string;
  /** berth's structured progress (only with `berthprogress=1`). */
  berth?: BuildProgressWire;
}

export interface BuildStepRefWire {
  step: number;
  total: number;
  stage: number;
  stageCount: number;
  stageName?: string;
  text: string;
  line: number;
}

export type BuildProgressWire =
  | { type: 'step-start'; ref: BuildStepRefWire }
  | { type: 'step-cached'; ref: BuildStepRefWire; imageId: string }
  | { type: 'step-miss'; ref: BuildStepRefWire; reason: string }
  | { type: 'step-log'; ref: BuildStepRefWire; data: string }
  | { type: 'step-done'; ref: BuildStepRefWire; imageId?: string; cached: boolean; durationMs: number }
  | { type: 'step-error'; ref: BuildStepRefWire; message: string }
  | { type: 'warning'; message: string }
  | { type: 'context'; bytes: number; files: number; durationMs: number }
  | { type: 'result'; imageId: string; tags: string[]; cached: number; executed: number };

/** `berthsecrets` query value: secrets read by the daemon from its own filesystem. */
export interface BuildSecretWire {
  id: string;
  src: string;
}

export interface BuildPruneResponse {
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}
