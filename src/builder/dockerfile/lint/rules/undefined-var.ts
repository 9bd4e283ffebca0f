import { suggest } from '../../suggest.js';
import { expandedStages } from '../stage-walk.js';
import { buildkitUrl, type LintRule } from '../rule.js';

/** Variables every Linux image or shell provides even when we cannot see the image config. */
const COMMON_ENV = new Set(['PATH', 'HOME', 'HOSTNAME', 'TERM', 'LANG', 'LC_ALL', 'USER', 'PWD', 'SHELL']);

export const undefinedVar: LintRule = {
  id: 'UndefinedVar',
  description: 'Variables should be defined before their use',
  url: buildkitUrl('undefined-var'),
  severity: 'warning',
  message: (name, hint) => `Usage of undefined variable '$${name}'${hint ? ` (did you mean $${hint}?)` : ''}`,
  check(ctx, report) {
    for (const es of expandedStages(ctx)) {
      es.instructions.forEach((ins, n) => {
        for (const name of es.unmatched[n]!) {
          if (es.declaredArgs.has(name)) continue;
          const known = [...es.env.keys()];
          const hint = suggest(name, known, true);
          // Without the base image's environment only likely typos are reported.
          if (!es.envKnown && (hint === undefined || COMMON_ENV.has(name))) continue;
          report(ins.startLine, name, hint ?? '');
        }
      });
    }
  },
};
