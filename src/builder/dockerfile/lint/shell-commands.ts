// Just enough shell reading for lint rules about RUN: split a script into simple commands
// (on `&&`, `||`, `;`, `|`, `&`, newlines, parentheses) made of unquoted words.

import type { RunInstruction } from '../instructions.js';

/** The shell text a RUN executes: its command line, or its heredoc bodies. */
export function runScript(run: RunInstruction): string {
  if (!run.prependShell) return run.cmdLine.join(' ');
  const files = run.files.map((f) => f.data).join('\n');
  return files ? `${run.cmdLine.join(' ')}\n${files}` : run.cmdLine.join(' ');
}

/** Simple commands of a script, each as its words (quotes removed, no expansion). */
export function splitCommands(script: string): string[][] {
  const cmds: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCmd = () => {
    endWord();
    if (words.length > 0) cmds.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === '\\') {
      if (script[i + 1] === '\n') {
        i++;
        continue;
      }
      word += script[i + 1] ?? '';
      inWord = true;
      i++;
    } else if (c === "'" || c === '"') {
      const end = script.indexOf(c, i + 1);
      const stop = end < 0 ? script.length : end;
      word += script.slice(i + 1, stop);
      inWord = true;
      i = stop;
    } else if (c === '#' && !inWord) {
      const nl = script.indexOf('\n', i);
      i = nl < 0 ? script.length : nl - 1;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === '\n' || c === ';' || c === '&' || c === '|' || c === '(' || c === ')') {
      endCmd();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCmd();
  return cmds;
}

/** Drops leading env assignments and wrappers (`sudo`, `env X=1`) so the tool is words[0]. */
export function commandWords(words: readonly string[]): string[] {
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w) || w === 'sudo' || w === 'env' || w === 'exec' || w === 'command' || w === 'time') i++;
    else break;
  }
  return words.slice(i);
}

/** True when some command runs `tool` (its basename) with `sub` as its first non-flag word. */
export function hasCommand(cmds: readonly string[][], tool: string | RegExp, sub?: string | RegExp): boolean {
  return cmds.some((c) => matchCommand(c, tool, sub));
}

export function matchCommand(words: readonly string[], tool: string | RegExp, sub?: string | RegExp): boolean {
  const w = commandWords(words);
  const name = w[0]?.split('/').pop();
  if (name === undefined) return false;
  if (typeof tool === 'string' ? name !== tool : !tool.test(name)) return false;
  if (sub === undefined) return true;
  const first = w.slice(1).find((x) => !x.startsWith('-'));
  return first !== undefined && (typeof sub === 'string' ? first === sub : sub.test(first));
}
