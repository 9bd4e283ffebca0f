// berth network rm: prints each removed name; -f ignores networks that do not exist.
import { NetworksApi } from '../../client/index.js';
import { errorKind } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { reportError } from '../report-error.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const api = new NetworksApi(await ctx.client());
  let failed = false;
  for (const name of args) {
    try {
      await api.remove(name);
      await ctx.print(`${name}\n`);
    } catch (err) {
      if (opts['force'] === true && errorKind(err) === 'not-found') continue;
      failed = true;
      reportError(err, { debug: ctx.globals.debug });
    }
  }
  // docker's network rm ends a failed run with a bare status error, printed as this line.
  if (failed) ctx.warn('exit status 1');
  return failed ? 1 : 0;
}
