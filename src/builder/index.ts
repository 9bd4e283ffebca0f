// Public surface of builder/ (STYLE.md §1).
export * from './dockerfile/index.js';
export * from './context/index.js';
export { BuildService, type BuildServiceOptions, type BuildPruneResult } from './build-service.js';
export type { BuildCacheUsage, BuildEvent, BuildOptions, BuildResult, SecretSource, StepRef } from './types.js';
export { unpackContext, type IntakeEntry, type IntakeResult } from './context-intake.js';
