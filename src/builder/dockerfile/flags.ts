// Instruction flags (`--from=`, `--mount=` …) validated like BuildKit's BFlags: unknown
// flags (with a suggestion), duplicates, missing values and booleans are errors.

import { withSuggestion } from './suggest.js';

export type FlagKind = 'bool' | 'string' | 'strings';

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export interface ParsedFlags {
  bools: Map<string, boolean>;
  strings: Map<string, string>;
  lists: Map<string, string[]>;
  /** Names of the flags that appeared. */
  used: Set<string>;
}

/** Parses `--name[=value]` words against the allowed set. */
export function parseFlags(args: readonly string[], allowed: Readonly<Record<string, FlagKind>>): ParsedFlags {
  const out: ParsedFlags = { bools: new Map(), strings: new Map(), lists: new Map(), used: new Set() };
  for (const a of args) {
    if (a === '--') break;
    if (!a.startsWith('--')) throw new FlagError(`arg should start with -- : ${a}`);
    const eq = a.indexOf('=');
    const flagName = eq < 0 ? a : a.slice(0, eq);
    const hasValue = eq >= 0;
    const value = hasValue ? a.slice(eq + 1) : '';
    const name = flagName.slice(2);
    const kind = Object.prototype.hasOwnProperty.call(allowed, name) ? allowed[name] : undefined;
    if (kind === undefined) throw new FlagError(withSuggestion(`unknown flag: ${flagName}`, name, Object.keys(allowed), true));
    if (out.used.has(name) && kind !== 'strings') throw new FlagError(`duplicate flag specified: ${flagName}`);
    out.used.add(name);
    if (kind === 'bool') {
      if (hasValue && value === '') throw new FlagError(`missing a value on flag: ${flagName}`);
      const v = value.toLowerCase();
      if (v === 'true' || v === '') out.bools.set(name, true);
      else if (v === 'false') out.bools.set(name, false);
      else throw new FlagError(`expecting boolean value for flag ${flagName}, not: ${value}`);
    } else {
      if (!hasValue) throw new FlagError(`missing a value on flag: ${flagName}`);
      if (kind === 'string') out.strings.set(name, value);
      else {
        const l = out.lists.get(name);
        if (l) l.push(value);
        else out.lists.set(name, [value]);
      }
    }
  }
  return out;
}
