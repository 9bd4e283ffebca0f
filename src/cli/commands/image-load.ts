// berth load / image load: streams a docker-archive or OCI layout tar to the daemon.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { stringOpt } from './filters.js';
import { progressPrinter } from './progress-printer.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const input = stringOpt(opts['input']);
  if (!input && process.stdin.isTTY) throw new BerthError('invalid-argument', 'requested load from stdin, but stdin is empty');
  let body: Readable = process.stdin;
  if (input) {
    const file = createReadStream(input);
    // Open errors (missing file) surface before anything is sent.
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (err: Error) => reject(new BerthError('invalid-argument', `open ${input}: ${err.message}`, { cause: err })));
    });
    body = file;
  }
  const quiet = opts['quiet'] === true;
  const client = await ctx.client();
  await client.loadImage(body, { quiet, onMessage: progressPrinter((s) => ctx.stdout.write(s), { quiet }) });
}
