import { hasCommand, runScript, splitCommands } from '../shell-commands.js';
import { berthUrl, instructionsOf, type LintRule } from '../rule.js';

const APT = /^apt(?:-get)?$/;

export const aptGetUpdateAlone: LintRule = {
  id: 'AptGetUpdateAlone',
  description: 'apt-get update in its own RUN is cached on its own and goes stale; combine it with apt-get install',
  url: berthUrl('AptGetUpdateAlone'),
  severity: 'warning',
  message: () => 'apt-get update without apt-get install in the same RUN: the cached index goes stale and later installs fail or get old packages',
  check({ df }, report) {
    for (const i of instructionsOf(df, 'run')) {
      const cmds = splitCommands(runScript(i));
      if (hasCommand(cmds, APT, 'update') && !hasCommand(cmds, APT, /^(?:install|upgrade|dist-upgrade|full-upgrade|build-dep)$/)) report(i.startLine);
    }
  },
};
