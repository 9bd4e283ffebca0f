// berth export: the container's filesystem as a tar, to -o or to stdout.
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { checkArchiveOutput, writeArchive } from './archive-output.js';
import { stringOpt } from './filters.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const output = stringOpt(opts['output']);
  checkArchiveOutput(ctx, output);
  const tar = await new ContainersApi(await ctx.client()).export(args[0]!);
  await writeArchive(ctx, tar, output);
}
