// `.dockerignore` exactly as Docker reads and matches it (moby/patternmatcher +
// ignorefile): patterns are cleaned paths anchored at the context root, `*`/`?` never
// cross `/`, `**` spans directories, `[...]` classes, `!` exceptions in order (the last
// pattern that matches a path or one of its parent directories decides).

import { invalidArgument } from '../../util/index.js';

/** Go's path.Clean for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const el of p.split('/')) {
    if (el === '' || el === '.') continue;
    if (el === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(el);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

/** The patterns of a `.dockerignore` file (ignorefile.ReadAll): comments, trimming, cleaning. */
export function readDockerignore(content: string): string[] {
  const out: string[] = [];
  const lines = content.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\ufeff')) line = line.slice(1);
    if (line.startsWith('#')) return;
    let pattern = line.trim();
    if (pattern === '') return;
    const invert = pattern[0] === '!';
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern[0] === '/') pattern = pattern.slice(1);
    }
    out.push(invert ? '!' + pattern : pattern);
  });
  return out;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** One compiled pattern. */
export interface IgnorePattern {
  /** Cleaned pattern without the `!`. */
  readonly pattern: string;
  readonly exclusion: boolean;
  /** Path components of the pattern. */
  readonly dirs: readonly string[];
}

class CompiledPattern implements IgnorePattern {
  readonly dirs: readonly string[];
  private readonly type: MatchType;
  private readonly re: RegExp | undefined;
  constructor(readonly pattern: string, readonly exclusion: boolean) {
    this.dirs = pattern.split('/');
    const c = compile(pattern);
    this.type = c.type;
    this.re = c.re;
  }
  match(path: string): boolean {
    switch (this.type) {
      case 'exact':
        return path === this.pattern;
      case 'prefix':
        return path.startsWith(this.pattern.slice(0, -2));
      case 'suffix': {
        const suffix = this.pattern.slice(2);
        if (path.endsWith(suffix)) return true;
        return suffix[0] === '/' && path === suffix.slice(1);
      }
      case 'regexp':
        return this.re!.test(path);
    }
  }
}

// Characters Go's patternmatcher escapes before handing the pattern to its regexp engine.
const ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);
// One code point that is not '/': a surrogate pair or any other unit.
const NOT_SLASH = '(?:[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]|[^/])';

