// `berth run` as one self-contained module. scripts/build.mjs bundles this file without code
// splitting (dist/chunks/hot-run-<hash>.cjs) and main.ts routes `berth run` here: the command
// whose latency matters most loads one module instead of the ~18 chunks the split build
// spreads it over (measured: ~16 ms less CPU per run, ESM resolution and compilation of each
// chunk). The bundle holds its own copies of program, client and util; only `run` is
// registered in it (runProgram's commandWord), and the catalog's other commands are stubs there.
// A plain command line (quick-argv.ts) skips commander altogether.
import * as client from '../client/index.js';
import type { PreconnectedSocket } from '../client/index.js';
import { GLOBAL_OPTIONS } from './catalog/global-options.js';
import { RUN_COMMAND } from './catalog/run.js';
import { runCommandAction } from './command-action.js';
import { earlyClient, type GlobalOptions } from './context.js';
import { EXIT_FAILURE } from './exit-codes.js';
import { quickArgv } from './quick-argv.js';
import { reportError } from './report-error.js';

/**
 * Runs `argv` (a `run` command line); the client's /_ping goes out before it is parsed, or
 * went out on `preconnected` before this bundle loaded (main.ts).
 */
export async function runHotCommand(
  argv: string[],
  opts: { commandWord: string; host: string | undefined; preconnected?: PreconnectedSocket },
): Promise<number> {
  const early = earlyClient(client, opts.host, opts.preconnected);
  // One turn of the event loop: the socket's connect completes and the /_ping is written now,
  // so the daemon answers it while the command line is parsed (the create needs its answer).
  if (!opts.preconnected) await new Promise<void>((r) => setImmediate(r));
  try {
    const quick = opts.commandWord === 'run' ? quickArgv(argv, GLOBAL_OPTIONS, 'run', RUN_COMMAND.options) : undefined;
    if (quick) {
      try {
        return await runCommandAction(RUN_COMMAND, 'run', quick.globals as GlobalOptions, quick.args, quick.opts, early);
      } catch (err) {
        // As runProgram reports what escapes a command's action.
        reportError(err);
        return EXIT_FAILURE;
      }
    }
    const { runProgram } = await import('./program.js');
    return await runProgram(argv, { commandWord: opts.commandWord, early });
  } finally {
    await early?.client.close();
  }
}
