// Expands every stage once for the rules that need values (UndefinedVar, CopyIgnoredFile,
// EXPOSE checks …): instructions after expansion, the names each one left unresolved, and
// whether the stage's environment is fully known (rooted at scratch or a known image env).

import { SourceError } from '../../../util/index.js';
import { StageScope, expandWord } from '../expand.js';
import { ShellLexError } from '../shell-lex.js';
import type { Instruction } from '../instructions.js';
import type { Stage } from '../stages.js';
import type { LintContext } from './rule.js';

export interface ExpandedStage {
  stage: Stage;
  /** Same order as stage.instructions; the original instruction when expansion failed. */
  instructions: Instruction[];
  unmatched: Set<string>[];
  /** Names declared with ARG in this stage (they never count as undefined). */
  declaredArgs: Set<string>;
  /** Variables at the end of the stage. */
  env: Map<string, string>;
  envKnown: boolean;
  /** Index of the stage this one is based on, if any. */
  parent?: number;
}

const cache = new WeakMap<LintContext, ExpandedStage[]>();

export function expandedStages(ctx: LintContext): ExpandedStage[] {
  const hit = cache.get(ctx);
  if (hit) return hit;
  const out: ExpandedStage[] = [];
  const { df } = ctx;
  for (const stage of df.stages) {
    let base = stage.base;
    try {
      base = expandWord(stage.base, ctx.globals, { escapeToken: df.escapeToken });
    } catch (e) {
      // an unexpandable base is reported by the build; keep the raw text here
      if (!(e instanceof ShellLexError)) throw e;
    }
    const lower = base.toLowerCase();
    const parent = out.find((p) => p.stage.name === lower && p.stage.index < stage.index);
    let imageEnv: readonly string[] = [];
    let envKnown = lower === 'scratch';
    if (parent) {
      imageEnv = [...parent.env].map(([k, v]) => `${k}=${v}`);
      envKnown = parent.envKnown;
    } else if (!envKnown && ctx.baseImageEnv) {
      const e = ctx.baseImageEnv(base);
      if (e) {
        imageEnv = e;
        envKnown = true;
      }
    }
    const scope = new StageScope({ imageEnv, globals: ctx.globals, escapeToken: df.escapeToken, file: df.file });
    const instructions: Instruction[] = [];
    const unmatched: Set<string>[] = [];
    for (const ins of stage.instructions) {
      try {
        const r = scope.apply(ins);
        instructions.push(r.instruction);
        unmatched.push(r.unmatched);
      } catch (e) {
        if (!(e instanceof SourceError)) throw e;
        instructions.push(ins); // the build reports expansion errors; lint keeps going
        unmatched.push(new Set());
      }
    }
    out.push({
      stage,
      instructions,
      unmatched,
      declaredArgs: new Set(scope.declaredArgs.keys()),
      env: scope.env(),
      envKnown,
      ...(parent && { parent: parent.stage.index }),
    });
  }
  cache.set(ctx, out);
  return out;
}
