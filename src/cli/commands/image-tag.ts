// berth tag / image tag: the daemon validates the target reference (docker's wording).
import type { CommandContext } from '../context.js';
import { splitReference } from './image-rows.js';

export async function run(ctx: CommandContext, args: string[]): Promise<void> {
  const [source, target] = args as [string, string];
  const { name, tag } = splitReference(target);
  const client = await ctx.client();
  await client.tagImage(source, name, tag);
}
