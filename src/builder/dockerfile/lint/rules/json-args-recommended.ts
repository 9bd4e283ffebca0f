import { buildkitUrl, type LintRule } from '../rule.js';

export const jsonArgsRecommended: LintRule = {
  id: 'JSONArgsRecommended',
  description: 'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals',
  url: buildkitUrl('json-args-recommended'),
  severity: 'warning',
  message: (name) => `JSON arguments recommended for ${name} to prevent unintended behavior related to OS signals`,
  check({ df }, report) {
    const customShell = new Set<number>();
    for (const s of df.stages) {
      const parent = df.stages.find((p) => p.index < s.index && p.name === s.base.toLowerCase());
      let shell = parent !== undefined && customShell.has(parent.index);
      for (const i of s.instructions) {
        if (i.kind === 'shell') shell = true;
        if ((i.kind === 'cmd' || i.kind === 'entrypoint') && i.prependShell && !shell) report(i.startLine, i.keyword);
      }
      if (shell) customShell.add(s.index);
    }
  },
};
