// berth rename
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../exit-codes.js';

export async function run(ctx: CommandContext, args: string[], _opts: CommandOptions): Promise<void> {
  const [from, to] = args as [string, string];
  if (!to.trim()) throw new UsageError('Error: Neither old nor new names may be empty');
  await new ContainersApi(await ctx.client()).rename(from, to.trim());
}
