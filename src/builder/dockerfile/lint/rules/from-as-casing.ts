import { buildkitUrl, type LintRule } from '../rule.js';

export const fromAsCasing: LintRule = {
  id: 'FromAsCasing',
  description: "The 'as' keyword should match the case of the 'from' keyword",
  url: buildkitUrl('from-as-casing'),
  severity: 'warning',
  message: (from, as) => `'${as}' and '${from}' keywords' casing do not match`,
  check({ df }, report) {
    for (const s of df.stages) {
      const { keyword, asKeyword } = s.from;
      if (asKeyword === undefined) continue;
      const lower = keyword === keyword.toLowerCase();
      const upper = keyword === keyword.toUpperCase();
      if (!lower && !upper) continue; // mixed FROM casing is ConsistentInstructionCasing's business
      const ok = lower ? asKeyword === asKeyword.toLowerCase() : asKeyword === asKeyword.toUpperCase();
      if (!ok) report(s.from.startLine, keyword, asKeyword);
    }
  },
};
