// berth export: the container's filesystem as a tar, to -o (temp + rename) or to stdout,
// which must not be a terminal.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ContainersApi } from '../../client/index.js';
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { stringOpt } from './filters.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const output = stringOpt(opts['output']);
  if (!output && ctx.stdout.isTTY) {
    throw new BerthError('invalid-argument', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  }
  const tar = await new ContainersApi(await ctx.client()).export(args[0]!);
  if (!output) {
    await pipeline(tar, ctx.stdout, { end: false });
    return;
  }
  const tmp = join(dirname(output), `.${basename(output)}.tmp-${process.pid}-${randomUUID()}`);
  try {
    await pipeline(tar, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    await rename(tmp, output);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
