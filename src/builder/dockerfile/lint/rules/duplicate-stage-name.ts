import { buildkitUrl, type LintRule } from '../rule.js';

export const duplicateStageName: LintRule = {
  id: 'DuplicateStageName',
  description: 'Stage names should be unique',
  url: buildkitUrl('duplicate-stage-name'),
  severity: 'warning',
  message: (name) => `Duplicate stage name ${JSON.stringify(name)}, stage names should be unique`,
  check({ df }, report) {
    const seen = new Set<string>();
    for (const s of df.stages) {
      if (s.name === undefined) continue;
      if (seen.has(s.name)) report(s.from.startLine, s.name);
      seen.add(s.name);
    }
  },
};
