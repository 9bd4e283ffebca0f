// AST node → one typed object per instruction, with BuildKit's validation and error
// messages (frontend/dockerfile/instructions). Values stay unexpanded here; expand.ts
// expands them per instruction when a stage is built.

import { SourceError } from '../../util/index.js';
import { FlagError, parseFlags, type FlagKind, type ParsedFlags } from './flags.js';
import { chompHeredocContent, parseHeredoc, type Heredoc } from './heredoc.js';
import {
  INSTRUCTION_NAMES,
  type CommandLine,
  type FromInstruction,
  type HealthConfig,
  type HealthcheckInstruction,
  type Instruction,
  type InstructionBase,
  type KeyValue,
  type OnbuildInstruction,
  type RunInstruction,
  type SourceContent,
  type SourcesAndDest,
} from './instruction-types.js';
import type { InstructionNode } from './parser.js';
import { MountParseError, parseRunMount, type RunMount } from './run-mount.js';
import { ShellLexError } from './shell-lex.js';
import { withSuggestion } from './suggest.js';
import { parseGoDuration, UnitParseError } from './units.js';

export * from './instruction-types.js';
export { parseChmod, ChmodError } from './chmod.js';
export { parseExposePort, exposedPortKeys, type ExposedPort } from './expose-port.js';
export type { RunMount, MountType, CacheSharing } from './run-mount.js';

/** A message without location; parseInstruction adds `Dockerfile:LINE:`. */
class InstructionError extends Error {}

const fail = (msg: string): never => {
  throw new InstructionError(msg);
};
const atLeastOne = (cmd: string) => `${cmd} requires at least one argument`;
const exactlyOne = (cmd: string) => `${cmd} requires exactly one argument`;
const noDest = (cmd: string) => `${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`;

function base(node: InstructionNode): InstructionBase {
  return {
    keyword: node.keyword,
    original: node.original.trim(),
    startLine: node.startLine,
    endLine: node.endLine,
    comments: node.comments,
    flags: node.flags,
  };
}

function flagsOf(node: InstructionNode, allowed: Readonly<Record<string, FlagKind>>): ParsedFlags {
  return parseFlags(node.flags, allowed);
}

function noFlags(node: InstructionNode): void {
  parseFlags(node.flags, {});
}

function kvps(args: string[], cmd: string): KeyValue[] {
  if (args.length === 0) fail(atLeastOne(cmd));
  if (args.length % 3 !== 0) fail(`Bad input to ${cmd}, too many arguments`);
  const out: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 3) {
    if (args[i]!.length === 0) fail(`${cmd} names can not be blank`);
    out.push({ key: args[i]!, value: args[i + 1]!, noDelim: args[i + 2] === '' });
  }
  return out;
}

/** BuildKit's handleJSONArgs: exec form as is, shell form joined into one string. */
function commandLine(node: InstructionNode, args: string[], emptyAsNone: boolean): CommandLine {
  let cmdLine = args.length === 0 ? [] : node.json ? args : [args.join(' ')];
  if (emptyAsNone && cmdLine.length === 0) cmdLine = [];
  return {
    cmdLine,
    prependShell: !node.json,
    files: node.heredocs.map((h) => ({ name: h.name, data: h.content, chomp: h.chomp })),
  };
}

function sourcesAndDest(node: InstructionNode, cmd: string): SourcesAndDest {
  const args = node.args;
  const dest = args[args.length - 1]!;
  if (parseHeredocQuiet(dest)) fail(`${cmd} cannot accept a heredoc as a destination`);
  const byName = new Map<string, Heredoc>();
  for (const h of node.heredocs) byName.set(h.name, h);
  const sources: string[] = [];
  const sourceContents: SourceContent[] = [];
  for (const src of args.slice(0, -1)) {
    const h = parseHeredocQuiet(src);
    if (h) {
      let data = byName.get(h.name)?.content ?? '';
      if (h.chomp) data = chompHeredocContent(data);
      sourceContents.push({ path: h.name, data, expand: h.expand });
    } else {
      sources.push(src);
    }
  }
  return { sources, sourceContents, dest };
}

