// berth docker-env / context: the line that points any docker client at berth.
import type { CommandContext } from '../context.js';

export async function run(ctx: CommandContext): Promise<void> {
  const { resolveHost, DEFAULT_HOST } = await import('../../client/index.js');
  const host = ctx.globals.host ? resolveHost(ctx.globals.host) : DEFAULT_HOST;
  await ctx.print(`export DOCKER_HOST=${host}\n`);
}
