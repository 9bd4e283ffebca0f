// Variable expansion with BuildKit's per-instruction rules: which instructions expand
// which fields, ARG scoping (global ARGs before the first FROM, re-declared inside a stage),
// `--build-arg` overrides, and the predefined platform and proxy args.

import { SourceError } from '../../util/index.js';
import { parseChmod, type ArgInstruction, type Instruction, type SourceContent } from './instructions.js';
import { MountParseError, parseRunMount } from './run-mount.js';
import { processWord, ShellLexError, type EnvSource } from './shell-lex.js';

export type { EnvSource } from './shell-lex.js';

export interface ExpandOptions {
  /** The Dockerfile's escape token (default `\`). */
  escapeToken?: string;
  /** Leave references to unset variables as written. */
  skipUnsetEnv?: boolean;
}

/** Expands one word: quotes removed, `$VAR`, `${VAR:-x}` … replaced, no splitting. */
export function expandWord(word: string, env: EnvSource, opts: ExpandOptions = {}): string {
  return processWord(word, env, lexOptions(opts)).result;
}

/** Expands and splits into words (unquoted expansions split on whitespace). */
export function expandWords(word: string, env: EnvSource, opts: ExpandOptions = {}): string[] {
  return processWord(word, env, lexOptions(opts)).words;
}

/** Expansion that also reports which variables were found and which were not. */
export function expandWordWithMatches(word: string, env: EnvSource, opts: ExpandOptions = {}): { result: string; matched: Set<string>; unmatched: Set<string> } {
  const r = processWord(word, env, lexOptions(opts));
  return { result: r.result, matched: r.matched, unmatched: r.unmatched };
}

function lexOptions(opts: ExpandOptions) {
  return { escapeToken: opts.escapeToken ?? '\\', skipUnsetEnv: opts.skipUnsetEnv ?? false };
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** Build args that need no ARG declaration and never enter the image history. */
export const PROXY_ARG_NAMES = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
] as const;

/** Proxy settings from build args, to put in RUN environments. */
export function proxyEnv(buildArgs: Readonly<Record<string, string>>): Map<string, string> {
  const out = new Map<string, string>();
  const names = new Set<string>(PROXY_ARG_NAMES);
  for (const [k, v] of Object.entries(buildArgs)) if (names.has(k)) out.set(k, v);
  return out;
}

/**
 * BUILDPLATFORM/BUILDOS/…/TARGETPLATFORM/TARGETOS/TARGETARCH/TARGETVARIANT/TARGETSTAGE. A build
 * arg of the same name overrides the computed value.
 */
export function predefinedArgs(opts: {
  buildPlatform: Platform;
  targetPlatform: Platform;
  target?: string;
  buildArgs?: Readonly<Record<string, string>>;
}): Map<string, string> {
  const bp = opts.buildPlatform;
  const tp = opts.targetPlatform;
  const pairs: [string, string][] = [
    ['BUILDPLATFORM', formatPlatform(bp)],
    ['BUILDOS', bp.os],
    ['BUILDOSVERSION', ''],
    ['BUILDARCH', bp.architecture],
    ['BUILDVARIANT', bp.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(tp)],
    ['TARGETOS', tp.os],
    ['TARGETOSVERSION', ''],
    ['TARGETARCH', tp.architecture],
    ['TARGETVARIANT', tp.variant ?? ''],
    ['TARGETSTAGE', opts.target || 'default'],
  ];
  const out = new Map<string, string>();
  for (const [k, v] of pairs) out.set(k, opts.buildArgs?.[k] ?? v);
  return out;
}

function located<T>(file: string, line: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ShellLexError || e instanceof MountParseError) throw new SourceError(file, line, e.message, { cause: e });
    throw e;
  }
}

/**
 * Values of the ARGs declared before the first FROM: a build arg wins over the default; the
 * default is expanded with the predefined args and earlier global ARGs. The result is the
 * scope for FROM lines and the source of ARG defaults re-declared in stages.
 */
export function resolveMetaArgs(
  metaArgs: readonly ArgInstruction[],
  buildArgs: Readonly<Record<string, string>>,
  predefined: ReadonlyMap<string, string> = new Map(),
  opts: ExpandOptions & { file?: string } = {},
): Map<string, string> {
  const env = new Map(predefined);
  for (const cmd of metaArgs) {
    for (const kv of cmd.args) {
      if (Object.prototype.hasOwnProperty.call(buildArgs, kv.key)) env.set(kv.key, buildArgs[kv.key]!);
      else if (kv.value !== undefined) {
        const v = located(opts.file ?? 'Dockerfile', cmd.startLine, () => expandWord(kv.value!, env, opts));
        env.set(kv.key, v);
      }
    }
  }
  return env;
}

export interface ExpandResult<T extends Instruction> {
  instruction: T;
  /** Variables referenced but not set (for UndefinedVar-style reports). */
  unmatched: Set<string>;
}

/**
 * Expands an instruction the way BuildKit's dispatcher does: ENV/LABEL keys and values,
 * ADD/COPY sources, destination, --chown/--chmod (and ADD --checksum), heredoc file
 * contents marked for expansion, WORKDIR, USER, VOLUME, STOPSIGNAL, EXPOSE (split into
 * words), RUN --mount values. CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER and the
 * RUN command itself are left alone (the shell expands at run time). ARG is handled by
 * StageScope; FROM by the stage graph with the global scope.
 */
