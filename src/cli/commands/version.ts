// `berth version` through the full program (e.g. with --debug); the work is in version-fast.ts.
import type { CommandContext } from '../context.js';
import type { CommandOptions } from '../catalog/index.js';
import { runFastVersion } from './version-fast.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<number> {
  return runFastVersion({ host: ctx.globals.host, dataRoot: ctx.globals.dataRoot, format: opts['format'] as string | undefined });
}
