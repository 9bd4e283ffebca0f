// Public surface of builder/context: `.dockerignore` matching and the build-context walk.
export { DockerignoreMatcher, readDockerignore, cleanPath, type IgnorePattern, type ParentMatchInfo } from './dockerignore.js';
export { walkContext, type ContextEntry, type WalkOptions } from './walk.js';
export { loadDockerignore, dockerignoreCandidates } from './load.js';
