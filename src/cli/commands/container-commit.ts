// berth commit: a new image from the container's changes; prints its id.
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { splitReference } from './image-rows.js';
import { reclaimBoolValue } from '../attach/stdio-session.js';
import { listOpt, stringOpt } from './filters.js';

export async function run(ctx: CommandContext, rawArgs: string[], opts: CommandOptions): Promise<void> {
  const [container, ref] = reclaimBoolValue(opts['pause'], rawArgs) as [string, string | undefined];
  let repo: string | undefined;
  let tag: string | undefined;
  if (ref) {
    const r = splitReference(ref);
    if (r.digest) throw new UsageError(`refusing to create a tag with a digest reference`);
    repo = r.name;
    tag = r.tag;
  }
  const pause = opts['pause'] !== false && !['false', '0', 'f', 'F', 'FALSE', 'False'].includes(String(opts['pause']));
  const res = await new ContainersApi(await ctx.client()).commit(container, {
    repo,
    tag,
    comment: stringOpt(opts['message']),
    author: stringOpt(opts['author']),
    pause,
    changes: listOpt(opts['change']),
  });
  await ctx.print(`${res.Id}\n`);
}
