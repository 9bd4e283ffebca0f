// lintDockerfile: runs every rule over a parsed Dockerfile and returns findings sorted by
// line. Honours the `# check=skip=…;error=true` directive like BuildKit.

import { SourceError } from '../../../util/index.js';
import { parseCheckDirective } from '../directives.js';
import { predefinedArgs, resolveMetaArgs } from '../expand.js';
import { parseDockerfile, type Dockerfile } from '../stages.js';
import type { LintContext, LintFinding, LintRule } from './rule.js';
import { ALL_RULES } from './rules/index.js';
import { inlineComment, NOT_SHELL, unquotedCommentStart } from './rules/inline-comment.js';
import { parseAst, type DockerfileAst } from '../parser.js';

export interface LintOptions {
  file?: string;
  /** Rule ids to skip (in addition to `# check=skip=`). */
  skip?: readonly string[];
  /** Only run these rule ids. */
  only?: readonly string[];
  /** Returns true for context paths `.dockerignore` excludes (CopyIgnoredFile). */
  isIgnored?: (path: string) => boolean;
  /**
   * The build's `.dockerignore` (a DockerignoreMatcher fits). Like BuildKit, CopyIgnoredFile
   * only runs when it has no `!` exceptions.
   */
  dockerignore?: { matches(path: string): boolean; readonly hasExceptions: boolean; readonly patterns: readonly { pattern: string; exclusion: boolean }[] };
  baseImageEnv?: (ref: string) => readonly string[] | undefined;
}

export interface LintResult {
  findings: LintFinding[];
  /** The parsed Dockerfile, absent when it does not parse (then the only finding is the error). */
  dockerfile?: Dockerfile;
}

/** Builds the context rules see. */
export function lintContext(df: Dockerfile, opts: LintOptions = {}): LintContext {
  const predefined = predefinedArgs({ buildPlatform: { os: 'linux', architecture: 'amd64' }, targetPlatform: { os: 'linux', architecture: 'amd64' } });
  let globals: Map<string, string>;
  try {
    globals = resolveMetaArgs(df.metaArgs, {}, predefined, { escapeToken: df.escapeToken, file: df.file });
  } catch (e) {
    // A broken default (e.g. `${X:?}`) is reported by the build itself; lint with what we have.
    if (!(e instanceof SourceError)) throw e;
    globals = new Map(predefined);
  }
  const di = opts.dockerignore;
  let isIgnored = opts.isIgnored;
  if (!isIgnored && di && !di.hasExceptions) {
    // '.' is only "ignored" when a pattern excludes everything (BuildKit's copySourceRootIgnored)
    const rootIgnored = di.patterns.some((p) => !p.exclusion && (p.pattern === '*' || p.pattern === '**' || p.pattern === '**/*'));
    isIgnored = (p) => (p === '.' ? rootIgnored : di.matches(p));
  }
  return {
    df,
    globals,
    globalArgNames: new Set(df.metaArgs.flatMap((a) => a.args.map((kv) => kv.key))),
    ...(isIgnored && { isIgnored }),
    ...(opts.baseImageEnv && { baseImageEnv: opts.baseImageEnv }),
  };
}

/** Runs the rules over Dockerfile text. A syntax error becomes a single `InvalidSyntax` finding. */
export function lintDockerfile(text: string, opts: LintOptions = {}): LintResult {
  let df: Dockerfile;
  try {
    df = parseDockerfile(text, { file: opts.file ?? 'Dockerfile' });
  } catch (e) {
    if (!(e instanceof SourceError)) throw e;
    const findings: LintFinding[] = [{ rule: 'InvalidSyntax', message: e.detail, line: e.line, severity: 'error', url: 'https://docs.docker.com/reference/dockerfile/' }];
    const hint = inlineCommentHint(text, e.line, opts.file);
    if (hint) findings.push(hint);
    return { findings };
  }
  return { findings: runRules(df, ALL_RULES, opts), dockerfile: df };
}

/** A trailing `# comment` often causes the syntax error (`FROM a:1 # pin`): say so. */
function inlineCommentHint(text: string, line: number, file?: string): LintFinding | undefined {
  let ast: DockerfileAst;
  try {
    ast = parseAst(text, { file: file ?? 'Dockerfile' });
  } catch (e) {
    if (e instanceof SourceError) return undefined;
    throw e;
  }
  const node = ast.children.find((n) => n.startLine === line);
  if (!node || !NOT_SHELL.has(node.keyword.toLowerCase())) return undefined;
  const rest = node.original.trim().slice(node.keyword.length);
  const at = unquotedCommentStart(rest);
  if (at < 0) return undefined;
  const r = inlineComment;
  return { rule: r.id, message: r.message(node.keyword.toUpperCase(), rest.slice(at).trim()), line, severity: r.severity, url: r.url };
}

export function runRules(df: Dockerfile, rules: readonly LintRule[], opts: LintOptions = {}): LintFinding[] {
  const check = df.directives.find((d) => d.name === 'check');
  const cfg = check ? parseCheckDirective(check.value) : { skip: [], skipAll: false, error: false };
  const skip = new Set([...cfg.skip, ...(opts.skip ?? [])].map((s) => s.toLowerCase()));
  const only = opts.only ? new Set(opts.only.map((s) => s.toLowerCase())) : undefined;
  const ctx = lintContext(df, opts);
  const findings: LintFinding[] = [];
  for (const rule of rules) {
    const id = rule.id.toLowerCase();
    if (cfg.skipAll || skip.has(id) || (only && !only.has(id))) continue;
    const seen = new Set<string>();
    rule.check(ctx, (line, ...args) => {
      const message = rule.message(...args);
      const key = `${line}\0${message}`;
      if (seen.has(key)) return;
      seen.add(key);
      findings.push({ rule: rule.id, message, line, severity: cfg.error && rule.severity === 'warning' ? 'error' : rule.severity, url: rule.url });
    });
  }
  return findings.sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
}

/** Runs the given rules over Dockerfile text (which must parse); used by the rule tests. */
export function lintWith(rules: readonly LintRule[], text: string, opts: LintOptions = {}): LintFinding[] {
  return runRules(parseDockerfile(text, { file: opts.file ?? 'Dockerfile' }), rules, opts);
}

/** `[line, message]` of one rule's findings (compact form for tests and tools). */
export function ruleFindings(rule: LintRule, text: string, opts: LintOptions = {}): [number, string][] {
  return lintWith([rule], text, opts).map((f) => [f.line, f.message]);
}

/** Lines of one rule's findings. */
export function ruleLines(rule: LintRule, text: string, opts: LintOptions = {}): number[] {
  return lintWith([rule], text, opts).map((f) => f.line);
}

/** One line per finding, like compiler output: `Dockerfile:3: warning: message [RuleId]`. */
export function formatFinding(f: LintFinding, file = 'Dockerfile'): string {
  return f.line > 0 ? `${file}:${f.line}: ${f.severity}: ${f.message} [${f.rule}]` : `${file}: ${f.severity}: ${f.message} [${f.rule}]`;
}
