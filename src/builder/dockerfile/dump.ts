// Prints the AST in BuildKit's `Node.Dump()` format (one s-expression per instruction), the
// format of the parser corpus `result` files. Strings are quoted like Go's strconv.Quote.

import type { DockerfileAst, InstructionNode } from './parser.js';

const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;
const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x07: '\\a',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x0b: '\\v',
  0x22: '\\"',
  0x5c: '\\\\',
};

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const short = SHORT_ESCAPES[cp];
    if (short !== undefined) out += short;
    else if (cp === 0x20 || (cp > 0x20 && cp < 0x7f)) out += ch;
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x10000) out += '\\u' + hex(cp, 4);
    else out += '\\U' + hex(cp, 8);
  }
  return out + '"';
}

function dumpInstruction(n: InstructionNode): string {
  let s = n.keyword.toLowerCase();
  if (n.flags.length > 0) s += ' [' + n.flags.map(goQuote).join(' ') + ']';
  if (n.trigger) s += ' (' + dumpInstruction(n.trigger) + ')';
  else for (const a of n.args) s += ' ' + goQuote(a);
  return s.trim();
}

/** The whole AST, one `(…)` line per instruction, no trailing newline (like Dump()). */
export function dumpAst(ast: DockerfileAst): string {
  return ast.children.map((c) => '(' + dumpInstruction(c) + ')').join('\n');
}
