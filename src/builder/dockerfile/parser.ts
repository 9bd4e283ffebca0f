// Dockerfile text → AST, reproducing BuildKit's parser (frontend/dockerfile/parser):
// directives, escape token, line continuations, comments inside continuations, heredocs,
// flags and per-instruction argument rules. Every node carries its 1-based line range.

import { SourceError } from '../../util/index.js';
import { DirectiveError, DirectiveParser, type Directive } from './directives.js';
import { heredocsFromLine, type Heredoc } from './heredoc.js';
import { ARG_PARSER, LineParseError, parseArgs, splitCommand } from './line-parsers.js';
import { ShellLexError } from './shell-lex.js';
import { goIsSpace, trimLeftSpace, trimSpace } from './unicode.js';

export type { Heredoc } from './heredoc.js';
export type { Directive } from './directives.js';

/** One instruction. `keyword` is as written; `args` are raw (unexpanded) argument strings. */
export interface InstructionNode {
  keyword: string;
  flags: string[];
  args: string[];
  /** The arguments came from a JSON array (exec form). */
  json: boolean;
  /** ONBUILD's trigger instruction. */
  trigger?: InstructionNode;
  heredocs: Heredoc[];
  /** The logical line after joining continuations (comments and escapes removed). */
  original: string;
  /** Comment lines directly above the instruction (text after `#`, trimmed). */
  comments: string[];
  startLine: number;
  endLine: number;
}

export interface ParseWarning {
  short: string;
  detail: string;
  url: string;
  line: number;
}

export interface DockerfileAst {
  children: InstructionNode[];
  directives: Directive[];
  escapeToken: '\\' | '`';
  warnings: ParseWarning[];
  startLine: number;
  endLine: number;
}

export interface ParseOptions {
  /** Name used in error locations (default `Dockerfile`). */
  file?: string;
}

const MAX_LINE_BYTES = 64 * 1024;
const HEREDOC_CAPABLE = new Set(['add', 'copy', 'run']);

/** Splits text into lines that keep their `\n` (the last one may lack it). */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      if (start < text.length) out.push(text.slice(start));
      return out;
    }
    out.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
}

function trimNewline(s: string): string {
  let j = s.length;
  while (j > 0) {
    const c = s.charCodeAt(j - 1);
    if (c !== 0x0a && c !== 0x0d) break;
    j--;
  }
  return j === s.length ? s : s.slice(0, j);
}

function isComment(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x23) return true;
    if (!goIsSpace(c)) return false;
  }
  return false;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (!goIsSpace(line.charCodeAt(i))) return false;
  return true;
}

/**
 * If the line ends with the escape token (then only spaces/tabs), strip it and report that the
 * instruction continues. An escaped escape token (`\\`) at the end does not continue.
 */
function trimContinuation(line: string, esc: number): { text: string; ends: boolean } {
  let j = line.length;
  while (j > 0) {
    const c = line.charCodeAt(j - 1);
    if (c !== 0x20 && c !== 0x09) break;
    j--;
  }
  if (j === 0 || line.charCodeAt(j - 1) !== esc) return { text: line, ends: true };
  if (j >= 2 && line.charCodeAt(j - 2) === esc) return { text: line, ends: true };
  return { text: line.slice(0, j - 1), ends: false };
}

class Ctx {
  escapeToken: '\\' | '`' = '\\';
  readonly directiveParser = new DirectiveParser();
  readonly directives: Directive[] = [];
  constructor(readonly file: string) {}

  /** trimNewline (+ left trim), directive detection, comment removal. */
  processLine(raw: string, stripLeft: boolean, lineNo: number): { text: string; isDirective: boolean } {
    let t = trimNewline(raw);
    if (stripLeft) t = trimLeftSpace(t);
    let d: Directive | undefined;
    try {
      d = this.directiveParser.parseLine(t);
    } catch (e) {
      if (e instanceof DirectiveError) throw new SourceError(this.file, lineNo, e.message);
      throw e;
    }
    if (d) {
      if (d.name === 'escape') {
        if (d.value !== '`' && d.value !== '\\') {
          throw new SourceError(this.file, lineNo, `invalid escape token '${d.value}' does not match \` or \\`);
        }
        this.escapeToken = d.value;
      }
      this.directives.push(d);
    }
    return { text: isComment(t) ? '' : t, isDirective: d !== undefined };
  }
}

function lexMessage(e: unknown): string | undefined {
  if (e instanceof LineParseError || e instanceof ShellLexError) return e.message;
  return undefined;
}

