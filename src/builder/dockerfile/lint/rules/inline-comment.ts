import { berthUrl, type LintRule } from '../rule.js';

/** Instructions whose arguments are not shell text, so `#` is never a comment there. */
export const NOT_SHELL: ReadonlySet<string> = new Set(['from', 'copy', 'add', 'expose', 'workdir', 'user', 'env', 'label', 'arg', 'volume', 'stopsignal']);

/** Index of a `#` that follows whitespace outside quotes, or -1. */
export function unquotedCommentStart(s: string): number {
  let quote = '';
  for (let k = 0; k < s.length; k++) {
    const c = s[k]!;
    if (quote) {
      if (c === '\\') k++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '\\') k++;
    else if (c === '#' && k > 0 && /\s/.test(s[k - 1]!)) return k;
  }
  return -1;
}

export const inlineComment: LintRule = {
  id: 'InlineComment',
  description: 'A # after an instruction is not a comment; Dockerfile comments must start a line',
  url: berthUrl('InlineComment'),
  severity: 'warning',
  message: (ins, text) => `"${text}" is part of the ${ins} arguments, not a comment: Dockerfile comments must be on their own line`,
  check({ df }, report) {
    const all = [...df.metaArgs, ...df.stages.flatMap((s) => [s.from, ...s.instructions])];
    for (const i of all) {
      if (!NOT_SHELL.has(i.kind)) continue;
      const rest = i.original.slice(i.keyword.length);
      if (/^\s*\[/.test(rest)) continue;
      const at = unquotedCommentStart(rest);
      if (at >= 0) report(i.startLine, i.keyword.toUpperCase(), rest.slice(at).trim());
    }
  },
};
