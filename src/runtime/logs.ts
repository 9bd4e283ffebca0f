// Reading conmon's k8s-file log (log-parse.ts parses it): streamed in chunks of up to 1 MiB,
// tail read backwards from the end; following uses inotify (fs.watch), never polling.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch } from 'node:fs';
import { EventEmitter } from 'node:events';
import { basename, dirname } from 'node:path';
import { LogChunkParser, recordKind, type LogRecord } from './log-parse.js';
import { parseSize } from './signals.js';

export { formatLogTime, logTimeNano, parseLogLine, parseUnixTimestamp, type LogRecord, type LogStream } from './log-parse.js';

/** Read size: large reads keep the per-read cost small next to 100 MB of log. */
const CHUNK = 1024 * 1024;
/** Smallest read buffer (a follower reading a little at a time does not take 1 MiB per read). */
const MIN_READ = 64 * 1024;
/** Backwards reads when looking for the start of the tail. */
const TAIL_CHUNK = 64 * 1024;
/** A single record longer than this is cut (conmon's own records are at most 8 KiB). */
const MAX_LINE = 1024 * 1024;

export interface ReadLogOptions {
  follow: boolean;
  /** Nanoseconds; records before are skipped. */
  since?: bigint;
  until?: bigint;
  /** Last N records only (undefined/negative = all). */
  tail?: number;
  /** Start at this byte offset instead (attach: only new output). */
  fromOffset?: number;
  /** While following: resolves when no more output can come (container exited). */
  done?: Promise<unknown>;
  signal?: AbortSignal;
  /** Each record's data after Docker's RFC3339Nano UTC time and a space (`logs -t`). */
  timestamps?: boolean;
  /** Each line after these attributes and a space (`logs --details`; logAttributes). */
  details?: string;
}

/** Enough of a record's start to hold its time, stream and tag. */
const RECORD_HEAD = 256;

/**
 * Where the last `n` lines start, read backwards from the end, and how many lines that is (`n`,
 * or all the file has when it has fewer). A line is the records up to a full one (conmon
 * splits long or slow lines into partial records); an incomplete last record does not count.
 */
async function scanTail(fh: FileHandle, size: number, n: number): Promise<{ offset: number; lines: number }> {
  if (n <= 0) return { offset: size, lines: 0 };
  const buf = Buffer.alloc(TAIL_CHUNK);
  const head = Buffer.alloc(RECORD_HEAD);
  let lines = 0;
  // The newline that ends the newest record not classified yet (-1: none seen).
  let recEnd = -1;
  let pos = size;
  let len = 0;
  /** Counts the record from `start` to recEnd if it is full; the tail's start once n are counted. */
  const step = async (start: number): Promise<number | undefined> => {
    let kind: ReturnType<typeof recordKind>;
    if (recEnd < pos + len) kind = recordKind(buf, start - pos, recEnd - pos);
    else {
      // It goes on past this chunk: its head is read again.
      const { bytesRead } = await fh.read(head, 0, Math.min(RECORD_HEAD, recEnd - start), start);
      kind = recordKind(head, 0, bytesRead);
    }
    if (kind !== 'full') return undefined;
    if (lines === n) return recEnd + 1;
    lines++;
    return undefined;
  };
  while (pos > 0) {
    len = Math.min(TAIL_CHUNK, pos);
    pos -= len;
    await fh.read(buf, 0, len, pos);
    for (let i = len - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) continue;
      if (recEnd >= 0) {
        const found = await step(pos + i + 1);
        if (found !== undefined) return { offset: found, lines };
      }
      recEnd = pos + i;
    }
  }
  if (recEnd >= 0) {
    const found = await step(0);
    if (found !== undefined) return { offset: found, lines };
  }
  return { offset: 0, lines };
}

async function waitForChange(watcher: EventEmitter | undefined, done: Promise<unknown> | undefined, signal?: AbortSignal): Promise<'change' | 'done'> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (v: 'change' | 'done') => {
      if (settled) return;
      settled = true;
      watcher?.off('change', onChange);
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      resolve(v);
    };
    const onChange = () => finish('change');
    const onAbort = () => finish('done');
    watcher?.on('change', onChange);
    signal?.addEventListener('abort', onAbort, { once: true });
    done?.then(() => finish('done'), () => finish('done'));
    // A safety net only: the directory watch sees writes and replacements.
    const timer = setTimeout(() => finish('change'), 1000);
  });
}

/**
 * Opens the log now (so what is written from this moment on is not missed, even when the
 * caller starts iterating later) and returns the record stream.
 *
 * Following survives conmon's `--log-size-max`: conmon then writes a new file and renames
 * it over the path. At EOF the follower checks whether the path names another inode; if so
 * it drains the old descriptor to its end (conmon flushed it before the rename) and goes on
 * with the new file from its start, so no record is lost or repeated. A file that shrank in
 * place (copytruncate) is read again from its start.
 */
