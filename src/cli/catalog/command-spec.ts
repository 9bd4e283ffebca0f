// A command of the berth CLI described as data. The catalog (catalog/index.ts) lists
// every command; `program.ts` turns it into commander commands, and the implementation
// module is imported only when that command runs, so start-up stays cheap.
import type { CommandContext } from '../context.js';
import type { ExitPolicy } from '../exit-codes.js';

export interface OptionSpec {
  /** commander syntax: `-a, --all`, `-f, --format <string>`. */
  flags: string;
  description: string;
  default?: string | boolean;
  /** Repeatable (`--filter a=b --filter c=d`): collected into a string array. */
  repeatable?: boolean;
  hidden?: boolean;
}

/** A repeatable option (`--filter a --filter b`), the shape most list flags take. */
export function repeatable(flags: string, description: string): OptionSpec {
  return { flags, description, repeatable: true };
}

export type CommandOptions = Record<string, string | boolean | string[] | undefined>;

export interface CommandModule {
  /** Runs the command; returning a number exits with it (e.g. a container's status). */
  run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number | void>;
}

export interface CommandSpec {
  /** Every name: `image ls`, `image list`, `images`. The first is canonical. */
  names: string[];
  /** Usage after the command name, docker style: `[OPTIONS] [REPOSITORY[:TAG]]`. */
  usage: string;
  description: string;
  /** Positional arguments (docker's cobra Args checks). */
  args: { min: number; max?: number };
  options: OptionSpec[];
  /** How failures map to exit codes (default `standard`). */
  exitPolicy?: ExitPolicy;
  /** Stop parsing options at the first positional (`run IMAGE CMD --flag`). */
  passThrough?: boolean;
  load(): Promise<CommandModule>;
}

/** A management command (`image`, `system`, `container`) that holds subcommands. */
export interface GroupSpec {
  name: string;
  description: string;
}
