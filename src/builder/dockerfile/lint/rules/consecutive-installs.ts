import type { RunInstruction } from '../../instruction-types.js';
import { commandWords, runScript, splitCommands } from '../shell-commands.js';
import { berthUrl, type LintRule } from '../rule.js';

const INSTALL: [RegExp, RegExp][] = [
  [/^apt(?:-get)?$/, /^install$/],
  [/^apk$/, /^add$/],
  [/^(?:yum|dnf|microdnf|zypper)$/, /^install$/],
  [/^pip[0-9.]*$/, /^install$/],
  [/^(?:npm|pnpm)$/, /^(?:install|i|add)$/],
  [/^gem$/, /^install$/],
];

/** The package manager a RUN installs with (its first install command), if any. */
function installer(run: RunInstruction): string | undefined {
  for (const c of splitCommands(runScript(run))) {
    const w = commandWords(c);
    const tool = w[0]?.split('/').pop() ?? '';
    const sub = w.slice(1).find((x) => !x.startsWith('-'));
    for (const [t, s] of INSTALL) if (t.test(tool) && sub !== undefined && s.test(sub)) return t.source;
  }
  return undefined;
}

export const consecutiveInstalls: LintRule = {
  id: 'ConsecutiveInstalls',
  description: 'Install packages of one package manager in one RUN instead of one layer per RUN',
  url: berthUrl('ConsecutiveInstalls'),
  severity: 'info',
  message: (line) => `this RUN installs packages with the same package manager as the RUN on line ${line}: combine them into one RUN (one layer, one index update)`,
  check({ df }, report) {
    for (const s of df.stages) {
      let prev: { tool: string; line: number } | undefined;
      for (const i of s.instructions) {
        if (i.kind !== 'run') {
          prev = undefined;
          continue;
        }
        const tool = installer(i);
        if (tool !== undefined && prev?.tool === tool) report(i.startLine, String(prev.line));
        prev = tool === undefined ? undefined : { tool, line: i.startLine };
      }
    }
  },
};