function parseHeredocQuiet(word: string): ReturnType<typeof parseHeredoc> {
  try {
    return parseHeredoc(word);
  } catch (e) {
    // MustParseHeredoc in BuildKit: a malformed heredoc word is just not a heredoc
    if (e instanceof ShellLexError) return undefined;
    throw e;
  }
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function parseFrom(node: InstructionNode): FromInstruction {
  const a = node.args;
  let stageName: string | undefined;
  if (a.length === 3 && a[1]!.toLowerCase() === 'as') {
    stageName = a[2]!.toLowerCase();
    if (!STAGE_NAME.test(stageName)) fail(`invalid name for build stage: ${JSON.stringify(a[2])}, name can't start with a number or contain symbols`);
  } else if (a.length !== 1) {
    fail('FROM requires either one or three arguments');
  }
  const f = flagsOf(node, { platform: 'string' });
  const platform = f.strings.get('platform');
  return {
    ...base(node),
    kind: 'from',
    image: a[0]!,
    ...(stageName !== undefined && { stageName, asKeyword: a[1]!, stageNameAsWritten: a[2]! }),
    ...(platform ? { platform } : {}),
  };
}

function mountFrom(spec: string): string | undefined {
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    if (eq > 0 && field.slice(0, eq).toLowerCase() === 'from') return field.slice(eq + 1);
  }
  return undefined;
}

function parseRun(node: InstructionNode): RunInstruction {
  const f = flagsOf(node, { mount: 'strings', network: 'string', security: 'string', device: 'strings' });
  const network = f.strings.get('network') ?? 'default';
  if (network !== 'default' && network !== 'none' && network !== 'host') return fail(`invalid network mode ${JSON.stringify(network)}`);
  const security = f.strings.get('security') ?? 'sandbox';
  if (security !== 'sandbox' && security !== 'insecure') return fail(`security ${JSON.stringify(security)} is not valid`);
  const mountSpecs = f.lists.get('mount') ?? [];
  let mounts: RunMount[] | undefined = [];
  for (const spec of mountSpecs) {
    const from = mountFrom(spec);
    if (from !== undefined) {
      const i = from.indexOf('$');
      if (i !== -1 && i !== from.length - 1) fail(`'from' doesn't support variable expansion, define alias stage instead`);
    }
    if (spec.includes('$')) mounts = undefined;
    else if (mounts) mounts.push(parseRunMount(spec));
  }
  return {
    ...base(node),
    kind: 'run',
    ...commandLine(node, node.args, false),
    mountSpecs,
    ...(mounts && { mounts }),
    network,
    security,
  };
}

