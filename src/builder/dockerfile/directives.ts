// Parser directives (`# syntax=`, `# escape=`, `# check=`): only in the leading block of
// comment lines, each at most once, names case-insensitive (BuildKit's DirectiveParser).

import { trimLeftSpace } from './unicode.js';

export type DirectiveName = 'syntax' | 'escape' | 'check';

export interface Directive {
  name: DirectiveName;
  value: string;
  /** 1-based line number. */
  line: number;
}

const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;

export class DirectiveError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
    this.name = 'DirectiveError';
  }
}

/** Feeds lines one by one; stops looking at the first line that is not a directive. */
export class DirectiveParser {
  private line = 0;
  private done = false;
  private readonly seen = new Set<string>();

  /** Returns the directive on this line, or undefined. Throws on a repeated directive. */
  parseLine(text: string): Directive | undefined {
    this.line++;
    if (this.done) return undefined;
    if (text.charCodeAt(0) !== 0x23 /* # */) {
      this.done = true;
      return undefined;
    }
    const m = DIRECTIVE_RE.exec(trimLeftSpace(text.slice(1)));
    if (!m) {
      this.done = true;
      return undefined;
    }
    const name = m[1]!.toLowerCase();
    if (name !== 'syntax' && name !== 'escape' && name !== 'check') {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) throw new DirectiveError(`only one ${name} parser directive can be used`, this.line);
    this.seen.add(name);
    return { name, value: m[2]!, line: this.line };
  }

  get isDone(): boolean {
    return this.done;
  }
}

/**
 * `# check=skip=A,B;error=true` as BuildKit reads it: `skip` is a comma list (or `all`),
 * `error` a boolean. Unknown keys are ignored.
 */
export function parseCheckDirective(value: string): { skip: string[]; skipAll: boolean; error: boolean } {
  const out = { skip: [] as string[], skipAll: false, error: false };
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (k === 'skip') {
      for (const s of v.split(',')) {
        const t = s.trim();
        if (t.toLowerCase() === 'all') out.skipAll = true;
        else if (t) out.skip.push(t);
      }
    } else if (k === 'error') {
      out.error = v.toLowerCase() === 'true';
    }
  }
  return out;
}
