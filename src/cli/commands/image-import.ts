// berth import / image import: a rootfs tar from a file, stdin (`-`) or a URL becomes an
// image; `-c` applies Dockerfile instructions (CMD, ENV, …) to its config.
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { listOpt, stringOpt } from './filters.js';
import { openInput } from './open-input.js';
import { progressPrinter } from './progress-printer.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const [src, ref] = args as [string, string | undefined];
  const source = /^https?:\/\//.test(src) ? { url: src } : src === '-' ? process.stdin : await openInput(src);
  const client = await ctx.client();
  await client.importImage(source, {
    repo: ref,
    changes: listOpt(opts['change']),
    message: stringOpt(opts['message']),
    platform: stringOpt(opts['platform']),
    onMessage: progressPrinter((s) => ctx.stdout.write(s), { tty: ctx.stdout.isTTY }),
  });
}