export function expandInstruction<T extends Instruction>(instr: T, env: EnvSource, opts: ExpandOptions & { file?: string } = {}): ExpandResult<T> {
  const unmatched = new Set<string>();
  const file = opts.file ?? 'Dockerfile';
  const w = (s: string): string =>
    located(file, instr.startLine, () => {
      const r = processWord(s, env, lexOptions(opts));
      for (const u of r.unmatched) unmatched.add(u);
      return r.result;
    });
  const raw = (c: SourceContent): SourceContent => {
    if (!c.expand) return c;
    const data = located(file, instr.startLine, () => {
      const r = processWord(c.data, env, { escapeToken: '\\', skipProcessQuotes: true });
      for (const u of r.unmatched) unmatched.add(u);
      return r.result;
    });
    return { ...c, data };
  };
  const opt = (s: string | undefined): string | undefined => (s === undefined ? undefined : w(s));
  const i = instr as Instruction;
  let out: Instruction;
  switch (i.kind) {
    case 'env':
      out = { ...i, env: i.env.map((kv) => ({ ...kv, key: w(kv.key), value: w(kv.value) })) };
      break;
    case 'label':
      out = { ...i, labels: i.labels.map((kv) => ({ ...kv, key: w(kv.key), value: w(kv.value) })) };
      break;
    case 'copy':
    case 'add': {
      const files = {
        sources: i.sources.map(w),
        dest: w(i.dest),
        sourceContents: i.sourceContents.map(raw),
        ...(i.chown !== undefined && { chown: opt(i.chown) }),
        ...(i.chmod !== undefined && { chmod: opt(i.chmod) }),
      };
      out = i.kind === 'add' ? { ...i, ...files, ...(i.checksum !== undefined && { checksum: opt(i.checksum) }) } : { ...i, ...files };
      validateFileFlags(out, file);
      break;
    }
    case 'workdir':
      out = { ...i, path: w(i.path) };
      break;
    case 'user':
      out = { ...i, user: w(i.user) };
      break;
    case 'volume':
      out = { ...i, volumes: i.volumes.map(w) };
      break;
    case 'stopsignal':
      out = { ...i, signal: w(i.signal) };
      break;
    case 'expose': {
      const ports: string[] = [];
      for (const p of i.ports) {
        located(file, i.startLine, () => {
          const r = processWord(p, env, lexOptions(opts));
          for (const u of r.unmatched) unmatched.add(u);
          ports.push(...r.words);
        });
      }
      out = { ...i, ports };
      break;
    }
    case 'run':
      out = { ...i, mounts: i.mountSpecs.map((m) => located(file, i.startLine, () => parseRunMount(m, w))) };
      break;
    default:
      out = i;
  }
  return { instruction: out as T, unmatched };
}

const REMOTE_SOURCE = /^(?:https?:\/\/|git@|git:\/\/|ssh:\/\/)|\.git(?:#.*)?$/;

/** Checks BuildKit makes on COPY/ADD flags once their values are expanded. */
function validateFileFlags(i: Instruction, file: string): void {
  if (i.kind !== 'copy' && i.kind !== 'add') return;
  const fail = (msg: string): never => {
    throw new SourceError(file, i.startLine, msg);
  };
  if (i.chmod) {
    try {
      parseChmod(i.chmod);
    } catch (e) {
      fail((e as Error).message);
    }
  }
  if (i.kind === 'add' && i.checksum) {
    if (i.sources.length !== 1) fail("checksum can't be specified for multiple sources");
    if (!REMOTE_SOURCE.test(i.sources[0]!)) fail('checksum requires HTTP(S) or Git sources');
  }
}

/**
 * The variables visible while one stage is built: the base image's environment, then ENV and
 * ARG in order. ARG takes `--build-arg` first, then its default (expanded), then — with
 * neither — the value of a global ARG of the same name (this is how predefined args such as
 * TARGETARCH become visible: `ARG TARGETARCH`).
 */
export class StageScope {
  private readonly vars: Map<string, string>;
  /** ARG names declared in this stage, with their resolved values (undefined = no value). */
  readonly declaredArgs = new Map<string, string | undefined>();

  constructor(
    private readonly opts: {
      /** `KEY=VALUE` entries of the base image config. */
      imageEnv?: readonly string[];
      /** Global ARG values (resolveMetaArgs, including predefined args). */
      globals?: ReadonlyMap<string, string>;
      buildArgs?: Readonly<Record<string, string>>;
      escapeToken?: string;
      file?: string;
    } = {},
  ) {
    this.vars = new Map();
    for (const kv of opts.imageEnv ?? []) {
      const eq = kv.indexOf('=');
      if (eq < 0) this.vars.set(kv, '');
      else this.vars.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
  }

  /** Current variables (a snapshot copy). */
  env(): Map<string, string> {
    return new Map(this.vars);
  }

  /** Expands an instruction with the current variables and applies ENV/ARG to the scope. */
  apply<T extends Instruction>(instr: T): ExpandResult<T> {
    const eo = { escapeToken: this.opts.escapeToken ?? '\\', file: this.opts.file ?? 'Dockerfile' };
    if (instr.kind === 'arg') {
      const unmatched = new Set<string>();
      const args = instr.args.map((kv) => {
        const build = this.opts.buildArgs;
        let value: string | undefined;
        if (build && Object.prototype.hasOwnProperty.call(build, kv.key)) value = build[kv.key];
        else if (kv.value !== undefined) {
          const r = located(eo.file, instr.startLine, () => expandWordWithMatches(kv.value!, this.vars, eo));
          for (const u of r.unmatched) unmatched.add(u);
          value = r.result;
        } else value = this.opts.globals?.get(kv.key);
        this.declaredArgs.set(kv.key, value);
        if (value !== undefined) this.vars.set(kv.key, value);
        return value === undefined ? { key: kv.key } : { key: kv.key, value };
      });
      return { instruction: { ...instr, args }, unmatched };
    }
    const r = expandInstruction(instr, this.vars, eo);
    if (r.instruction.kind === 'env') for (const kv of r.instruction.env) this.vars.set(kv.key, kv.value);
    return r;
  }
}
