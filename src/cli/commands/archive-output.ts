// Where `save` and `export` write their tar: a file given with -o (temp + rename, so a failed
// transfer leaves no partial archive) or stdout, which must not be a terminal (as docker).
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../../util/index.js';
import type { CommandContext } from '../context.js';

/** Fails before any request when the archive would go to a terminal. */
export function checkArchiveOutput(ctx: CommandContext, output: string | undefined): void {
  if (!output && ctx.stdout.isTTY) {
    throw new BerthError('invalid-argument', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  }
}

export async function writeArchive(ctx: CommandContext, tar: Readable, output: string | undefined): Promise<void> {
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