function parseHealthcheck(node: InstructionNode): HealthcheckInstruction {
  if (node.args.length === 0) fail(atLeastOne('HEALTHCHECK'));
  const typ = node.args[0]!.toUpperCase();
  const rest = node.args.slice(1);
  const health: HealthConfig = { test: [], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  if (typ === 'NONE') {
    if (rest.length !== 0) fail('HEALTHCHECK NONE takes no arguments');
    health.test = ['NONE'];
    return { ...base(node), kind: 'healthcheck', health };
  }
  const f = flagsOf(node, { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' });
  if (typ !== 'CMD') fail(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = rest.length === 0 ? [] : node.json ? rest : [rest.join(' ')];
  if (cmd.length === 0) fail('Missing command after HEALTHCHECK CMD');
  health.test = [node.json ? 'CMD' : 'CMD-SHELL', ...cmd];
  const interval = (name: string): number => {
    const v = f.strings.get(name) ?? '';
    if (v === '') return 0;
    const d = parseGoDuration(v);
    if (d === 0) return 0;
    if (d < 1e6) fail(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return d;
  };
  health.interval = interval('interval');
  health.timeout = interval('timeout');
  health.startPeriod = interval('start-period');
  health.startInterval = interval('start-interval');
  const retries = f.strings.get('retries') ?? '';
  if (retries !== '') {
    if (!/^[+-]?\d+$/.test(retries)) fail(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    const n = Number.parseInt(retries, 10);
    if (n > 2147483647 || n < -2147483648) fail(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: value out of range`);
    if (n < 0) fail(`--retries cannot be negative (${n})`);
    health.retries = n;
  }
  return { ...base(node), kind: 'healthcheck', health };
}

function parseOnbuild(node: InstructionNode): OnbuildInstruction {
  if (!node.trigger) return fail(atLeastOne('ONBUILD'));
  noFlags(node);
  const trigger = node.trigger.keyword.trim().toUpperCase();
  if (trigger === 'ONBUILD') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
  let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
  for (const h of node.heredocs) expression += '\n' + h.content + h.name;
  return { ...base(node), kind: 'onbuild', expression, triggerKeyword: trigger };
}

function parseTyped(node: InstructionNode): Instruction {
  const a = node.args;
  const b = () => base(node);
  switch (node.keyword.toLowerCase()) {
    case 'from':
      return parseFrom(node);
    case 'run':
      return parseRun(node);
    case 'cmd':
      noFlags(node);
      return { ...b(), kind: 'cmd', ...commandLine(node, a, false) };
    case 'entrypoint':
      noFlags(node);
      return { ...b(), kind: 'entrypoint', ...commandLine(node, a, true) };
    case 'env':
      noFlags(node);
      return { ...b(), kind: 'env', env: kvps(a, 'ENV') };
    case 'label':
      noFlags(node);
      return { ...b(), kind: 'label', labels: kvps(a, 'LABEL') };
    case 'maintainer':
      if (a.length !== 1) fail(exactlyOne('MAINTAINER'));
      noFlags(node);
      return { ...b(), kind: 'maintainer', maintainer: a[0]! };
    case 'arg': {
      if (a.length < 1) fail(atLeastOne('ARG'));
      const args = a.map((w) => {
        const eq = w.indexOf('=');
        if (eq < 0) return { key: w };
        if (eq === 0) fail('ARG names can not be blank');
        return { key: w.slice(0, eq), value: w.slice(eq + 1) };
      });
      return { ...b(), kind: 'arg', args };
    }
    case 'expose':
      if (a.length === 0) fail(atLeastOne('EXPOSE'));
      noFlags(node);
      return { ...b(), kind: 'expose', ports: [...a].sort() };
    case 'workdir':
      if (a.length !== 1) fail(exactlyOne('WORKDIR'));
      noFlags(node);
      return { ...b(), kind: 'workdir', path: a[0]! };
    case 'user':
      if (a.length !== 1) fail(exactlyOne('USER'));
      noFlags(node);
      return { ...b(), kind: 'user', user: a[0]! };
    case 'volume': {
      if (a.length === 0) fail(atLeastOne('VOLUME'));
      noFlags(node);
      const volumes = a.map((v) => {
        const t = v.trim();
        if (t === '') fail('VOLUME specified can not be an empty string');
        return t;
      });
      return { ...b(), kind: 'volume', volumes };
    }
    case 'stopsignal':
      if (a.length !== 1) fail(exactlyOne('STOPSIGNAL'));
      return { ...b(), kind: 'stopsignal', signal: a[0]! };
    case 'shell': {
      noFlags(node);
      if (a.length === 0) fail(atLeastOne('SHELL'));
      if (!node.json) fail('SHELL requires the arguments to be in JSON form');
      return { ...b(), kind: 'shell', shell: a };
    }
    case 'healthcheck':
      return parseHealthcheck(node);
    case 'onbuild':
      return parseOnbuild(node);
    case 'copy': {
      if (a.length < 2) fail(noDest('COPY'));
      const f = flagsOf(node, { chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' });
      const sd = sourcesAndDest(node, 'COPY');
      const from = f.strings.get('from');
      const chown = f.strings.get('chown');
      const chmod = f.strings.get('chmod');
      return {
        ...b(),
        kind: 'copy',
        ...sd,
        ...(from ? { from } : {}),
        ...(chown ? { chown } : {}),
        ...(chmod ? { chmod } : {}),
        link: f.bools.get('link') ?? false,
        excludes: f.lists.get('exclude') ?? [],
        parents: f.bools.get('parents') ?? false,
      };
    }
    case 'add': {
      if (a.length < 2) fail(noDest('ADD'));
      const f = flagsOf(node, { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings' });
      const sd = sourcesAndDest(node, 'ADD');
      const chown = f.strings.get('chown');
      const chmod = f.strings.get('chmod');
      const checksum = f.strings.get('checksum');
      const keepGitDir = f.bools.get('keep-git-dir');
      const unpack = f.bools.get('unpack');
      return {
        ...b(),
        kind: 'add',
        ...sd,
        ...(chown ? { chown } : {}),
        ...(chmod ? { chmod } : {}),
        ...(checksum ? { checksum } : {}),
        ...(keepGitDir !== undefined ? { keepGitDir } : {}),
        ...(unpack !== undefined ? { unpack } : {}),
        link: f.bools.get('link') ?? false,
        excludes: f.lists.get('exclude') ?? [],
      };
    }
    default:
      return fail(withSuggestion(`unknown instruction: ${node.keyword}`, node.keyword, INSTRUCTION_NAMES, false));
  }
}

const LOCAL_ERRORS = [InstructionError, FlagError, MountParseError, UnitParseError];

/** Turns one AST node into a typed instruction. Throws SourceError `FILE:LINE: message`. */
export function parseInstruction(node: InstructionNode, file = 'Dockerfile'): Instruction {
  try {
    return parseTyped(node);
  } catch (e) {
    if (LOCAL_ERRORS.some((k) => e instanceof k)) throw new SourceError(file, node.startLine, (e as Error).message, { cause: e });
    throw e;
  }
}
