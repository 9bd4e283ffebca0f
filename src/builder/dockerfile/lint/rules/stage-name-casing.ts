import { buildkitUrl, type LintRule } from '../rule.js';

export const stageNameCasing: LintRule = {
  id: 'StageNameCasing',
  description: 'Stage names should be lowercase',
  url: buildkitUrl('stage-name-casing'),
  severity: 'warning',
  message: (name) => `Stage name '${name}' should be lowercase`,
  check({ df }, report) {
    for (const s of df.stages) {
      const n = s.from.stageNameAsWritten;
      if (n !== undefined && n !== n.toLowerCase()) report(s.from.startLine, n);
    }
  },
};
