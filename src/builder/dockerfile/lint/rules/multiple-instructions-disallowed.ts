import { buildkitUrl, type LintRule } from '../rule.js';

export const multipleInstructionsDisallowed: LintRule = {
  id: 'MultipleInstructionsDisallowed',
  description: 'Multiple instructions of the same type should not be used in the same stage',
  url: buildkitUrl('multiple-instructions-disallowed'),
  severity: 'warning',
  message: (name) => `Multiple ${name} instructions should not be used in the same stage because only the last one will be used`,
  check({ df }, report) {
    for (const s of df.stages) {
      const last = new Map<string, number>();
      for (const i of s.instructions) {
        if (i.kind !== 'cmd' && i.kind !== 'entrypoint' && i.kind !== 'healthcheck') continue;
        const prev = last.get(i.kind);
        // like BuildKit, the finding points at the instruction that is overridden
        if (prev !== undefined) report(prev, i.keyword);
        last.set(i.kind, i.startLine);
      }
    }
  },
};
