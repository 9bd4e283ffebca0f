import { buildkitUrl, type LintRule } from '../rule.js';

export const maintainerDeprecated: LintRule = {
  id: 'MaintainerDeprecated',
  description: 'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
  url: buildkitUrl('maintainer-deprecated'),
  severity: 'warning',
  message: () => 'Maintainer instruction is deprecated in favor of using label',
  check({ df }, report) {
    for (const s of df.stages) for (const i of s.instructions) if (i.kind === 'maintainer') report(i.startLine);
  },
};