/** Translates a cleaned pattern the way patternmatcher's compile does (exact/prefix/suffix/regexp). */
function compile(pattern: string): { type: MatchType; re?: RegExp } {
  let re = '^';
  let type: MatchType = 'exact';
  const cps = Array.from(pattern);
  let inClass = false;
  let classStart = 0;
  for (let i = 0, iter = 0; i < cps.length; i++, iter++) {
    const ch = cps[i]!;
    if (inClass) {
      // inside [...]: copied through like Go does; escapes keep their next character
      if (ch === '\\' && i + 1 < cps.length) {
        re += '\\' + cps[++i];
        continue;
      }
      if (ch === ']' && i > classStart) inClass = false;
      re += ch === '[' ? '\\[' : ch;
      continue;
    }
    if (ch === '*') {
      if (cps[i + 1] === '*') {
        i++;
        if (cps[i + 1] === '/') i++;
        if (i + 1 >= cps.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (iter === 0) type = 'suffix';
      } else {
        re += NOT_SLASH + '*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += NOT_SLASH;
      type = 'regexp';
    } else if (ESCAPE.has(ch)) {
      re += '\\' + ch;
    } else if (ch === '\\') {
      if (i + 1 < cps.length) {
        const nx = cps[++i]!;
        re += /[A-Za-z0-9]/.test(nx) ? '\\' + nx : '\\u' + nx.charCodeAt(0).toString(16).padStart(4, '0') + (nx.length > 1 ? nx.slice(1) : '');
        type = 'regexp';
      } else {
        re += '\\\\';
      }
    } else if (ch === '[') {
      re += '[';
      inClass = true;
      classStart = cps[i + 1] === '^' ? i + 2 : i + 1;
      if (cps[i + 1] === '^') {
        re += '^';
        i++;
      }
      type = 'regexp';
    } else if (ch === ']') {
      re += '\\]';
      type = 'regexp';
    } else {
      re += ch === '/' ? '/' : ch;
    }
  }
  if (type !== 'regexp') return { type };
  return { type, re: new RegExp(re + '$') };
}

/** Go's filepath.Match syntax check: unterminated or malformed classes, a trailing `\`. */
function checkGlobSyntax(p: string): boolean {
  const cps = Array.from(p);
  let i = 0;
  const esc = (): boolean => {
    // one class character, possibly escaped; '-' and ']' may not appear unescaped here
    const c = cps[i];
    if (c === undefined || c === '-' || c === ']') return false;
    if (c === '\\') {
      i++;
      if (cps[i] === undefined) return false;
    }
    i++;
    return i < cps.length;
  };
  while (i < cps.length) {
    const c = cps[i]!;
    if (c === '\\') {
      if (i + 1 >= cps.length) return false;
      i += 2;
    } else if (c === '[') {
      i++;
      if (cps[i] === '^') i++;
      let n = 0;
      for (;;) {
        if (cps[i] === ']' && n > 0) {
          i++;
          break;
        }
        if (!esc()) return false;
        if (cps[i] === '-') {
          i++;
          if (!esc()) return false;
        }
        n++;
      }
    } else {
      i++;
    }
  }
  return true;
}

/** Per-pattern match results of a directory, passed down to its children while walking. */
export type ParentMatchInfo = readonly boolean[];

export class DockerignoreMatcher {
  private readonly compiled: CompiledPattern[];
  readonly hasExceptions: boolean;

  private constructor(compiled: CompiledPattern[]) {
    this.compiled = compiled;
    this.hasExceptions = compiled.some((p) => p.exclusion);
  }

  /** Builds a matcher from pattern lines (as readDockerignore returns them). Throws invalid-argument on a bad pattern. */
  static fromPatterns(patterns: readonly string[]): DockerignoreMatcher {
    const compiled: CompiledPattern[] = [];
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) throw invalidArgument('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
      }
      if (!checkGlobSyntax(p)) throw invalidArgument(`syntax error in pattern ${JSON.stringify(p)}`);
      compiled.push(new CompiledPattern(p, exclusion));
    }
    return new DockerignoreMatcher(compiled);
  }

  /** Parses `.dockerignore` content. */
  static parse(content: string): DockerignoreMatcher {
    return DockerignoreMatcher.fromPatterns(readDockerignore(content));
  }

  get patterns(): readonly IgnorePattern[] {
    return this.compiled;
  }

  /**
   * A matcher that never excludes the given context paths (what the docker CLI does for the
   * Dockerfile and `.dockerignore` so the daemon receives them).
   */
  keeping(paths: readonly string[]): DockerignoreMatcher {
    const extra = paths.filter((p) => this.matches(p)).map((p) => new CompiledPattern(cleanPath(p), true));
    return extra.length === 0 ? this : new DockerignoreMatcher([...this.compiled, ...extra]);
  }

  /** True when the path (slash-separated, relative to the context root) is excluded. */
  matches(path: string): boolean {
    const file = cleanPath(path);
    if (file === '.') return false;
    // ancestors: a, a/b, … (not the path itself)
    const ancestors: string[] = [];
    for (let i = file.indexOf('/'); i >= 0; i = file.indexOf('/', i + 1)) ancestors.push(file.slice(0, i));
    let matched = false;
    for (const p of this.compiled) {
      if (p.exclusion !== matched) continue;
      const m = p.match(file) || ancestors.some((a) => p.match(a));
      if (m) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * Same answer as matches(), computed from the parent directory's per-pattern results, so a
   * walk never re-matches ancestors. Pass undefined for entries at the context root.
   */
  matchWithParent(path: string, parent: ParentMatchInfo | undefined): { excluded: boolean; info: ParentMatchInfo } {
    const info: boolean[] = new Array<boolean>(this.compiled.length).fill(false);
    let matched = false;
    this.compiled.forEach((p, i) => {
      let m = parent?.[i] ?? false;
      if (!m) {
        if (p.exclusion !== matched) return;
        m = p.match(path);
      }
      info[i] = m;
      if (m) matched = !p.exclusion;
    });
    return { excluded: matched, info };
  }

  /**
   * True when nothing below an excluded directory can be re-included by a later `!` pattern,
   * so a walker need not descend into it.
   */
  canSkipExcludedDir(dir: string): boolean {
    if (!this.hasExceptions) return true;
    const parts = cleanPath(dir).split('/');
    for (const p of this.compiled) {
      if (!p.exclusion) continue;
      if (p.pattern.includes('**')) return false;
      if (p.dirs.length <= parts.length) continue;
      let prefixMatches = true;
      for (let k = 0; k < parts.length; k++) {
        if (!componentMatches(p.dirs[k]!, parts[k]!)) {
          prefixMatches = false;
          break;
        }
      }
      if (prefixMatches) return false;
    }
    return true;
  }
}

/** Whether one pattern component can match one path component. */
function componentMatches(pattern: string, name: string): boolean {
  const c = compile(pattern);
  if (c.type === 'exact') return pattern === name;
  return c.re ? c.re.test(name) : true;
}
