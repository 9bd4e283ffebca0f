// `berth run`'s command line read without commander: building the commander program and
// parsing with it is ~2-3 ms of CPU of every `berth run` (loading commander, ~80 options
// registered, its parse), more than the rest of the run's own JS. This reads the same
// OptionSpec data (the global flags, then the command's own) with commander's rules for the
// kinds of flags berth uses: boolean, `--no-x`, `<value>`, `[value]`, repeatable (collected),
// `-abc` groups, `-eVALUE`, `--flag=value`, `--`, and option parsing that stops at the first
// operand (passThroughOptions; enablePositionalOptions at the program). Its result is what
// commander hands the command's action: the program's options, the operands and the
// command's options, defaults included.
//
// It declines (returns undefined, and commander parses as before) on anything that is not
// plainly a good command line: an unknown flag, a missing value, help, another command word,
// no operand, a negative number where commander's rules depend on it, flags it does not know
// how to read. Everything commander would refuse or answer with help is thus left to commander,
// so errors keep their wording. quick-argv.test.ts checks a corpus of command lines: each is
// declined or parsed exactly as commander parses it.
import type { CommandOptions, OptionSpec } from './catalog/command-spec.js';

type FlagKind = 'boolean' | 'negate' | 'required' | 'optional';

interface Flag {
  /** commander's attributeName(): `--dns-search` → `dnsSearch`, `--no-healthcheck` → `healthcheck`. */
  attribute: string;
  kind: FlagKind;
  repeatable: boolean;
}

interface FlagTable {
  byFlag: Map<string, Flag>;
  defaults: [string, string | boolean][];
}

export interface QuickArgv {
  /** The program's options (`-H`, `--data-root`, `-D`, `-l`), as commander's `program.opts()`. */
  globals: CommandOptions;
  /** The operands after the command word (image, command, its arguments). */
  args: string[];
  /** The command's options, as commander's `cmd.opts()` (defaults included). */
  opts: CommandOptions;
}

/** A long flag's name: lower-case letters, digits and inner dashes (`dns-search`, `no-healthcheck`). */
function isFlagName(name: string): boolean {
  if (name === '' || name[0] === '-' || name[name.length - 1] === '-') return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) return false;
  }
  return true;
}

/**
 * `-a, --attach <list>`, `--rm`, `--sig-proxy [bool]`, `--no-healthcheck` split into their
 * parts; undefined for any other way of writing flags. String operations, not a regex: V8
 * compiles a regex on its first use, in every `berth run`.
 */
function splitFlags(flags: string): { short: string | undefined; long: string; value: string | undefined } | undefined {
  const words = flags.split(' ');
  let i = 0;
  let short: string | undefined;
  const first = words[0]!;
  if (first.length === 3 && first[0] === '-' && first[1] !== '-' && first[2] === ',') {
    short = first.slice(0, 2);
    i = 1;
  }
  const long = words[i];
  if (long === undefined || !long.startsWith('--') || !isFlagName(long.slice(2))) return undefined;
  const value = words[i + 1];
  if (words.length > i + 2) return undefined;
  if (value !== undefined) {
    const close = value[0] === '<' ? '>' : value[0] === '[' ? ']' : undefined;
    if (!close || value.length < 3 || value[value.length - 1] !== close || value.slice(1, -1).includes(close)) return undefined;
  }
  return { short, long, value };
}

/** commander's camelcase(): `dns-search` → `dnsSearch`. */
function camelcase(name: string): string {
  const parts = name.split('-');
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i++) out += parts[i]![0]!.toUpperCase() + parts[i]!.slice(1);
  return out;
}

/** The table of `options`, or undefined when one of them is written in a way not read here. */
function flagTable(options: OptionSpec[]): FlagTable | undefined {
  const byFlag = new Map<string, Flag>();
  const defaults: [string, string | boolean][] = [];
  for (const o of options) {
    const parts = splitFlags(o.flags);
    if (!parts) return undefined;
    const { short, long, value } = parts;
    const negate = long.startsWith('--no-');
    const kind: FlagKind = value ? (value.startsWith('<') ? 'required' : 'optional') : negate ? 'negate' : 'boolean';
    // commander would collect `undefined` for a repeatable flag without a value.
    if (o.repeatable && (kind === 'boolean' || kind === 'negate')) return undefined;
    const flag: Flag = { attribute: camelcase(long.slice(negate ? 5 : 2)), kind, repeatable: o.repeatable === true };
    if (negate) {
      // commander: `--no-x` alone makes x default to true, unless `--x` came before it.
      if (value || !byFlag.has(`--${long.slice(5)}`)) defaults.push([flag.attribute, o.default ?? true]);
      if (value) return undefined;
    } else if (o.default !== undefined) {
      defaults.push([flag.attribute, o.default]);
    }
    // commander's lookup answers with the first option that has the flag.
    for (const f of [short, long]) if (f && !byFlag.has(f)) byFlag.set(f, flag);
  }
  return { byFlag, defaults };
}

