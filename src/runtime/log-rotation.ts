// `--log-opt max-file=N`: keeping the files conmon replaces.
//
// conmon enforces `--log-size-max` by writing a new file and renaming it over the log path;
// the old file is gone once conmon closes it. berthd keeps it: while a container runs, a
// hard link `<log>.0` names the file conmon is writing. When the path names another file,
// the linked one is the finished file: `<log>.1` … `<log>.<N-1>` shift up by one (the oldest
// is removed), `<log>.0` becomes `<log>.1`, and the new file is linked as `<log>.0`.
// A link costs no copy, and conmon's writes after the link still land in the kept file.
//
// Limits: only while berthd runs. While it is down, conmon goes on replacing the file and
// only the one linked last is kept (shifted in when berthd is back); files replaced faster
// than berthd reacts are lost (conmon's limit is at least LOG_SIZE_FLOOR, so this takes
// a megabyte of output between two looks).
import { watch, type FSWatcher } from 'node:fs';
import { link, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { BerthError } from '../util/index.js';

/** `max-file` from the log options: 1 when unset (no rotation kept). */
export function parseMaxFile(v: string | undefined): number {
  if (v === undefined || v === '') return 1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new BerthError('invalid-argument', `max-file cannot be less than 1: '${v}'`);
  return n;
}

/** The rotated files of a log that `docker logs` reads before it, oldest first. */
export function rotatedPaths(logPath: string, maxFile: number): string[] {
  const out: string[] = [];
  for (let i = maxFile - 1; i >= 1; i--) out.push(`${logPath}.${i}`);
  return out;
}

const ignoreMissing = (err: unknown) => {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
};

/**
 * One step of rotation. The file at the log path is hard-linked first, before anything else
 * (conmon may replace it again soon: at a fast writer's pace a 1 MiB file is full in a few
 * milliseconds); if it is not the file already held, the kept files shift up by one.
 */
export async function rotateOnce(logPath: string, maxFile: number): Promise<void> {
  const held = `${logPath}.0`;
  const grabbed = `${logPath}.new`;
  await unlink(grabbed).catch(ignoreMissing);
  try {
    await link(logPath, grabbed);
  } catch (err) {
    // No log (yet): nothing to keep.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const [now, kept] = await Promise.all([stat(grabbed), stat(held).catch(() => undefined)]);
  if (kept && kept.ino === now.ino && kept.dev === now.dev) {
    await unlink(grabbed).catch(ignoreMissing);
    return;
  }
  if (kept) {
    await unlink(`${logPath}.${maxFile - 1}`).catch(ignoreMissing);
    for (let i = maxFile - 2; i >= 1; i--) await rename(`${logPath}.${i}`, `${logPath}.${i + 1}`).catch(ignoreMissing);
    await rename(held, `${logPath}.1`).catch(ignoreMissing);
  }
  await rename(grabbed, held);
}

/** Keeps rotated logs for one running container (see the top of this file). */
export class LogKeeper {
  private watcher: FSWatcher | undefined;
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private busy = false;

  constructor(
    private readonly logPath: string,
    private readonly maxFile: number,
    private readonly onError: (err: unknown) => void,
  ) {
    const base = basename(logPath);
    try {
      this.watcher = watch(dirname(logPath), { persistent: false }, (ev, name) => {
        // Only a file (re)named to the log itself matters, not each write nor our own links.
        if (ev === 'rename' && (name === null || String(name) === base)) this.poke();
      });
      this.watcher.on('error', () => undefined);
    } catch (err) {
      onError(err);
    }
    this.poke();
  }

  /** Runs a rotation step now, or once more after the one under way. */
  poke(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.running = (async () => {
      do {
        this.again = false;
        await rotateOnce(this.logPath, this.maxFile).catch(this.onError);
      } while (this.again);
      this.busy = false;
    })();
  }

  /** Stops watching after a last step (conmon may have replaced the file just before the exit). */
  async close(finalStep = true): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    await this.running;
    if (finalStep) await rotateOnce(this.logPath, this.maxFile).catch(this.onError);
  }
}
