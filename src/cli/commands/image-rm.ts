// berth rmi / image rm: removes each image in turn; a failure does not stop the others,
// and any failure makes the exit status 1 (as docker).
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { reportError } from '../report-error.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const client = await ctx.client();
  let failed = false;
  for (const name of args) {
    try {
      const items = await client.removeImage(name, { force: opts['force'] === true, noprune: opts['prune'] === false });
      for (const it of items) {
        if (it.Untagged) await ctx.print(`Untagged: ${it.Untagged}\n`);
        if (it.Deleted) await ctx.print(`Deleted: ${it.Deleted}\n`);
      }
    } catch (err) {
      failed = true;
      reportError(err, { debug: ctx.globals.debug });
    }
  }
  return failed ? 1 : 0;
}
