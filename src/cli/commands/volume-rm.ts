// berth volume rm: prints each removed name; any failure exits 1 after the others.
import { VolumesApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { reportError } from '../report-error.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const api = new VolumesApi(await ctx.client());
  let failed = false;
  for (const name of args) {
    try {
      await api.remove(name, { force: opts['force'] === true });
      await ctx.print(`${name}\n`);
    } catch (err) {
      failed = true;
      reportError(err, { debug: ctx.globals.debug });
    }
  }
  return failed ? 1 : 0;
}
