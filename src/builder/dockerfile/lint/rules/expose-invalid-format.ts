import { expandedStages } from '../stage-walk.js';
import { buildkitUrl, type LintRule } from '../rule.js';

export const exposeInvalidFormat: LintRule = {
  id: 'ExposeInvalidFormat',
  description: 'IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release',
  url: buildkitUrl('expose-invalid-format'),
  severity: 'warning',
  message: (port) => `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`,
  check(ctx, report) {
    for (const es of expandedStages(ctx)) {
      for (const i of es.instructions) if (i.kind === 'expose') for (const p of i.ports) if (p.includes(':')) report(i.startLine, p);
    }
  },
};
