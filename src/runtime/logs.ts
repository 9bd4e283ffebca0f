// conmon's k8s-file log: one line per record, `<RFC3339Nano> <stdout|stderr> <P|F> <bytes>`.
// P marks a partial record (no newline yet), F a full one (a newline follows).
// Reading is streamed in bounded chunks; following uses inotify (fs.watch), never polling.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';

export type LogStream = 'stdout' | 'stderr';

export interface LogRecord {
  stream: LogStream;
  /** The payload, with the newline restored for full records. */
  data: Buffer;
  /** RFC3339Nano as conmon wrote it. */
  time: string;
}

const CHUNK = 64 * 1024;
/** A single record longer than this is cut (conmon's own records are at most 8 KiB). */
const MAX_LINE = 1024 * 1024;

/** Parses one k8s-file line (without its trailing newline). */
export function parseLogLine(line: Buffer): LogRecord | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const s3 = line.indexOf(0x20, s2 + 1);
  const tag = line.subarray(s2 + 1, s3 < 0 ? line.length : s3).toString();
  const stream = line.subarray(s1 + 1, s2).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const payload = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  const full = tag.split(':').includes('F');
  return {
    stream,
    time: line.subarray(0, s1).toString(),
    data: full ? Buffer.concat([payload, Buffer.from('\n')]) : Buffer.from(payload),
  };
}

/** RFC3339Nano → nanoseconds since the epoch (BigInt keeps the nanoseconds exact). */
export function logTimeNano(time: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return 0n;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

/** Docker's `since`/`until` query values: unix seconds with optional fraction. */
export function parseUnixTimestamp(v: string): bigint | undefined {
  if (v === '' || v === '0') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : BigInt(t) * 1_000_000n;
}

/** Docker prints timestamps as RFC3339Nano in UTC. */
export function formatLogTime(time: string): string {
  const nano = logTimeNano(time);
  const ms = Number(nano / 1_000_000n);
  const frac = (nano % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + frac + 'Z';
}

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
}

/** Byte offset where the last `n` full records start. */
async function tailOffset(fh: FileHandle, size: number, n: number): Promise<number> {
  if (n <= 0) return size;
  let pos = size;
  let newlines = 0;
  const buf = Buffer.alloc(CHUNK);
  // The last byte is normally the newline ending the last record.
  let skipFirst = true;
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    await fh.read(buf, 0, len, pos);
    for (let i = len - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) continue;
      if (skipFirst && pos + i === size - 1) {
        skipFirst = false;
        continue;
      }
      newlines++;
      if (newlines === n) return pos + i + 1;
    }
  }
  return 0;
}

async function waitForChange(watcher: FSWatcher | undefined, done: Promise<unknown> | undefined, signal?: AbortSignal): Promise<'change' | 'done'> {
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
    // inotify on a file that is replaced (rotation) stops firing: re-check now and then.
    const timer = setTimeout(() => finish('change'), 1000);
  });
}

/** Streams log records; with `follow`, keeps reading until `done` resolves and the file is drained. */
export async function* readLog(path: string, opts: ReadLogOptions): AsyncGenerator<LogRecord> {
  let fh: FileHandle | undefined;
  let watcher: FSWatcher | undefined;
  try {
    if (opts.follow) {
      // Created before the first read so no write between read and watch is missed.
      await open(path, 'a').then((f) => f.close());
      watcher = watch(path, { persistent: false });
      watcher.on('error', () => undefined);
    }
    try {
      fh = await open(path, 'r');
    } catch {
      // No log yet (the container never started): nothing to show.
      return;
    }
    const size = (await fh.stat()).size;
    let pos = opts.fromOffset ?? (opts.tail !== undefined && opts.tail >= 0 ? await tailOffset(fh, size, opts.tail) : 0);
    let pending = Buffer.alloc(0);
    const buf = Buffer.alloc(CHUNK);
    let finishing = false;
    for (;;) {
      if (opts.signal?.aborted) return;
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        pending = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
        let start = 0;
        for (let nl = pending.indexOf(0x0a); nl >= 0; nl = pending.indexOf(0x0a, start)) {
          const rec = parseLogLine(pending.subarray(start, nl));
          start = nl + 1;
          if (!rec) continue;
          if (opts.since !== undefined || opts.until !== undefined) {
            const t = logTimeNano(rec.time);
            if (opts.since !== undefined && t < opts.since) continue;
            if (opts.until !== undefined && t > opts.until) return;
          }
          yield rec;
        }
        pending = pending.subarray(start);
        if (pending.length > MAX_LINE) pending = Buffer.alloc(0);
        continue;
      }
      if (!opts.follow || finishing) return;
      const cur = await stat(path).catch(() => undefined);
      if (cur && cur.size < pos) {
        // conmon truncated the file (--log-size-max): start over from its beginning.
        pos = 0;
        pending = Buffer.alloc(0);
        continue;
      }
      if (cur && cur.size > pos) continue;
      const why = await waitForChange(watcher, opts.done, opts.signal);
      if (why === 'done') finishing = true;
    }
  } finally {
    watcher?.close();
    await fh?.close();
  }
}

/** Current size of the log (attach starts reading here). */
export async function logSize(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.size ?? 0;
}
