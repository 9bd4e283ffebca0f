// POST /build context intake: a tar stream (plain or gzip) unpacked into a temp directory
// under the data-root as it arrives, never held in memory. Every member is checked: no
// absolute paths, no `..`, nothing written through a symlink, hard links only to files
// already unpacked, no devices. Regular files are hashed on the way, so COPY's cache keys
// never re-read them.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, link, lutimes, mkdir, open, symlink, utimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header as Headers } from 'tar-stream';
import { BerthError, invalidArgument, type Digest } from '../util/index.js';

const SMALL_FILE = 256 * 1024;
/** Small-file writes in flight while the tar is parsed on. */
const WRITES_IN_FLIGHT = 16;

/** Runs tasks with at most `limit` pending; the first failure is rethrown by add/drain. */
class BoundedTasks {
  private readonly pending = new Set<Promise<void>>();
  private failure: unknown;
  constructor(private readonly limit: number) {}
  async add(task: () => Promise<void>): Promise<void> {
    this.check();
    while (this.pending.size >= this.limit) await Promise.race(this.pending);
    this.check();
    const p: Promise<void> = task().then(
      () => void this.pending.delete(p),
      (err: unknown) => {
        this.pending.delete(p);
        this.failure ??= err;
      },
    );
    this.pending.add(p);
  }
  async drain(): Promise<void> {
    await Promise.all(this.pending);
    this.check();
  }
  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

export interface IntakeEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  /** sha256 of the content (files), of the link target (symlinks). */
  digest?: Digest;
  linkname?: string;
}

export interface IntakeResult {
  /** Every member by its clean relative path (`a/b.txt`). */
  entries: Map<string, IntakeEntry>;
  bytes: number;
}

