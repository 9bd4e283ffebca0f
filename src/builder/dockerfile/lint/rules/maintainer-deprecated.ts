import { buildkitUrl, instructionsOf, type LintRule } from '../rule.js';

export const maintainerDeprecated: LintRule = {
  id: 'MaintainerDeprecated',
  description: 'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
  url: buildkitUrl('maintainer-deprecated'),
  severity: 'warning',
  message: () => 'Maintainer instruction is deprecated in favor of using label',
  check({ df }, report) {
    for (const i of instructionsOf(df, 'maintainer')) report(i.startLine);
  },
};
