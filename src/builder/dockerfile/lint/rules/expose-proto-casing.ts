import { expandedStages } from '../stage-walk.js';
import { buildkitUrl, type LintRule } from '../rule.js';

export const exposeProtoCasing: LintRule = {
  id: 'ExposeProtoCasing',
  description: 'Protocol in EXPOSE instruction should be lowercase',
  url: buildkitUrl('expose-proto-casing'),
  severity: 'warning',
  message: (port) => `Defined protocol '${port}' in EXPOSE instruction should be lowercase`,
  check(ctx, report) {
    for (const es of expandedStages(ctx)) {
      for (const i of es.instructions) {
        if (i.kind !== 'expose') continue;
        for (const p of i.ports) {
          const slash = p.indexOf('/');
          const proto = slash < 0 ? '' : p.slice(slash + 1);
          if (proto !== proto.toLowerCase()) report(i.startLine, p);
        }
      }
    }
  },
};
