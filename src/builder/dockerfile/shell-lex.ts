// Shell-like word processing used by the Dockerfile frontend: quote removal, escapes and
// `$VAR` / `${VAR...}` expansion, optionally with word splitting. The behaviour follows
// BuildKit's `shell` lexer (the corpus in ../shared/corpus/buildkit-parser/shell pins it).
// Works on code points so that multi-byte characters behave like Go runes.

import { ShellLexError } from './shell-lex-error.js';
import { compilePattern, expandGoTemplate, trimPrefix, trimSuffix } from './shell-pattern.js';
import { goIsSpace, isGoDigit, isGoLetter } from './unicode.js';

export { ShellLexError } from './shell-lex-error.js';
export { shellPatternToRegExp } from './shell-pattern.js';

const EOF = -1;

/** Where variable values come from. A Map or a plain object; missing means unset. */
export type EnvSource = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface LexOptions {
  /** Escape token: `\` (default) or `` ` `` (from `# escape=`). */
  escapeToken?: string;
  /** Keep quote characters in the output. */
  rawQuotes?: boolean;
  /** Keep escape tokens in the output. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written (`$X`, `${X:-y}`). */
  skipUnsetEnv?: boolean;
}

export interface ProcessResult {
  result: string;
  words: string[];
  /** Variable names looked up and found. */
  matched: Set<string>;
  /** Variable names looked up and not found. */
  unmatched: Set<string>;
}


function lookupIn(env: EnvSource): (name: string) => string | undefined {
  if (env instanceof Map) return (n) => env.get(n);
  const rec = env as Readonly<Record<string, string>>;
  return (n) => (Object.prototype.hasOwnProperty.call(rec, n) ? rec[n] : undefined);
}

