// `berth run` as one self-contained module. scripts/build.mjs bundles this file without code
// splitting (dist/chunks/hot-run-<hash>.cjs) and main.ts routes `berth run` here: the command
// whose latency matters most loads one module instead of the ~18 chunks the split build
// spreads it over (measured: ~16 ms less CPU per run, ESM resolution and compilation of each
// chunk). The bundle holds its own copies of program, client and util; only `run` is
// registered in it (runProgram's commandWord), and the catalog's other commands are stubs there.
import * as client from '../client/index.js';
import { earlyClient } from './context.js';

/** Runs `argv` (a `run` command line); the client's /_ping goes out before commander loads. */
export async function runHotCommand(argv: string[], opts: { commandWord: string; host: string | undefined }): Promise<number> {
  const early = earlyClient(client, opts.host);
  // One turn of the event loop: the socket's connect completes and the /_ping is written now,
  // so the daemon answers it while commander loads and parses (the create needs its answer).
  await new Promise<void>((r) => setImmediate(r));
  const { runProgram } = await import('./program.js');
  try {
    return await runProgram(argv, { commandWord: opts.commandWord, early });
  } finally {
    await early?.client.close();
  }
}
