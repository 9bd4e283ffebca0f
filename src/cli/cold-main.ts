// Every command but `run` and the plain `version`: the commander program, split by esbuild
// into one chunk per command (dist/chunks/). main.ts imports this module only for them, so
// `berth run` never starts node's ES module loader (scripts/build.mjs).
import type { EarlyClient } from './context.js';

/** Commands that never talk to the daemon: no early /_ping for them. */
const OFFLINE_COMMANDS = new Set(['help', 'daemon', 'docker-env', 'context', 'lint']);

/**
 * Starts the daemon connection and its /_ping while the command's modules load (the docker
 * CLI's first request too). Anything wrong here (a bad -H, a dead socket) is left for the
 * command to find and report as it always did; this only saves the wait.
 */
async function earlyClient(command: string | undefined, host: string | undefined, argv: string[]): Promise<EarlyClient | undefined> {
  if (command === undefined || OFFLINE_COMMANDS.has(command) || argv.includes('--help') || argv.includes('-h')) return undefined;
  const [client, context] = await Promise.all([import('../client/index.js'), import('./context.js')]);
  return context.earlyClient(client, host);
}

/** Runs `argv` (the words after `berth`); `command` and `host` are what main.ts peeked. */
export async function runCold(argv: string[], command: string | undefined, host: string | undefined): Promise<number> {
  // The /_ping goes out while the program's chunks load.
  const [{ runProgram }, early] = await Promise.all([import('./program.js'), earlyClient(command, host, argv)]);
  // `berth --help run` is the program's help: it needs every command.
  const helpFirst = command !== undefined && argv.slice(0, argv.indexOf(command)).some((a) => a === '-h' || a === '--help');
  try {
    return await runProgram(argv, { commandWord: helpFirst ? undefined : command, early });
  } finally {
    await early?.client.close();
  }
}
