import { processWord, ShellLexError } from '../../shell-lex.js';
import { buildkitUrl, type LintRule } from '../rule.js';

export const redundantTargetPlatform: LintRule = {
  id: 'RedundantTargetPlatform',
  description: 'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
  url: buildkitUrl('redundant-target-platform'),
  severity: 'warning',
  message: (v) => `Setting platform to predefined ${v} in FROM is redundant as this is the default behavior`,
  check({ df, globals }, report) {
    for (const s of df.stages) {
      if (!s.platform) continue;
      try {
        const r = processWord(s.platform, globals, { escapeToken: df.escapeToken });
        if (r.matched.size === 1 && r.unmatched.size === 0 && r.matched.has('TARGETPLATFORM') && r.result === globals.get('TARGETPLATFORM')) {
          report(s.from.startLine, s.platform);
        }
      } catch (e) {
        if (!(e instanceof ShellLexError)) throw e;
      }
    }
  },
};
