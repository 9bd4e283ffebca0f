// berth create: the container is created (pulled first per --pull) and its id printed.
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { createContainer } from '../run/create-container.js';
import { buildCreatePlan } from '../run/create-request.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const plan = buildCreatePlan(opts, args, { run: false });
  const id = await createContainer(ctx, plan);
  await ctx.print(`${id}\n`);
}
