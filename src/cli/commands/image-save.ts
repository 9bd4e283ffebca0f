// berth save / image save: the daemon's tar streamed to -o or to stdout.
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { checkArchiveOutput, writeArchive } from './archive-output.js';
import { stringOpt } from './filters.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const output = stringOpt(opts['output']);
  checkArchiveOutput(ctx, output);
  const client = await ctx.client();
  await writeArchive(ctx, await client.saveImages(args), output);
}
