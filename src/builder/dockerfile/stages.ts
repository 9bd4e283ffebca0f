// Dockerfile text → stages: global ARGs, one Stage per FROM with its typed instructions,
// and the subset of stages a target needs (FROM <stage>, COPY --from, RUN --mount from=).

import { invalidArgument, SourceError } from '../../util/index.js';
import { parseInstruction, type ArgInstruction, type FromInstruction, type Instruction } from './instructions.js';
import { parseAst, type Directive, type DockerfileAst, type ParseWarning } from './parser.js';
import { expandWord, resolveMetaArgs, type EnvSource } from './expand.js';
import { processWord, ShellLexError } from './shell-lex.js';
import { withSuggestion } from './suggest.js';

export interface Stage {
  /** Lower-cased `AS` name, if any. */
  name?: string;
  index: number;
  /** Base image or stage reference as written (unexpanded). */
  base: string;
  /** `--platform` as written. */
  platform?: string;
  from: FromInstruction;
  /** Instructions after FROM. */
  instructions: Instruction[];
}

export interface Dockerfile {
  file: string;
  directives: Directive[];
  escapeToken: '\\' | '`';
  warnings: ParseWarning[];
  /** ARG instructions before the first FROM. */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  ast: DockerfileAst;
}

/** Parses a whole Dockerfile into stages. Throws SourceError on the first problem. */
export function parseDockerfile(text: string, opts: { file?: string } = {}): Dockerfile {
  const file = opts.file ?? 'Dockerfile';
  const ast = parseAst(text, { file });
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const node of ast.children) {
    const ins = parseInstruction(node, file);
    if (ins.kind === 'from') {
      stages.push({
        ...(ins.stageName !== undefined && { name: ins.stageName }),
        index: stages.length,
        base: ins.image,
        ...(ins.platform !== undefined && { platform: ins.platform }),
        from: ins,
        instructions: [],
      });
      continue;
    }
    const cur = stages[stages.length - 1];
    if (!cur) {
      if (ins.kind === 'arg') {
        metaArgs.push(ins);
        continue;
      }
      throw new SourceError(file, node.startLine, 'no build stage in current context');
    }
    cur.instructions.push(ins);
  }
  if (stages.length === 0) throw new SourceError(file, ast.endLine, 'dockerfile contains no stages to build');
  return { file, directives: ast.directives, escapeToken: ast.escapeToken, warnings: ast.warnings, metaArgs, stages, ast };
}

/** The stage `target` names (case-insensitive), or the last stage. */
export function findTargetStage(df: Dockerfile, target?: string): Stage {
  if (!target) return df.stages[df.stages.length - 1]!;
  const t = target.toLowerCase();
  const s = df.stages.find((st) => st.name === t);
  if (!s) {
    const names = df.stages.flatMap((st) => (st.name ? [st.name] : []));
    throw invalidArgument(withSuggestion(`target stage ${JSON.stringify(target)} could not be found`, target, names, true));
  }
  return s;
}

export type StageRef = { kind: 'stage'; stage: Stage } | { kind: 'image'; ref: string };

/** Resolves a FROM base (after expansion with the global ARGs) to an earlier stage or an image. */
export function resolveBase(df: Dockerfile, stage: Stage, globals: EnvSource): StageRef {
  let name: string;
  try {
    name = expandWord(stage.base, globals, { escapeToken: df.escapeToken });
  } catch (e) {
    if (e instanceof ShellLexError) throw new SourceError(df.file, stage.from.startLine, e.message, { cause: e });
    throw e;
  }
  if (name === '') throw new SourceError(df.file, stage.from.startLine, `base name (${stage.base}) should not be blank`);
  const lower = name.toLowerCase();
  for (let i = 0; i < stage.index; i++) {
    if (df.stages[i]!.name === lower) return { kind: 'stage', stage: df.stages[i]! };
  }
  return { kind: 'image', ref: name };
}

