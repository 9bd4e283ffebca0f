// A lint rule is data (id, description, docs link, severity, message function) plus the
// check that finds its cases. As in BuildKit's linter/ruleset.go, one rule per file.

import type { Instruction } from '../instructions.js';
import type { Dockerfile, Stage } from '../stages.js';

export type Severity = 'error' | 'warning' | 'info';

export interface LintFinding {
  rule: string;
  message: string;
  /** 1-based line of the instruction (0 when the finding concerns the whole file). */
  line: number;
  severity: Severity;
  url: string;
}

export interface LintContext {
  df: Dockerfile;
  /** Global ARG values from their defaults, plus predefined args (placeholder platform). */
  globals: ReadonlyMap<string, string>;
  /** Names of global ARGs (declared before the first FROM), with or without a value. */
  globalArgNames: ReadonlySet<string>;
  /** Returns true when `.dockerignore` excludes the context path; absent when unknown. */
  isIgnored?: (path: string) => boolean;
  /** Environment of a base image (`KEY=VALUE`), when the caller knows it. */
  baseImageEnv?: (ref: string) => readonly string[] | undefined;
}

export type Report = (line: number, ...args: string[]) => void;

export interface LintRule {
  id: string;
  description: string;
  url: string;
  severity: Severity;
  message: (...args: string[]) => string;
  check: (ctx: LintContext, report: Report) => void;
}

const BUILDKIT_DOCS = 'https://docs.docker.com/go/dockerfile/rule/';

/** Docs link of a BuildKit check, e.g. `stage-name-casing`. */
export function buildkitUrl(slug: string): string {
  return `${BUILDKIT_DOCS}${slug}/`;
}

/** Docs link of a berth check (documented in docs/dockerfile.md). */
export function berthUrl(id: string): string {
  return `docs/dockerfile.md#${id.toLowerCase()}`;
}

/** The stage whose image is the build result by default (the last one). */
export function finalStage(df: Dockerfile): Stage {
  return df.stages[df.stages.length - 1]!;
}

/** True when `name` names an earlier stage of `stage`'s Dockerfile. */
export function isStageRef(df: Dockerfile, stage: Stage, name: string): boolean {
  const lower = name.toLowerCase();
  return df.stages.some((s) => s.index < stage.index && s.name === lower);
}

/** Every instruction of every stage (not FROM, not global ARGs) of the given kind. */
export function* instructionsOf<K extends Instruction['kind']>(df: Dockerfile, kind: K): Generator<Extract<Instruction, { kind: K }>> {
  for (const s of df.stages) {
    for (const i of s.instructions) if (i.kind === kind) yield i as Extract<Instruction, { kind: K }>;
  }
}
