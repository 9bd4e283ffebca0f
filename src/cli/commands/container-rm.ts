// berth rm
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { errorKind } from '../../util/index.js';
import { UsageError } from '../exit-codes.js';
import { forEachContainer } from './container-each.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  if (opts['link'] === true) throw new UsageError('legacy links are not supported by berth');
  const o = { force: opts['force'] === true, volumes: opts['volumes'] === true };
  return forEachContainer(ctx, args, async (api, name) => {
    try {
      await api.remove(name, o);
    } catch (err) {
      // docker: `rm -f` of a container that does not exist is not an error.
      if (o.force && errorKind(err) === 'not-found') return null;
      throw err;
    }
  });
}
