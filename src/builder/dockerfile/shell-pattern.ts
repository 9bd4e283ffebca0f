// Shell patterns of `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}` as BuildKit
// evaluates them: converted to regular expressions (`*` shortest or longest run, `?` one
// character, `\` escapes `*`, `?`, `\`).

import { ShellLexError } from './shell-lex-error.js';

/** Go's regexp replacement template: `$$`, `$0`/`${0}` (the match); other group references are empty. */
export function expandGoTemplate(tpl: string, match: string): string {
  if (!tpl.includes('$')) return tpl;
  return tpl.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (_all, tok: string, braced?: string, bare?: string) => {
    if (tok === '$') return '$';
    const name = braced ?? bare ?? '';
    return name === '0' ? match : '';
  });
}

const PATTERN_META = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/**
 * Turns a `${VAR#pattern}`-style shell pattern into a RegExp: `*` any run (shortest unless
 * greedy), `?` one character, `\` escapes `*`, `?` and `\` (and is dropped before `}`/`/`).
 */
export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  return compilePattern(pattern, greedy, anchored, false);
}

export function compilePattern(pattern: string, greedy: boolean, anchored: boolean, global: boolean): RegExp {
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  const cps = Array.from(pattern);
  for (let i = 0; i < cps.length; i++) {
    const tok = cps[i]!;
    if (tok === '*') {
      out += star;
      continue;
    }
    if (tok === '?') {
      out += '.';
      continue;
    }
    if (tok === '\\') {
      const nx = cps[i + 1];
      if (nx === '}' || nx === '/') continue;
      i++;
      if (nx !== '*' && nx !== '?' && nx !== '\\') {
        throw new ShellLexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${nx ?? ''}'`);
      }
      out += '\\' + nx;
      continue;
    }
    if (PATTERN_META.has(tok)) out += '\\';
    out += tok;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = compilePattern(pattern, greedy, true, false).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** Reverses a pattern but keeps `\x` escapes in front of the character they escape. */
function reversePattern(pattern: string): string {
  const cps = Array.from(pattern);
  const out = new Array<string>(cps.length);
  const last = cps.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = cps[i]!;
    const o = last - i;
    if (tok === '\\' && i !== last) {
      out[o - 1] = tok;
      out[o] = cps[i + 1]!;
      i += 2;
    } else {
      out[o] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join('');
}

export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

