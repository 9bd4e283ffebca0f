// berth diff: `C /etc`, `A /new`, `D /gone` for the container's filesystem changes.
import { ContainersApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';

const KINDS = ['C', 'A', 'D'] as const;

export async function run(ctx: CommandContext, args: string[], _opts: CommandOptions): Promise<void> {
  const changes = (await new ContainersApi(await ctx.client()).changes(args[0]!)) ?? [];
  await ctx.print(changes.map((c) => `${KINDS[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
}
