import { buildkitUrl, type LintRule } from '../rule.js';

const RESERVED = new Set(['context', 'scratch']);

export const reservedStageName: LintRule = {
  id: 'ReservedStageName',
  description: 'Reserved words should not be used as stage names',
  url: buildkitUrl('reserved-stage-name'),
  severity: 'warning',
  message: (name) => `Stage name should not use the same name as reserved stage ${JSON.stringify(name)}`,
  check({ df }, report) {
    for (const s of df.stages) if (s.name !== undefined && RESERVED.has(s.name)) report(s.from.startLine, s.name);
  },
};
