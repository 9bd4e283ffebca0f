import { matchCommand, runScript, splitCommands } from '../shell-commands.js';
import { berthUrl, instructionsOf, type LintRule } from '../rule.js';

export const cdInsteadOfWorkdir: LintRule = {
  id: 'CdInsteadOfWorkdir',
  description: 'Use WORKDIR to change directory instead of cd inside RUN',
  url: berthUrl('CdInsteadOfWorkdir'),
  severity: 'warning',
  message: (dir) => `"cd ${dir}" inside RUN only lasts for that RUN; use WORKDIR ${dir}`,
  check({ df }, report) {
    for (const i of instructionsOf(df, 'run')) {
      const cd = i.prependShell ? splitCommands(runScript(i)).find((c) => matchCommand(c, 'cd')) : undefined;
      if (cd) report(i.startLine, cd[1] ?? '~');
    }
  },
};