export async function openLog(path: string, opts: ReadLogOptions & { fromEnd?: boolean }): Promise<AsyncGenerator<LogRecord>> {
  let watcher: EventEmitter | undefined;
  let fh: FileHandle | undefined;
  try {
    if (opts.follow) {
      // Created before the first read so no write between read and watch is missed.
      await open(path, 'a').then((f) => f.close());
      // The directory, not the file: inotify on a file that is replaced stops reporting.
      const base = basename(path);
      const dirWatcher = watch(dirname(path), { persistent: false });
      dirWatcher.on('error', () => undefined);
      const relay = new EventEmitter();
      relay.setMaxListeners(0);
      dirWatcher.on('change', (_ev, name) => {
        if (name === null || String(name).startsWith(base)) relay.emit('change');
      });
      relay.once('close', () => dirWatcher.close());
      watcher = relay;
    }
    try {
      fh = await open(path, 'r');
    } catch {
      // No log yet (the container never started): nothing to show.
      watcher?.emit('close');
      return (async function* () {})();
    }
    const st = await fh.stat();
    const start = opts.fromEnd ? st.size : opts.fromOffset;
    const opened = fh;
    const w = watcher;
    return closingUnstarted(follow(path, fh, st.ino, start, watcher, opts), async () => {
      w?.emit('close');
      await opened.close();
    });
  } catch (err) {
    watcher?.emit('close');
    await fh?.close();
    throw err;
  }
}

/**
 * `return()` on a generator that never started does not run its `finally`: this one releases
 * what was opened for it in that case too (a caller that gives up before reading).
 */
function closingUnstarted(gen: AsyncGenerator<LogRecord>, release: () => Promise<void>): AsyncGenerator<LogRecord> {
  let started = false;
  const wrapped = Object.create(gen) as AsyncGenerator<LogRecord>;
  wrapped.next = (...args) => {
    started = true;
    return gen.next(...args);
  };
  wrapped.return = async (value) => {
    if (!started) {
      started = true;
      await release();
    }
    return gen.return(value);
  };
  wrapped.throw = async (err) => {
    if (!started) {
      started = true;
      await release();
    }
    return gen.throw(err);
  };
  wrapped[Symbol.asyncIterator] = () => wrapped;
  return wrapped;
}

async function* follow(
  path: string,
  first: FileHandle,
  firstIno: number,
  fromOffset: number | undefined,
  watcher: EventEmitter | undefined,
  opts: ReadLogOptions,
): AsyncGenerator<LogRecord> {
  let fh = first;
  let ino = firstIno;
  // Set once the path names another file: drain this one, then switch.
  let next: FileHandle | undefined;
  try {
    let known = (await fh.stat()).size;
    let pos = fromOffset ?? (opts.tail !== undefined && opts.tail >= 0 ? (await scanTail(fh, known, opts.tail)).offset : 0);
    const parser = new LogChunkParser(opts);
    // The start of an incomplete last line (copied in front of the next read).
    let pending = Buffer.alloc(0);
    // Set after an over-long line: bytes up to the next newline are dropped.
    let skipping = false;
    let finishing = false;
    for (;;) {
      if (opts.signal?.aborted) return;
      // A new buffer per read: the records handed out are views of it.
      const want = Math.min(CHUNK, Math.max(MIN_READ, known - pos));
      const buf = Buffer.allocUnsafe(pending.length + want);
      pending.copy(buf, 0);
      const { bytesRead } = await fh.read(buf, pending.length, want, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        let chunk = buf.subarray(0, pending.length + bytesRead);
        pending = Buffer.alloc(0);
        if (skipping) {
          const nl = chunk.indexOf(0x0a);
          if (nl < 0) continue;
          chunk = chunk.subarray(nl + 1);
          skipping = false;
        }
        const parsed = parser.parse(chunk);
        for (const rec of parsed.records) yield rec;
        if (parsed.ended) return;
        pending = chunk.subarray(parsed.consumed);
        if (pending.length > MAX_LINE) {
          pending = Buffer.alloc(0);
          skipping = true;
        }
        continue;
      }
      if (next) {
        // The old file is drained (its last bytes were read after the replacement was seen).
        await fh.close();
        fh = next;
        ({ ino, size: known } = await fh.stat());
        next = undefined;
        pos = 0;
        pending = Buffer.alloc(0);
        skipping = false;
        continue;
      }
      if (!opts.follow) return;
      const cur = await stat(path).catch(() => undefined);
      if (cur) known = cur.size;
      if (cur && cur.ino !== ino) {
        const opened = await open(path, 'r').catch(() => undefined);
        if (opened) {
          // Read the old descriptor once more to its end before switching.
          next = opened;
          continue;
        }
      } else if (cur && cur.size < pos) {
        // Truncated in place: start over from its beginning.
        pos = 0;
        pending = Buffer.alloc(0);
        skipping = false;
        continue;
      } else if (cur && cur.size > pos) {
        continue;
      }
      if (finishing) return;
      const why = await waitForChange(watcher, opts.done, opts.signal);
      // One more pass after the exit: what conmon wrote last is read before ending.
      if (why === 'done') finishing = true;
    }
  } finally {
    watcher?.emit('close');
    await next?.close();
    await fh.close();
  }
}

