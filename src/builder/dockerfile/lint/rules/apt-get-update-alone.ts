import { hasCommand, runScript, splitCommands } from '../shell-commands.js';
import { berthUrl, type LintRule } from '../rule.js';

const APT = /^apt(?:-get)?$/;

export const aptGetUpdateAlone: LintRule = {
  id: 'AptGetUpdateAlone',
  description: 'apt-get update in its own RUN is cached on its own and goes stale; combine it with apt-get install',
  url: berthUrl('AptGetUpdateAlone'),
  severity: 'warning',
  message: () => 'apt-get update without apt-get install in the same RUN: the cached index goes stale and later installs fail or get old packages',
  check({ df }, report) {
    for (const s of df.stages) {
      for (const i of s.instructions) {
        if (i.kind !== 'run') continue;
        const cmds = splitCommands(runScript(i));
        if (!hasCommand(cmds, APT, 'update')) continue;
        if (hasCommand(cmds, APT, /^(?:install|upgrade|dist-upgrade|full-upgrade|build-dep)$/)) continue;
        report(i.startLine);
      }
    }
  },
};
