import { buildkitUrl, type LintRule } from '../rule.js';

export const consistentInstructionCasing: LintRule = {
  id: 'ConsistentInstructionCasing',
  description: 'All commands within the Dockerfile should use the same casing (either upper or lower)',
  url: buildkitUrl('consistent-instruction-casing'),
  severity: 'warning',
  message: (cmd, casing) => `Command '${cmd}' should match the case of the command majority (${casing})`,
  check({ df }, report) {
    const all = df.stages.flatMap((s) => [s.from, ...s.instructions]);
    let lower = 0;
    let upper = 0;
    for (const i of all) {
      if (i.keyword === i.keyword.toLowerCase()) lower++;
      else if (i.keyword === i.keyword.toUpperCase()) upper++;
    }
    const majorityLower = lower > upper;
    for (const i of all) {
      if (majorityLower && i.keyword !== i.keyword.toLowerCase()) report(i.startLine, i.keyword, 'lowercase');
      else if (!majorityLower && i.keyword !== i.keyword.toUpperCase()) report(i.startLine, i.keyword, 'uppercase');
    }
  },
};