/** Builds an instruction node from one logical line (used for ONBUILD triggers too). */
function nodeFromLine(line: string, ctx: Ctx, comments: string[]): InstructionNode {
  const { cmd, flags, rest } = splitCommand(line, ctx.escapeToken);
  const lower = cmd.toLowerCase();
  const kind = ARG_PARSER[lower] ?? 'ignore';
  const node: InstructionNode = {
    keyword: cmd,
    flags,
    args: [],
    json: false,
    heredocs: [],
    original: line,
    comments,
    startLine: 0,
    endLine: 0,
  };
  if (kind === 'sub') {
    if (rest !== '') node.trigger = nodeFromLine(rest, ctx, []);
    return node;
  }
  const parsed = parseArgs(kind, lower === 'label' ? 'LABEL' : cmd.toUpperCase(), rest, ctx.escapeToken);
  node.args = parsed.args;
  node.json = parsed.json;
  return node;
}

function canContainHeredoc(node: InstructionNode): boolean {
  const n = node.keyword.toLowerCase() === 'onbuild' && node.trigger ? node.trigger : node;
  return HEREDOC_CAPABLE.has(n.keyword.toLowerCase()) && !n.json;
}

function byteLength(s: string): number {
  return s.length * 3 <= MAX_LINE_BYTES ? s.length : Buffer.byteLength(s, 'utf8');
}

/** Parses a Dockerfile. Throws SourceError (`Dockerfile:LINE: …`) on a syntax error. */
export function parseAst(text: string, opts: ParseOptions = {}): DockerfileAst {
  const file = opts.file ?? 'Dockerfile';
  const ctx = new Ctx(file);
  const lines = splitLines(text);
  const children: InstructionNode[] = [];
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  let idx = 0; // next line to read
  let currentLine = 0;

  const scan = (): string | undefined => {
    if (idx >= lines.length) return undefined;
    const l = lines[idx++]!;
    if (byteLength(l) > MAX_LINE_BYTES) {
      throw new SourceError(file, idx, `dockerfile line greater than max allowed size of ${MAX_LINE_BYTES - 1}`);
    }
    return l;
  };

  for (let raw = scan(); raw !== undefined; raw = scan()) {
    if (currentLine === 0 && raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
    if (isComment(raw)) {
      const c = trimSpace(raw.slice(1)); // BuildKit drops the first byte, not the '#'
      if (c === '') comments = [];
      else comments.push(c);
    }
    const first = ctx.processLine(raw, true, currentLine + 1);
    if (first.isDirective) comments.pop();
    currentLine++;
    const startLine = currentLine;
    const esc = ctx.escapeToken.charCodeAt(0);
    let { text, ends } = trimContinuation(first.text, esc);
    if (ends && text.length === 0) continue;
    let buf = text;
    let hasEmptyContinuation = false;
    while (!ends) {
      const r = scan();
      if (r === undefined) break;
      const next = ctx.processLine(r, false, currentLine + 1);
      currentLine++;
      if (isComment(r)) continue;
      if (isBlank(next.text)) {
        hasEmptyContinuation = true;
        continue;
      }
      ({ text, ends } = trimContinuation(next.text, esc));
      buf += text;
    }
    const line = buf;
    if (hasEmptyContinuation) {
      warnings.push({
        short: `Empty continuation line found in: ${line}`,
        detail: 'Empty continuation lines will become errors in a future release',
        url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
        line: currentLine,
      });
    }
    let child: InstructionNode;
    try {
      child = nodeFromLine(line, ctx, comments);
    } catch (e) {
      const m = lexMessage(e);
      if (m !== undefined) throw new SourceError(file, startLine, m, { cause: e });
      throw e;
    }
    if (canContainHeredoc(child) && line.includes('<<')) {
      let docs: Heredoc[];
      try {
        docs = heredocsFromLine(line);
      } catch (e) {
        const m = lexMessage(e);
        if (m !== undefined) throw new SourceError(file, startLine, m, { cause: e });
        throw e;
      }
      for (const doc of docs) {
        let terminated = false;
        let content = '';
        for (let r = scan(); r !== undefined; r = scan()) {
          currentLine++;
          let t = trimNewline(r);
          if (doc.chomp) t = t.replace(/^\t+/, '');
          if (t === doc.name) {
            terminated = true;
            break;
          }
          content += r;
        }
        if (!terminated) throw new SourceError(file, startLine, 'unterminated heredoc');
        doc.content = content;
        child.heredocs.push(doc);
      }
    }
    child.startLine = startLine;
    child.endLine = currentLine;
    if (child.trigger) {
      child.trigger.startLine = startLine;
      child.trigger.endLine = currentLine;
    }
    children.push(child);
    comments = [];
  }

  if (children.length === 0) throw new SourceError(file, Math.max(currentLine, 1), 'file with no instructions');
  return {
    children,
    directives: ctx.directives,
    escapeToken: ctx.escapeToken,
    warnings,
    startLine: children[0]!.startLine,
    endLine: children[children.length - 1]!.endLine,
  };
}
