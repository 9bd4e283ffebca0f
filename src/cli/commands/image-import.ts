// berth import / image import: a rootfs tar from a file, stdin (`-`) or a URL becomes an
// image; `-c` applies Dockerfile instructions (CMD, ENV, …) to its config.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { listOpt, stringOpt } from './filters.js';
import { progressPrinter } from './progress-printer.js';

async function openFile(path: string): Promise<Readable> {
  const s = createReadStream(path);
  await new Promise<void>((resolve, reject) => {
    s.once('open', () => resolve());
    s.once('error', (err) => reject(new BerthError('invalid-argument', `open ${path}: ${(err as Error).message}`, { cause: err })));
  });
  return s;
}

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const [src, ref] = args as [string, string | undefined];
  const source = /^https?:\/\//.test(src) ? { url: src } : src === '-' ? process.stdin : await openFile(src);
  const client = await ctx.client();
  await client.importImage(source, {
    repo: ref,
    changes: listOpt(opts['change']),
    message: stringOpt(opts['message']),
    platform: stringOpt(opts['platform']),
    onMessage: progressPrinter((s) => ctx.stdout.write(s)),
  });
}
