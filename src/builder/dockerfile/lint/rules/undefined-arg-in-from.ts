import { processWord, ShellLexError } from '../../shell-lex.js';
import { suggest } from '../../suggest.js';
import { buildkitUrl, type LintRule } from '../rule.js';

export const undefinedArgInFrom: LintRule = {
  id: 'UndefinedArgInFrom',
  description: 'FROM command must use declared ARGs',
  url: buildkitUrl('undefined-arg-in-from'),
  severity: 'warning',
  message: (arg, hint) => `FROM argument '${arg}' is not declared${hint ? ` (did you mean ${hint}?)` : ''}`,
  check({ df, globals, globalArgNames }, report) {
    const known = [...new Set([...globalArgNames, ...globals.keys()])];
    for (const s of df.stages) {
      for (const word of [s.base, s.platform ?? '']) {
        let unmatched: Set<string>;
        try {
          unmatched = processWord(word, globals, { escapeToken: df.escapeToken }).unmatched;
        } catch (e) {
          if (e instanceof ShellLexError) continue; // the build reports the syntax error
          throw e;
        }
        for (const u of unmatched) {
          if (globalArgNames.has(u)) continue;
          report(s.from.startLine, u, suggest(u, known, true) ?? '');
        }
      }
    }
  },
};
