// berth volume create: prints the new volume's name.
import { VolumesApi } from '../../client/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { parseKeyValues } from '../run/flag-values.js';
import { listOpt, stringOpt } from './filters.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const flagName = stringOpt(opts['name']);
  if (flagName && args[0] && flagName !== args[0]) {
    throw new UsageError('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
  }
  const v = await new VolumesApi(await ctx.client()).create({
    Name: args[0] ?? flagName ?? '',
    Driver: stringOpt(opts['driver']) ?? 'local',
    DriverOpts: parseKeyValues(listOpt(opts['opt']), { flag: '-o, --opt', requireValue: true }),
    Labels: parseKeyValues(listOpt(opts['label'])),
  });
  await ctx.print(`${v.Name}\n`);
}
