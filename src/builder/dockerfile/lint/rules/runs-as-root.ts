import type { Stage } from '../../stages.js';
import { berthUrl, finalStage, type LintRule } from '../rule.js';

function isRoot(user: string): boolean {
  const name = user.split(':')[0]!.trim();
  return name === 'root' || name === '0';
}

/** The last USER of the stage, following `FROM <stage>` chains. */
function lastUser(stages: readonly Stage[], s: Stage): { user: string; line: number } | undefined {
  for (let k = s.instructions.length - 1; k >= 0; k--) {
    const i = s.instructions[k]!;
    if (i.kind === 'user') return { user: i.user, line: i.startLine };
  }
  const parent = stages.find((p) => p.index < s.index && p.name === s.base.toLowerCase());
  return parent ? lastUser(stages, parent) : undefined;
}

export const runsAsRoot: LintRule = {
  id: 'RunsAsRoot',
  description: 'The final image should switch to a non-root USER',
  url: berthUrl('RunsAsRoot'),
  severity: 'warning',
  message: (what) => `the image ${what}: add a non-root user and switch to it with USER before CMD/ENTRYPOINT`,
  check({ df }, report) {
    const s = finalStage(df);
    if (s.base.toLowerCase() === 'scratch' && s.instructions.every((i) => i.kind !== 'run')) return; // nothing to run as anyone
    const u = lastUser(df.stages, s);
    // images published to run unprivileged say so in their name (distroless ':nonroot', '-rootless')
    if (!u && /nonroot|rootless/i.test(s.base)) return;
    if (!u) report(s.from.startLine, 'runs as root (no USER instruction)');
    else if (isRoot(u.user)) report(u.line, `sets USER ${u.user}, so it runs as root`);
  },
};