function cleanMember(name: string): string {
  if (name.startsWith('/')) throw invalidArgument(`build context member "${name}" has an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw invalidArgument(`build context member "${name}" escapes the context`);
  return parts.join('/');
}

/** Counts bytes and sniffs the compression from the first chunk. */
async function decompressed(input: Readable, count: (n: number) => void): Promise<Readable> {
  const it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await it.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : first.value;
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) {
    input.destroy();
    throw invalidArgument('unsupported build context compression "bzip2": send a plain or gzip tar');
  }
  if (head[0] === 0xfd && head[1] === 0x37) {
    input.destroy();
    throw invalidArgument('unsupported build context compression "xz": send a plain or gzip tar');
  }
  const raw = Readable.from(
    (async function* () {
      if (first.done) return;
      count(head.length);
      yield head;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        count(r.value.length);
        yield r.value;
      }
    })(),
    { objectMode: false },
  );
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    raw.pipe(gunzip);
    raw.on('error', (e) => gunzip.destroy(e));
    return gunzip;
  }
  return raw;
}

/**
 * Unpacks the context tar into the existing empty directory `dest`. Ownership is not
 * restored (COPY sets its own), modes and mtimes are.
 */
export async function unpackContext(input: Readable, dest: string, opts: { signal?: AbortSignal } = {}): Promise<IntakeResult> {
  const entries = new Map<string, IntakeEntry>();
  let bytes = 0;
  const symlinks = new Set<string>();
  const dirs = new Set<string>(['']);
  const dirTimes: Array<[string, Date]> = [];

  const ensureParent = async (rel: string): Promise<void> => {
    const parent = posix.dirname(rel);
    if (parent === '.' || dirs.has(parent)) return;
    const parts = parent.split('/');
    let cur = '';
    for (const p of parts) {
      cur = cur ? `${cur}/${p}` : p;
      if (symlinks.has(cur)) throw invalidArgument(`build context member "${rel}" is inside the symlink "${cur}"`);
      if (dirs.has(cur)) continue;
      if (entries.has(cur)) throw invalidArgument(`build context member "${rel}" is inside the non-directory "${cur}"`);
      await mkdir(join(dest, cur), { mode: 0o755 }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      dirs.add(cur);
      // Tars without directory members (some API clients) still name the directory as a source.
      entries.set(cur, { type: 'dir', mode: 0o755, size: 0 });
    }
  };

  const inFlight = new BoundedTasks(WRITES_IN_FLIGHT);
  const ex = tarExtract();
  const src = await decompressed(input, (n) => (bytes += n));
  const consume = (async () => {
    for await (const entry of ex) {
      const h: Headers = entry.header;
      const rel = cleanMember(h.name);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date(0);
      if (rel === '') {
        entry.resume();
        continue;
      }
      await ensureParent(rel);
      const abs = join(dest, rel);
      if (symlinks.has(rel) || (entries.has(rel) && entries.get(rel)!.type !== 'dir' && h.type === 'directory')) {
        throw invalidArgument(`build context member "${rel}" appears twice with different types`);
      }
      switch (h.type) {
        case 'directory': {
          if (!dirs.has(rel)) {
            await mkdir(abs, { mode: 0o755 }).catch((e: NodeJS.ErrnoException) => {
              if (e.code !== 'EEXIST') throw e;
            });
            dirs.add(rel);
          }
          await chmod(abs, mode);
          dirTimes.push([abs, mtime]);
          entries.set(rel, { type: 'dir', mode, size: 0 });
          entry.resume();
          break;
        }
        case 'file':
        case 'contiguous-file': {
          const size = h.size ?? 0;
          let digest: Digest;
          if (size <= SMALL_FILE) {
            // Small files in one write: a write stream per file costs more than its bytes.
            const chunks: Buffer[] = [];
            for await (const c of entry) chunks.push(c as Buffer);
            const data = Buffer.concat(chunks);
            digest = `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
            // Written in the background (bounded): the next member is parsed meanwhile.
            await inFlight.add(async () => {
              const fh = await open(abs, 'w', mode);
              try {
                await fh.writeFile(data);
                await fh.chmod(mode);
                await fh.utimes(mtime, mtime);
              } finally {
                await fh.close();
              }
            });
          } else {
            const hash = createHash('sha256');
            const hasher = new Transform({
              transform(chunk: Buffer, _e, cb) {
                hash.update(chunk);
                cb(null, chunk);
              },
            });
            await pipeline(entry, hasher, createWriteStream(abs, { mode: 0o600, flags: 'w' }), opts.signal ? { signal: opts.signal } : {});
            await chmod(abs, mode);
            await utimes(abs, mtime, mtime);
            digest = `sha256:${hash.digest('hex')}` as Digest;
          }
          entries.set(rel, { type: 'file', mode, size, digest });
          break;
        }
        case 'symlink': {
          const target = h.linkname ?? '';
          await symlink(target, abs);
          await lutimes(abs, mtime, mtime).catch(() => undefined); // not every fs keeps symlink times
          symlinks.add(rel);
          entries.set(rel, {
            type: 'symlink',
            mode: 0o777,
            size: 0,
            linkname: target,
            digest: `sha256:${createHash('sha256').update(target).digest('hex')}` as Digest,
          });
          entry.resume();
          break;
        }
        case 'link': {
          await inFlight.drain(); // the target may still be being written
          const target = cleanMember(h.linkname ?? '');
          const t = entries.get(target);
          if (!t || t.type !== 'file') throw invalidArgument(`build context hard link "${rel}" points to "${h.linkname}", which is not a file in the context`);
          await link(join(dest, target), abs);
          entries.set(rel, { ...t });
          entry.resume();
          break;
        }
        default:
          throw invalidArgument(`build context member "${rel}" has unsupported type "${h.type}"`);
      }
    }
    await inFlight.drain();
  })();
  const feeding = pipeline(src, blockPadder(), ex, opts.signal ? { signal: opts.signal } : {});
  const [a, b] = await Promise.allSettled([consume, feeding]);
  if (a.status === 'rejected') {
    ex.destroy();
    src.destroy();
    throw wrap(a.reason);
  }
  if (b.status === 'rejected') throw wrap(b.reason);
  // Directory times last: writing children changed them.
  for (const [abs, t] of dirTimes.reverse()) await utimes(abs, t, t);
  return { entries, bytes };
}

/**
 * The docker CLI's rewritten context (`-f` outside the context) ends right after the last
 * member's data: no padding, no end-of-archive blocks. dockerd's reader accepts that, so the
 * stream is padded to a block boundary and given a trailer (extra zero blocks are ignored).
 */
function blockPadder(): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      total += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      const pad = (512 - (total % 512)) % 512;
      cb(null, Buffer.alloc(pad + 1024));
    },
  });
}

function wrap(err: unknown): unknown {
  if (err instanceof BerthError) return err;
  if (err instanceof Error && (err.name === 'AbortError')) return err;
  return new BerthError('invalid-argument', `cannot read the build context: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
