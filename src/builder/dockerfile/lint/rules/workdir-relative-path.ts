import { expandedStages } from '../stage-walk.js';
import { buildkitUrl, type LintRule } from '../rule.js';

export const workdirRelativePath: LintRule = {
  id: 'WorkdirRelativePath',
  description: 'Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes',
  url: buildkitUrl('workdir-relative-path'),
  severity: 'warning',
  message: (dir) => `Relative workdir ${JSON.stringify(dir)} can have unexpected results if the base image changes`,
  check(ctx, report) {
    const set = new Set<number>();
    for (const es of expandedStages(ctx)) {
      let done = es.parent !== undefined && set.has(es.parent);
      for (const i of es.instructions) {
        if (i.kind !== 'workdir' || done) continue;
        if (!i.path.startsWith('/')) report(i.startLine, i.path);
        done = true;
      }
      if (done) set.add(es.stage.index);
    }
  },
};
