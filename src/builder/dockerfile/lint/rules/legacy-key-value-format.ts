import { buildkitUrl, type LintRule } from '../rule.js';

export const legacyKeyValueFormat: LintRule = {
  id: 'LegacyKeyValueFormat',
  description: 'Legacy key/value format with whitespace separator should not be used',
  url: buildkitUrl('legacy-key-value-format'),
  severity: 'warning',
  message: (cmd) => `"${cmd} key=value" should be used instead of legacy "${cmd} key value" format`,
  check({ df }, report) {
    for (const s of df.stages) {
      for (const i of s.instructions) {
        const kvs = i.kind === 'env' ? i.env : i.kind === 'label' ? i.labels : [];
        if (kvs.some((kv) => kv.noDelim)) report(i.startLine, i.keyword);
      }
    }
  },
};
