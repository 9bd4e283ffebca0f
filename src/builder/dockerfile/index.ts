// Public surface of builder/dockerfile: Dockerfile text → AST → typed instructions →
// stages, variable expansion, and lint. Pure (no I/O), so `berth lint` can import it.

export { parseAst, type DockerfileAst, type InstructionNode, type ParseOptions, type ParseWarning, type Heredoc, type Directive } from './parser.js';
export { dumpAst, goQuote } from './dump.js';
export { parseCheckDirective, type DirectiveName } from './directives.js';
export { parseHeredoc, heredocsFromLine, chompHeredocContent } from './heredoc.js';
export * from './instructions.js';
export { parseRunMount, splitCsvFields } from './run-mount.js';
export { parseGoDuration, parseRamInBytes } from './units.js';
export {
  expandWord,
  expandWords,
  expandWordWithMatches,
  expandInstruction,
  resolveMetaArgs,
  predefinedArgs,
  proxyEnv,
  formatPlatform,
  PROXY_ARG_NAMES,
  StageScope,
  type EnvSource,
  type ExpandOptions,
  type ExpandResult,
  type Platform,
} from './expand.js';
export { ShellLexError, processWord, processWords, shellPatternToRegExp, type LexOptions, type ProcessResult } from './shell-lex.js';
export {
  parseDockerfile,
  parseOnbuildTrigger,
  stagesNeededFor,
  stageDependencies,
  findTargetStage,
  resolveBase,
  resolveFromRef,
  type Dockerfile,
  type Stage,
  type StageRef,
} from './stages.js';
export { lintDockerfile, runRules, lintContext, lintWith, formatFinding, type LintOptions, type LintResult } from './lint/lint.js';
export type { LintFinding, LintRule, LintContext, Severity } from './lint/rule.js';
export { ALL_RULES, BUILDKIT_RULES, BERTH_RULES } from './lint/rules/index.js';
// `.dockerignore` matching is pure too; re-exported so `berth lint` (which may import only this
// file) can feed CopyIgnoredFile.
export { DockerignoreMatcher, readDockerignore } from '../context/dockerignore.js';
// The context walk (I/O, but no daemon state): `berth build` packs its context with it and
// may import only this file of builder/ (layering rule for cli/).
export { walkContext, type ContextEntry } from '../context/walk.js';
export { loadDockerignore } from '../context/load.js';
