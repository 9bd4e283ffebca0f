// The shape docker's multi-container commands share (stop, kill, rm, pause, …): act on each
// name in turn, print the name on success, report each failure, exit 1 if any failed.
import { ContainersApi } from '../../client/index.js';
import type { CommandContext } from '../context.js';
import { reportError } from '../report-error.js';

export async function forEachContainer(
  ctx: CommandContext,
  names: string[],
  /** Returns what to print instead of the name, or null to print nothing. */
  action: (api: ContainersApi, name: string) => Promise<string | null | void>,
): Promise<number> {
  const api = new ContainersApi(await ctx.client());
  let failed = 0;
  for (const name of names) {
    try {
      const out = await action(api, name);
      if (out !== null) await ctx.print(`${out ?? name}\n`);
    } catch (err) {
      failed++;
      reportError(err, { debug: ctx.globals.debug });
    }
  }
  return failed ? 1 : 0;
}