/** commander's maybeOption(). */
function isOptionLike(arg: string): boolean {
  return arg.length > 1 && arg[0] === '-';
}

/** commander's negativeNumberArg() test, where its rules would depend on it. */
function isNegativeNumber(arg: string): boolean {
  return /^-(\d+|\d*\.\d+)(e[+-]?\d+)?$/.test(arg);
}

function assign(values: CommandOptions, flag: Flag, given: string | null | undefined): void {
  let value: string | boolean | string[] | null | undefined = given;
  if (typeof value === 'string' && flag.repeatable) {
    const previous = values[flag.attribute];
    value = [...((previous as string[] | undefined) ?? []), value];
  }
  if (value === null || value === undefined) value = flag.kind !== 'negate';
  values[flag.attribute] = value;
}

/**
 * Reads the options at the start of `args` into `values`, as commander's parseOptions does
 * when it stops at the first operand. Returns where the operands start (`afterDashes` when a
 * `--` ended the options), or undefined to decline.
 */
function readOptions(args: string[], table: FlagTable, values: CommandOptions): { at: number; afterDashes: boolean } | undefined {
  let i = 0;
  let group: string | undefined;
  while (i < args.length || group !== undefined) {
    const arg = group ?? args[i++]!;
    group = undefined;
    if (arg === '--') return { at: i, afterDashes: true };
    if (arg === '--help' || arg === '-h') return undefined;
    const flag = isOptionLike(arg) ? table.byFlag.get(arg) : undefined;
    if (flag) {
      if (flag.kind === 'required') {
        if (i >= args.length) return undefined;
        assign(values, flag, args[i++]);
      } else if (flag.kind === 'optional') {
        const next = args[i];
        if (next !== undefined && isNegativeNumber(next)) return undefined;
        assign(values, flag, next !== undefined && !isOptionLike(next) ? args[i++] : null);
      } else {
        assign(values, flag, undefined);
      }
      continue;
    }
    // `-it` (a group of boolean short flags), `-eA=B` (a short flag and its value).
    if (arg.length > 2 && arg[0] === '-' && arg[1] !== '-') {
      const first = table.byFlag.get(arg.slice(0, 2));
      if (first) {
        if (first.kind === 'required' || first.kind === 'optional') assign(values, first, arg.slice(2));
        else {
          assign(values, first, undefined);
          group = `-${arg.slice(2)}`;
        }
        continue;
      }
    }
    // `--name=value`.
    if (/^--[^=]+=/.test(arg)) {
      const eq = arg.indexOf('=');
      const long = table.byFlag.get(arg.slice(0, eq));
      if (long && (long.kind === 'required' || long.kind === 'optional')) {
        assign(values, long, arg.slice(eq + 1));
        continue;
      }
    }
    // An unknown flag (commander's error), or a negative number commander may take as an operand.
    if (isOptionLike(arg)) return undefined;
    return { at: i - 1, afterDashes: false };
  }
  return { at: args.length, afterDashes: false };
}

/**
 * `argv` (after node and the script) read as `berth [global flags] <commandWord> [flags]
 * operand…` for a command whose options stop at its first operand; undefined when commander
 * should read it instead (see the header).
 */
export function quickArgv(argv: string[], globalOptions: OptionSpec[], commandWord: string, commandOptions: OptionSpec[]): QuickArgv | undefined {
  const globalTable = flagTable(globalOptions);
  const commandTable = flagTable(commandOptions);
  if (!globalTable || !commandTable) return undefined;
  const globals: CommandOptions = {};
  for (const [k, v] of globalTable.defaults) globals[k] = v;
  const atCommand = readOptions(argv, globalTable, globals);
  if (!atCommand || atCommand.afterDashes || argv[atCommand.at] !== commandWord) return undefined;
  const rest = argv.slice(atCommand.at + 1);
  const opts: CommandOptions = {};
  for (const [k, v] of commandTable.defaults) opts[k] = v;
  const atOperands = readOptions(rest, commandTable, opts);
  if (!atOperands) return undefined;
  const args = rest.slice(atOperands.at);
  if (args.length === 0) return undefined;
  return { globals, args, opts };
}