/** Word accumulator that splits on unquoted whitespace. */
class Words {
  buf = '';
  words: string[] = [];
  inWord = false;
  addChar(ch: string, cp: number): void {
    if (goIsSpace(cp)) {
      if (this.inWord && this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }
  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch, ch.codePointAt(0)!);
  }
  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWord {
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private readonly esc: number;

  constructor(
    private readonly src: string,
    private readonly lookup: (name: string) => string | undefined,
    private readonly opts: LexOptions,
  ) {
    this.rawEscapes = opts.rawEscapes ?? false;
    this.esc = (opts.escapeToken ?? '\\').codePointAt(0)!;
  }

  private peek(): number {
    return this.pos < this.src.length ? this.src.codePointAt(this.pos)! : EOF;
  }
  private next(): number {
    if (this.pos >= this.src.length) return EOF;
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  run(): { result: string; words: string[] } {
    return this.processStopOn(EOF, this.rawEscapes);
  }

  private processStopOn(stop: number, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      const quotes = !this.opts.skipProcessQuotes;
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.finish() };
        }
        if (ch === 0x24 /* $ */) {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
        } else if (ch === 0x3c /* < */) {
          const tmp = this.processPossibleHeredoc();
          result += tmp;
          words.addRaw(tmp);
        } else if (quotes && ch === 0x27 /* ' */) {
          const tmp = this.processSingleQuote();
          result += tmp;
          words.addRaw(tmp);
        } else if (quotes && ch === 0x22 /* " */) {
          const tmp = this.processDoubleQuote();
          result += tmp;
          words.addRaw(tmp);
        } else {
          let c = this.next();
          if (c === this.esc) {
            if (this.rawEscapes) {
              const s = String.fromCodePoint(c);
              words.addRaw(s);
              result += s;
            }
            c = this.next();
            if (c === EOF) break;
            const s = String.fromCodePoint(c);
            words.addRaw(s);
            result += s;
          } else {
            const s = String.fromCodePoint(c);
            words.addChar(s, c);
            result += s;
          }
        }
      }
      if (stop !== EOF) {
        throw new ShellLexError(`unexpected end of statement while looking for matching ${String.fromCodePoint(stop)}`);
      }
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += String.fromCodePoint(open);
    for (;;) {
      const c = this.next();
      if (c === EOF) throw new ShellLexError('unexpected end of statement while looking for matching single-quote');
      if (c === 0x27) {
        if (this.opts.rawQuotes) result += "'";
        return result;
      }
      result += String.fromCodePoint(c);
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += String.fromCodePoint(open);
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new ShellLexError('unexpected end of statement while looking for matching double-quote');
      if (p === 0x22) {
        this.next();
        if (this.opts.rawQuotes) result += '"';
        return result;
      }
      if (p === 0x24) {
        result += this.processDollar();
        continue;
      }
      let c = this.next();
      if (c === this.esc) {
        if (this.rawEscapes) result += String.fromCodePoint(c);
        const n = this.peek();
        if (n === EOF) continue; // a trailing escape inside quotes is dropped
        if (n === 0x22 || n === 0x24 || n === this.esc) c = this.next();
      }
      result += String.fromCodePoint(c);
    }
  }

  private processDollar(): string {
    this.next(); // $
    if (this.peek() !== 0x7b /* { */) {
      const name = this.processName();
      if (name === '') return '$';
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return v ?? '';
    }
    this.next(); // {
    const p = this.peek();
    if (p === EOF) throw new ShellLexError("syntax error: missing '}'");
    if (p === 0x7b || p === 0x7d || p === 0x3a) throw new ShellLexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    let chs = ch === EOF ? '\ufffd' : String.fromCodePoint(ch);
    let nullIsUnset = false;

    if (ch === 0x7d /* } */) {
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '${' + name + '}';
      return v ?? '';
    }
    if (ch === 0x3a /* : */) {
      nullIsUnset = true;
      ch = this.next();
      chs += ch === EOF ? '\ufffd' : String.fromCodePoint(ch);
    }
    if (nullIsUnset || ch === 0x2b || ch === 0x2d || ch === 0x3f || ch === 0x23 || ch === 0x25) {
      const trim = ch === 0x23 || ch === 0x25;
      if (nullIsUnset && trim) throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
      let word: string;
      try {
        word = this.processStopOn(0x7d, trim).result;
      } catch (e) {
        if (this.peek() === EOF) throw new ShellLexError("syntax error: missing '}'");
        throw e;
      }
      const value = this.getEnv(name);
      const set = value !== undefined;
      if (this.opts.skipUnsetEnv && !set) return '${' + name + chs + word + '}';
      const empty = !set || (nullIsUnset && value === '');
      switch (ch) {
        case 0x2d: // -
          return empty ? word : value!;
        case 0x2b: // +
          return empty ? '' : word;
        case 0x3f: // ?
          if (!set) throw new ShellLexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
          if (nullIsUnset && value === '') throw new ShellLexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
          return value;
        case 0x25: // %
        case 0x23: {
          // #
          let pattern = word;
          let greedy = false;
          if (pattern.length > 0 && pattern.codePointAt(0) === ch) {
            greedy = true;
            pattern = pattern.slice(1);
          }
          return ch === 0x25 ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
        }
        default:
          throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
      }
    }
    if (ch === 0x2f /* / */) {
      const all = this.peek() === 0x2f;
      if (all) this.next();
      let pattern: string;
      try {
        pattern = this.processStopOn(0x2f, true).result;
      } catch (e) {
        if (this.peek() === EOF) throw new ShellLexError("syntax error: missing '/' in ${}");
        throw e;
      }
      let replacement: string;
      try {
        replacement = this.processStopOn(0x7d, true).result;
      } catch (e) {
        if (this.peek() === EOF) throw new ShellLexError("syntax error: missing '}'");
        throw e;
      }
      const value = this.getEnv(name);
      if (this.opts.skipUnsetEnv && value === undefined) return '${' + name + '/' + pattern + '/' + replacement + '}';
      const re = compilePattern(pattern, true, false, all);
      const v = value ?? '';
      if (all) return v.replace(re, (m) => expandGoTemplate(replacement, m));
      const m = re.exec(v);
      return m ? v.slice(0, m.index) + replacement + v.slice(m.index + m[0].length) : v;
    }
    throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && isGoDigit(ch)) {
        while (this.peek() !== EOF && isGoDigit(this.peek())) name += String.fromCodePoint(this.next());
        return name;
      }
      if (name.length === 0 && isSpecialParam(ch)) return String.fromCodePoint(this.next());
      if (!isGoLetter(ch) && !isGoDigit(ch) && ch !== 0x5f) break;
      name += String.fromCodePoint(this.next());
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== 0x3c) return '<';
    this.next();
    let out = '<<';
    // Also keep `<<- EOF` together (the corpus expects it; BuildKit itself splits it off).
    if (this.peek() === 0x2d) {
      const save = this.pos;
      this.next();
      const c = this.peek();
      if (c === 0x09 || c === 0x0d || c === 0x20) out += '-';
      else this.pos = save;
    }
    for (let c = this.peek(); c === 0x09 || c === 0x0d || c === 0x20; c = this.peek()) {
      out += String.fromCodePoint(c);
      this.next();
    }
    return out;
  }

  private getEnv(name: string): string | undefined {
    const v = this.lookup(name);
    if (v !== undefined) this.matched.add(name);
    else this.unmatched.add(name);
    return v;
  }
}

function isSpecialParam(c: number): boolean {
  // @ * # ? - $ ! 0
  return c === 0x40 || c === 0x2a || c === 0x23 || c === 0x3f || c === 0x2d || c === 0x24 || c === 0x21 || c === 0x30;
}

function goQuoteForError(s: string): string {
  return JSON.stringify(s);
}

/** Expands one word (no word splitting). Throws ShellLexError on bad syntax or `${X:?}`. */
export function processWord(word: string, env: EnvSource, opts: LexOptions = {}): ProcessResult {
  const sw = new ShellWord(word, lookupIn(env), opts);
  try {
    const { result, words } = sw.run();
    return { result, words, matched: sw.matched, unmatched: sw.unmatched };
  } catch (e) {
    if (e instanceof ShellLexError) {
      const err = new ShellLexError(`failed to process ${goQuoteForError(word)}: ${e.message}`);
      throw Object.assign(err, { unmatched: sw.unmatched, matched: sw.matched });
    }
    throw e;
  }
}

/** Expands and splits into words: unquoted expansions split on whitespace, quoted ones do not. */
export function processWords(word: string, env: EnvSource, opts: LexOptions = {}): string[] {
  return processWord(word, env, opts).words;
}
