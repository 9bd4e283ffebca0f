// Builds the commander program from the catalog and runs one command. Imported lazily
// by main.ts, so `berth version` never pays for commander.
import { Command, CommanderError, Option } from 'commander';
import { commands, groups, type CommandOptions, type CommandSpec } from './catalog/index.js';
import { GLOBAL_OPTIONS } from './catalog/global-options.js';
import { runCommandAction } from './command-action.js';
import type { EarlyClient, GlobalOptions } from './context.js';
import { EXIT_ENGINE, EXIT_FAILURE } from './exit-codes.js';
import { reportError } from './report-error.js';

/** commander's wording → docker's ("unknown flag: --foo"), prefixed like every berth error. */
function dockerizeError(str: string): string {
  return str
    .replace(/^error: unknown option '([^']*)'/m, 'unknown flag: $1')
    .replace(/^error: option '([^']*)' argument missing/m, 'flag needs an argument: $1')
    .replace(/^error: /m, '')
    .replace(/^/, 'berth: ');
}

const HELP = { subcommandTerm: (c: Command) => c.name(), sortSubcommands: false };

/**
 * commander finds an option by scanning the command's list, and does so for each option added
 * (its conflict check): quadratic, ~1.3 ms of every `berth run` for run's ~100 options. This
 * keeps an index of the list, caught up on each lookup (whatever way an option was added), and
 * answers as the scan does: the first option whose short or long flag is `arg`.
 */
class IndexedCommand extends Command {
  private readonly optionIndex = new Map<string, Option>();
  private indexed = 0;

  override createCommand(name?: string): Command {
    return new IndexedCommand(name);
  }

  /** Overrides commander's private `_findOption(arg)`. */
  _findOption(arg: string): Option | undefined {
    const options = this.options;
    if (options.length < this.indexed) {
      this.optionIndex.clear();
      this.indexed = 0;
    }
    for (; this.indexed < options.length; this.indexed++) {
      const o = options[this.indexed]!;
      for (const flag of [o.short, o.long]) if (flag && !this.optionIndex.has(flag)) this.optionIndex.set(flag, o);
    }
    return this.optionIndex.get(arg);
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Exit code chosen by an action; commander's own errors are turned into docker's codes. */
interface RunState {
  code: number;
}

function addCommand(parent: Command, leaf: string, fullName: string, spec: CommandSpec, program: Command, state: RunState, early?: EarlyClient) {
  const cmd = parent.command(leaf).description(spec.description).usage(spec.usage).argument('[args...]');
  for (const o of spec.options) {
    const opt = new Option(o.flags, o.description);
    if (o.repeatable) opt.argParser(collect);
    if (o.default !== undefined) opt.default(o.default);
    if (o.hidden) opt.hideHelp();
    cmd.addOption(opt);
  }
  if (spec.passThrough) cmd.passThroughOptions();
  cmd.exitOverride();
  cmd.configureOutput({ outputError: (str, write) => write(dockerizeError(str)) });
  cmd.configureHelp(HELP);
  cmd.showHelpAfterError(`\nRun 'berth ${fullName} --help' for more information`);
  cmd.action(async (args: string[], opts: CommandOptions) => {
    state.code = await runCommandAction(spec, fullName, program.opts<GlobalOptions>(), args, opts, early);
  });
}

/**
 * Builds the program. `commandWord` (the first word after the global flags) limits it to the
 * command or group of that name: commander's setup of all ~100 commands and their options is
 * a measurable part of a short command. An unknown word, `help`, or none registers all.
 */
export function buildProgram(state: RunState, commandWord?: string, early?: EarlyClient): Command {
  const program = new IndexedCommand('berth')
    .description('A Docker-compatible container engine')
    .usage('[OPTIONS] COMMAND')
    .enablePositionalOptions()
    .exitOverride()
    .configureHelp(HELP)
    .configureOutput({ outputError: (str, write) => write(dockerizeError(str)) })
    .showHelpAfterError("\nRun 'berth --help' for more information");
  for (const o of GLOBAL_OPTIONS) program.option(o.flags, o.description);
  const known = commandWord !== undefined && commands.some((c) => c.names.some((n) => n.split(' ')[0] === commandWord));
  const wanted = (name: string) => !known || name.split(' ')[0] === commandWord;
  const groupCmds = new Map<string, Command>();
  for (const g of groups) {
    if (!wanted(g.name)) continue;
    const gc = program.command(g.name).description(g.description).usage('COMMAND').exitOverride().configureHelp(HELP);
    groupCmds.set(g.name, gc);
  }
  for (const spec of commands) {
    for (const name of spec.names) {
      if (!wanted(name)) continue;
      const parts = name.split(' ');
      if (parts.length === 1) addCommand(program, name, name, spec, program, state, early);
      else {
        const parent = groupCmds.get(parts[0]!);
        if (!parent) throw new Error(`catalog: command "${name}" names an unknown group`);
        addCommand(parent, parts[1]!, name, spec, program, state, early);
      }
    }
  }
  return program;
}

/** Parses argv, runs the command and returns the exit code. */
export async function runProgram(argv: string[], opts: { commandWord?: string; early?: EarlyClient } = {}): Promise<number> {
  const state: RunState = { code: 0 };
  const program = buildProgram(state, opts.commandWord, opts.early);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
      // A group called without a subcommand prints its help, as docker does.
      if (err.code === 'commander.executeSubCommandAsync') return 0;
      // Unknown flags and bad flag values: docker exits 125.
      return EXIT_ENGINE;
    }
    reportError(err);
    return EXIT_FAILURE;
  }
  return state.code;
}