/** Resolves `COPY --from` / `--mount from=`: a stage name, a stage index, or an image. */
export function resolveFromRef(df: Dockerfile, current: Stage, from: string, line: number): StageRef {
  if (processWord(from, new Map()).result !== from) {
    throw new SourceError(df.file, line, 'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
  }
  if (/^\d+$/.test(from)) {
    const idx = Number.parseInt(from, 10);
    if (idx >= df.stages.length) throw new SourceError(df.file, line, `invalid stage index ${idx}`);
    const s = df.stages[idx]!;
    if (s.index >= current.index) {
      throw new SourceError(df.file, line, `cannot copy from stage ${JSON.stringify(from)}, it needs to be defined before current stage ${JSON.stringify(current.name ?? String(current.index))}`);
    }
    return { kind: 'stage', stage: s };
  }
  const lower = from.toLowerCase();
  const s = df.stages.find((st) => st.name === lower);
  if (s) {
    if (s.index >= current.index) {
      throw new SourceError(df.file, line, `cannot copy from stage ${JSON.stringify(from)}, it needs to be defined before current stage ${JSON.stringify(current.name ?? String(current.index))}`);
    }
    return { kind: 'stage', stage: s };
  }
  return { kind: 'image', ref: from };
}

function mountFromValues(ins: Instruction): string[] {
  if (ins.kind !== 'run') return [];
  const out: string[] = [];
  for (const spec of ins.mountSpecs) {
    for (const field of spec.split(',')) {
      const eq = field.indexOf('=');
      if (eq > 0 && field.slice(0, eq).toLowerCase() === 'from' && field.length > eq + 1) out.push(field.slice(eq + 1));
    }
  }
  return out;
}

/** Direct dependencies of a stage: its base stage and stages it copies or mounts from. */
export function stageDependencies(df: Dockerfile, stage: Stage, globals: EnvSource = new Map()): Stage[] {
  const deps = new Map<number, Stage>();
  const base = resolveBase(df, stage, globals);
  if (base.kind === 'stage') deps.set(base.stage.index, base.stage);
  for (const ins of stage.instructions) {
    const refs = ins.kind === 'copy' && ins.from ? [ins.from] : mountFromValues(ins);
    for (const r of refs) {
      const res = resolveFromRef(df, stage, r, ins.startLine);
      if (res.kind === 'stage') deps.set(res.stage.index, res.stage);
    }
  }
  return [...deps.values()].sort((a, b) => a.index - b.index);
}

/**
 * The stages needed to build `target` (default: the last stage), in Dockerfile order. Stages
 * that the target does not reach through FROM, COPY --from or RUN --mount from= are dropped.
 * `buildArgs` take part in resolving `FROM ${BASE}` against stage names.
 */
export function stagesNeededFor(df: Dockerfile, target?: string, opts: { buildArgs?: Readonly<Record<string, string>>; globals?: EnvSource } = {}): Stage[] {
  const globals = opts.globals ?? resolveMetaArgs(df.metaArgs, opts.buildArgs ?? {}, new Map(), { escapeToken: df.escapeToken, file: df.file });
  const start = findTargetStage(df, target);
  const needed = new Set<number>();
  const stack = [start];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (needed.has(s.index)) continue;
    needed.add(s.index);
    for (const d of stageDependencies(df, s, globals)) stack.push(d);
  }
  return df.stages.filter((s) => needed.has(s.index));
}

/**
 * Parses an ONBUILD trigger stored in a base image's config (`RUN echo hi`, possibly with
 * heredoc bodies) into the instruction to run at the start of the child stage.
 */
export function parseOnbuildTrigger(expression: string, opts: { file?: string } = {}): Instruction {
  const file = opts.file ?? 'Dockerfile';
  const ast = parseAst(expression, { file });
  if (ast.children.length !== 1) throw new SourceError(file, 1, 'onbuild trigger should be a single expression');
  const ins = parseInstruction(ast.children[0]!, file);
  if (ins.kind === 'from' || ins.kind === 'onbuild' || ins.kind === 'maintainer') {
    throw new SourceError(file, 1, `${ins.kind.toUpperCase()} isn't allowed as an ONBUILD trigger`);
  }
  return ins;
}
