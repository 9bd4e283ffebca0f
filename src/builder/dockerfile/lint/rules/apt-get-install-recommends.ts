import { matchCommand, runScript, splitCommands } from '../shell-commands.js';
import { berthUrl, instructionsOf, type LintRule } from '../rule.js';

const APT = /^apt(?:-get)?$/;

export const aptGetInstallRecommends: LintRule = {
  id: 'AptGetInstallRecommends',
  description: 'apt-get install should use --no-install-recommends to keep the image small',
  url: berthUrl('AptGetInstallRecommends'),
  severity: 'warning',
  message: () => 'apt-get install without --no-install-recommends pulls in recommended packages the image does not need',
  check({ df }, report) {
    for (const i of instructionsOf(df, 'run')) {
      for (const c of splitCommands(runScript(i))) {
        if (!matchCommand(c, APT, 'install')) continue;
        if (c.some((w) => w === '--no-install-recommends' || /Install-Recommends[= ]*(?:false|0)/i.test(w))) continue;
        report(i.startLine);
      }
    }
  },
};
