import type { Stage } from '../../stages.js';
import { berthUrl, finalStage, type LintRule } from '../rule.js';

/** The stage and the stages it is built FROM, nearest first. */
function chain(stages: readonly Stage[], s: Stage): Stage[] {
  const out = [s];
  for (let cur = s; ; ) {
    const parent = stages.find((p) => p.index < cur.index && p.name === cur.base.toLowerCase());
    if (!parent) return out;
    out.push(parent);
    cur = parent;
  }
}

export const missingHealthcheck: LintRule = {
  id: 'MissingHealthcheck',
  description: 'An image that serves on a port should say how to check that it is healthy',
  url: berthUrl('MissingHealthcheck'),
  severity: 'info',
  message: () => 'the image exposes a port but has no HEALTHCHECK: orchestrators cannot tell a hung service from a healthy one',
  check({ df }, report) {
    const s = finalStage(df);
    const all = chain(df.stages, s).flatMap((st) => st.instructions);
    const expose = all.find((i) => i.kind === 'expose');
    if (expose && !all.some((i) => i.kind === 'healthcheck')) report(expose.startLine);
  },
};
