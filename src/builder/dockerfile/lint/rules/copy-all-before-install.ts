import type { Instruction } from '../../instructions.js';
import { matchCommand, runScript, splitCommands } from '../shell-commands.js';
import { berthUrl, type LintRule } from '../rule.js';

type Matcher = [string | RegExp, (string | RegExp)?];

/** Commands that install dependencies from manifest files. */
const INSTALLERS: Matcher[] = [
  [/^pip[0-9.]*$/, 'install'],
  [/^(?:npm|pnpm)$/, /^(?:install|i|ci)$/],
  ['yarn'],
  ['go', 'mod'],
  ['bundle', 'install'],
  ['composer', 'install'],
  ['poetry', 'install'],
  ['uv', /^(?:sync|pip)$/],
  ['pipenv', 'install'],
  ['cargo', 'fetch'],
  [/^(?:mvn|mvnw)$/, /^dependency:/],
  ['gem', 'install'],
];

function installsDependencies(i: Instruction): boolean {
  if (i.kind !== 'run') return false;
  return splitCommands(runScript(i)).some((c) => INSTALLERS.some(([tool, sub]) => matchCommand(c, tool, sub)));
}

function copiesWholeContext(i: Instruction): boolean {
  if ((i.kind !== 'copy' && i.kind !== 'add') || (i.kind === 'copy' && i.from)) return false;
  return i.sources.some((s) => s === '.' || s === './' || s === '*' || s === './*');
}

export const copyAllBeforeInstall: LintRule = {
  id: 'CopyAllBeforeInstall',
  description: 'Copy dependency manifests and install dependencies before copying the whole context, so code changes do not bust the install cache',
  url: berthUrl('CopyAllBeforeInstall'),
  severity: 'warning',
  message: (line) => `the whole build context is copied before the dependency install on line ${line}: any file change re-runs the install; copy the manifest files first`,
  check({ df }, report) {
    for (const s of df.stages) {
      let copyLine: number | undefined;
      let installedBefore = false;
      for (const i of s.instructions) {
        if (copyLine === undefined) {
          if (installsDependencies(i)) installedBefore = true;
          else if (copiesWholeContext(i) && !installedBefore) copyLine = i.startLine;
        } else if (installsDependencies(i)) {
          report(copyLine, String(i.startLine));
          break;
        }
      }
    }
  },
};