/** Lines at the end of an open log, counted backwards up to `n` (fewer when it has fewer). */
async function linesAtEnd(fh: FileHandle, n: number): Promise<number> {
  return (await scanTail(fh, (await fh.stat()).size, n)).lines;
}

/**
 * Reads rotated files (oldest first) and then the live log as one stream: `tail` counts
 * across all of them and only the live log is followed. A rotated file that is the live one
 * is skipped, and if the live log was rotated while the older files were read, the file it
 * was is read before the new live one: nothing is read twice or skipped.
 */
export async function* readLogSet(rotated: readonly string[], current: string, opts: ReadLogOptions): AsyncGenerator<LogRecord> {
  if (rotated.length === 0) {
    yield* readLog(current, opts);
    return;
  }
  const older: { fh: FileHandle; ino: number; closed?: boolean }[] = [];
  let next = 0;
  try {
    const live = await stat(current).catch(() => undefined);
    for (const p of rotated) {
      const fh = await open(p, 'r').catch(() => undefined);
      if (!fh) continue;
      const st = await fh.stat();
      if (live && st.ino === live.ino) await fh.close();
      else older.push({ fh, ino: st.ino });
    }
    const wantTail = opts.tail !== undefined && opts.tail >= 0 ? opts.tail : undefined;
    // With a tail: how many lines the live log has decides how far back to go.
    const fromOlder = new Map<number, number>();
    if (wantTail !== undefined) {
      const liveFh = await open(current, 'r').catch(() => undefined);
      let need = wantTail - (liveFh ? await linesAtEnd(liveFh, wantTail) : 0);
      await liveFh?.close();
      next = older.length;
      for (let i = older.length - 1; i >= 0 && need > 0; i--) {
        const n = await linesAtEnd(older[i]!.fh, need);
        next = i;
        if (n >= need) fromOlder.set(i, need);
        need -= n;
      }
      for (let i = 0; i < next; i++) {
        older[i]!.closed = true;
        await older[i]!.fh.close();
      }
    }
    const readOlder = next < older.length;
    for (; next < older.length; next++) {
      const o = older[next]!;
      // follow() closes it from here on.
      o.closed = true;
      yield* follow(current, o.fh, o.ino, undefined, undefined, { ...opts, follow: false, tail: fromOlder.get(next) });
    }
    // Rotated meanwhile: the file that was live is now `<log>.1`; read it before the new one.
    let fromStart = readOlder;
    const now = await stat(current).catch(() => undefined);
    if (live && now && now.ino !== live.ino) {
      const fh = await open(rotated[rotated.length - 1]!, 'r').catch(() => undefined);
      const st = await fh?.stat();
      if (fh && st?.ino === live.ino) {
        yield* follow(current, fh, st.ino, undefined, undefined, { ...opts, follow: false, tail: fromStart ? undefined : wantTail });
        fromStart = true;
      } else {
        await fh?.close();
      }
    }
    // The live log from its start when older files were read (its tail otherwise).
    yield* readLog(current, { ...opts, tail: fromStart ? undefined : wantTail });
  } finally {
    for (const o of older) if (!o.closed) await o.fh.close();
  }
}

/** Streams log records; with `follow`, keeps reading until `done` resolves and the file is drained. */
export async function* readLog(path: string, opts: ReadLogOptions): AsyncGenerator<LogRecord> {
  yield* await openLog(path, opts);
}

/**
 * conmon replaces the log with a new file when it reaches `--log-size-max`; a follower
 * (attach, `logs -f`) that is more than one whole file behind would lose that file. So the
 * limit given to conmon is never below this floor: a smaller `max-size` keeps up to 1 MiB.
 */
export const LOG_SIZE_FLOOR = 1024 * 1024;

/** `--log-size-max` for conmon from `--log-opt max-size` (0 = unlimited). */
export function conmonLogSizeMax(maxSize: string | undefined): number {
  if (!maxSize) return 0;
  const n = parseSize(maxSize);
  return n > 0 ? Math.max(n, LOG_SIZE_FLOOR) : 0;
}

/** Current size of the log (attach starts reading here). */
export async function logSize(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.size ?? 0;
}
