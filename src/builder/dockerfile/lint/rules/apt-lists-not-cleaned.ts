import { hasCommand, runScript, splitCommands } from '../shell-commands.js';
import { berthUrl, instructionsOf, type LintRule } from '../rule.js';

const APT = /^apt(?:-get)?$/;

export const aptListsNotCleaned: LintRule = {
  id: 'AptListsNotCleaned',
  description: 'Remove /var/lib/apt/lists in the same RUN as apt-get install, or the package index stays in the layer',
  url: berthUrl('AptListsNotCleaned'),
  severity: 'warning',
  message: () => 'apt-get install without "rm -rf /var/lib/apt/lists/*" in the same RUN keeps the package lists in this layer',
  check({ df }, report) {
    for (const i of instructionsOf(df, 'run')) {
      const script = runScript(i);
      if (!hasCommand(splitCommands(script), APT, 'install') || script.includes('/var/lib/apt/lists')) continue;
      // a cache mount keeps the lists out of the layer anyway
      if (i.mountSpecs.some((m) => /type=cache/.test(m) && /\/var\/lib\/apt/.test(m))) continue;
      report(i.startLine);
    }
  },
};
