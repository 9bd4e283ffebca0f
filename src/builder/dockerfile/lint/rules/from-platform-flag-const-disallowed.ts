import { buildkitUrl, type LintRule } from '../rule.js';

export const fromPlatformFlagConstDisallowed: LintRule = {
  id: 'FromPlatformFlagConstDisallowed',
  description: 'FROM --platform flag should not use a constant value',
  url: buildkitUrl('from-platform-flag-const-disallowed'),
  severity: 'warning',
  message: (p) => `FROM --platform flag should not use constant value ${JSON.stringify(p)}`,
  check({ df }, report) {
    for (const s of df.stages) {
      const p = s.platform;
      if (!p || p.includes('$')) continue;
      const [os, arch] = p.toLowerCase().split('/');
      if (!os || !/^[a-z0-9_.-]+$/.test(os)) continue;
      const name = s.name ?? '';
      if (name.includes(os) || (arch !== undefined && name.includes(arch))) continue;
      report(s.from.startLine, p);
    }
  },
};
