// berth load / image load: streams a docker-archive or OCI layout tar to the daemon.
import type { Readable } from 'node:stream';
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { stringOpt } from './filters.js';
import { openInput } from './open-input.js';
import { progressPrinter } from './progress-printer.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const input = stringOpt(opts['input']);
  if (!input && process.stdin.isTTY) throw new BerthError('invalid-argument', 'requested load from stdin, but stdin is empty');
  const body: Readable = input ? await openInput(input) : process.stdin;
  const quiet = opts['quiet'] === true;
  const client = await ctx.client();
  await client.loadImage(body, { quiet, onMessage: progressPrinter((s) => ctx.stdout.write(s), { quiet, tty: ctx.stdout.isTTY }) });
}
