// What running one command means once its arguments are parsed: the argument count check,
// the command's context, its module, and the mapping of a failure to an exit code. program.ts
// calls it from commander's action; hot-run.ts calls it directly for a `run` command line
// that quick-argv.ts parsed without commander.
import type { CommandOptions, CommandSpec } from './catalog/command-spec.js';
import { CommandContext, type EarlyClient, type GlobalOptions } from './context.js';
import { EXIT_FAILURE, exitCodeFor } from './exit-codes.js';
import { reportError } from './report-error.js';

/** Docker's message for a wrong number of arguments (exit 1, like cobra's Args checks). */
function argsError(spec: CommandSpec, name: string, got: number): string | undefined {
  const { min, max } = spec.args;
  let need: string | undefined;
  if (max !== undefined && min === max && got !== min) need = min === 0 ? 'no arguments' : `${min} argument${min === 1 ? '' : 's'}`;
  else if (got < min) need = `at least ${min} argument${min === 1 ? '' : 's'}`;
  else if (max !== undefined && got > max) need = `at most ${max} argument${max === 1 ? '' : 's'}`;
  if (!need) return undefined;
  return `'berth ${name}' requires ${need}\n\nUsage:  berth ${name} ${spec.usage}\n\nRun 'berth ${name} --help' for more information`;
}

/** Runs `spec` as `berth <fullName> <args>` with its parsed options; returns the exit code. */
export async function runCommandAction(
  spec: CommandSpec,
  fullName: string,
  globals: GlobalOptions,
  args: string[],
  opts: CommandOptions,
  early?: EarlyClient,
): Promise<number> {
  const usage = argsError(spec, fullName, args.length);
  if (usage) {
    process.stderr.write(`berth: ${usage}\n`);
    return EXIT_FAILURE;
  }
  const ctx = new CommandContext(globals, fullName, early);
  try {
    const mod = await spec.load();
    const code = await mod.run(ctx, args, opts);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    reportError(err, { debug: globals.debug });
    return exitCodeFor(err, spec.exitPolicy);
  } finally {
    await ctx.close();
  }
}
