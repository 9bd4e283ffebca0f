import { buildkitUrl, type LintRule } from '../rule.js';

export const noEmptyContinuation: LintRule = {
  id: 'NoEmptyContinuation',
  description: 'Empty continuation lines will become errors in a future release',
  url: buildkitUrl('no-empty-continuation'),
  severity: 'warning',
  message: () => 'Empty continuation line',
  check({ df }, report) {
    for (const w of df.warnings) if (w.url.includes('no-empty-continuation')) report(w.line);
  },
};
