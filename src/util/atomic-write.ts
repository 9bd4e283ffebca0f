import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsync a directory so a rename inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Makes a file written without fsync (`durable: false`) durable: its data, then the directory
 * entry its rename made. Whatever version the name holds by then is the one made durable.
 */
export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(dirname(path));
}

export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomUUID()}`;
}

/**
 * Writes `data` to `path` so that readers see either the old or the new content,
 * never a mix, even after a crash: temp file, fsync, rename, fsync of the directory.
 * `durable: false` skips the fsyncs for files on tmpfs (/run/berth).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  opts: { mode?: number; durable?: boolean } = {},
): Promise<void> {
  const durable = opts.durable ?? true;
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dirname(path));
}

export async function writeJsonAtomic(path: string, value: unknown, opts?: { mode?: number; durable?: boolean }) {
  await writeFileAtomic(path, JSON.stringify(value, null, 1) + '\n', opts);
}
