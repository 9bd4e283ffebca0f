// POST /build context intake: a tar stream (plain or gzip) spooled as it arrives into one
// data file under the data-root (never held in memory), with an index of its members:
// path, type, mode, mtime, the offset of its bytes in the spool and their sha256. A rebuild
// whose steps are all cached never creates a file per member; COPY reads members straight
// from the spool, and a directory tree is written only when a RUN bind-mounts the context.
// Every member is checked: no absolute paths, no `..`, nothing below a symlink, hard links
// only to files already seen, no devices.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, open, symlink, utimes, type FileHandle } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header as Headers } from 'tar-stream';
import { BerthError, invalidArgument, type Digest } from '../util/index.js';
import { SpoolWriter } from './spool-writer.js';

export interface IntakeEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  mtime: Date;
  /** sha256 of the content (files), of the link target (symlinks). */
  digest?: Digest;
  linkname?: string;
  /** Where the file's bytes start in the spool. */
  offset?: number;
  /** A local context's file on the daemon's host (instead of spooled bytes). */
  path?: string;
}

/** The files of a build context, spooled from a tar or read in place from a local directory. */
export interface ContextFiles {
  /** A file member's bytes (callers keep to small files; use `stream` for big ones). */
  read(e: IntakeEntry, max?: number): Promise<Buffer>;
  stream(e: IntakeEntry): Readable;
  /** Writes the whole context as a directory tree once (RUN --mount=type=bind), returns its root. */
  materialize(): Promise<string>;
  close(): Promise<void>;
}

export interface IntakeResult {
  /** Every member by its clean relative path (`a/b.txt`). */
  entries: Map<string, IntakeEntry>;
  /** Bytes received (compressed, as sent). */
  bytes: number;
  spool: ContextFiles;
}

/** The spooled context: member bytes by offset, and a directory tree on demand. */
export class ContextSpool implements ContextFiles {
  private fh: FileHandle | undefined;
  private materialized: Promise<string> | undefined;

  constructor(
    readonly path: string,
    private readonly entries: Map<string, IntakeEntry>,
    /** Where `materialize` writes the tree. */
    private readonly treeDir: string,
  ) {}

  private async handle(): Promise<FileHandle> {
    this.fh ??= await open(this.path, 'r');
    return this.fh;
  }

  /** A file member's bytes (callers keep to small files; use `stream` for big ones). */
  async read(e: IntakeEntry, max = e.size): Promise<Buffer> {
    const n = Math.min(max, e.size);
    const buf = Buffer.alloc(n);
    if (n === 0) return buf;
    const { bytesRead } = await (await this.handle()).read(buf, 0, n, e.offset ?? 0);
    if (bytesRead !== n) throw new BerthError('internal', 'build context spool is shorter than its index');
    return buf;
  }

  stream(e: IntakeEntry): Readable {
    if (e.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: e.offset ?? 0, end: (e.offset ?? 0) + e.size - 1 });
  }

  /** Writes the whole context as a directory tree once (RUN --mount=type=bind), returns its root. */
  materialize(): Promise<string> {
    this.materialized ??= writeContextTree(this.entries, this.treeDir, (e) => this.stream(e));
    return this.materialized;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}

/** Writes context members as a directory tree under `treeDir` (a copy: RUN may mount it rw). */
export async function writeContextTree(entries: Map<string, IntakeEntry>, treeDir: string, stream: (e: IntakeEntry) => Readable): Promise<string> {
  await mkdir(treeDir, { recursive: true, mode: 0o755 });
  const sorted = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const dirs: Array<[string, Date]> = [];
  for (const [rel, e] of sorted) {
    const abs = join(treeDir, rel);
    if (e.type === 'dir') {
      await mkdir(abs, { recursive: true, mode: 0o755 });
      await chmod(abs, e.mode);
      dirs.push([abs, e.mtime]);
    } else if (e.type === 'symlink') {
      await mkdir(join(abs, '..'), { recursive: true });
      await symlink(e.linkname ?? '', abs);
    } else {
      await mkdir(join(abs, '..'), { recursive: true });
      await pipeline(stream(e), createWriteStream(abs, { mode: 0o600 }));
      await chmod(abs, e.mode);
      await utimes(abs, e.mtime, e.mtime);
    }
  }
  for (const [abs, t] of dirs.reverse()) await utimes(abs, t, t);
  return treeDir;
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
 * Spools the context tar into `<dir>/context.data` and indexes its members. `dir` must exist;
 * the tree for bind mounts goes to `<dir>/tree` when asked for.
 */
export async function unpackContext(input: Readable, dir: string, opts: { signal?: AbortSignal } = {}): Promise<IntakeResult> {
  const entries = new Map<string, IntakeEntry>();
  let bytes = 0;
  const symlinks = new Set<string>();
  const epoch = new Date(0);

  const checkParents = (rel: string): void => {
    const parent = posix.dirname(rel);
    if (parent === '.') return;
    let cur = '';
    for (const p of parent.split('/')) {
      cur = cur ? `${cur}/${p}` : p;
      if (symlinks.has(cur)) throw invalidArgument(`build context member "${rel}" is inside the symlink "${cur}"`);
      const e = entries.get(cur);
      if (e && e.type !== 'dir') throw invalidArgument(`build context member "${rel}" is inside the non-directory "${cur}"`);
      // Tars without directory members (some API clients) still name the directory as a source.
      if (!e) entries.set(cur, { type: 'dir', mode: 0o755, size: 0, mtime: epoch });
    }
  };

  const spoolPath = join(dir, 'context.data');
  const out = await open(spoolPath, 'w', 0o600);
  const spool = new SpoolWriter(out);
  let offset = 0;
  const ex = tarExtract();
  const src = await decompressed(input, (n) => (bytes += n));
  const consume = (async () => {
    for await (const entry of ex) {
      const h: Headers = entry.header;
      const rel = cleanMember(h.name);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? epoch;
      if (rel === '') {
        entry.resume();
        continue;
      }
      checkParents(rel);
      const prev = entries.get(rel);
      if (prev && (prev.type !== 'dir' || h.type !== 'directory')) {
        throw invalidArgument(`build context member "${rel}" appears twice`);
      }
      switch (h.type) {
        case 'directory':
          entries.set(rel, { type: 'dir', mode, size: 0, mtime });
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          const hash = createHash('sha256');
          const start = offset;
          for await (const chunk of entry as AsyncIterable<Buffer>) {
            hash.update(chunk);
            await spool.write(chunk);
            offset += chunk.length;
          }
          entries.set(rel, { type: 'file', mode, size: offset - start, mtime, offset: start, digest: `sha256:${hash.digest('hex')}` as Digest });
          break;
        }
        case 'symlink': {
          const target = h.linkname ?? '';
          symlinks.add(rel);
          entries.set(rel, {
            type: 'symlink',
            mode: 0o777,
            size: 0,
            mtime,
            linkname: target,
            digest: `sha256:${createHash('sha256').update(target).digest('hex')}` as Digest,
          });
          entry.resume();
          break;
        }
        case 'link': {
          const target = cleanMember(h.linkname ?? '');
          const t = entries.get(target);
          if (!t || t.type !== 'file') throw invalidArgument(`build context hard link "${rel}" points to "${h.linkname}", which is not a file in the context`);
          entries.set(rel, { ...t });
          entry.resume();
          break;
        }
        default:
          throw invalidArgument(`build context member "${rel}" has unsupported type "${h.type}"`);
      }
    }
  })();
  // A rejected member stops the parser too, or the feeding side would wait on backpressure forever.
  consume.catch(() => ex.destroy());
  const feeding = pipeline(src, blockPadder(), ex, opts.signal ? { signal: opts.signal } : {});
  const [a, b] = await Promise.allSettled([consume, feeding]);
  // Every queued write settles before the file closes, even when the intake failed.
  const written = await spool.end().then(() => undefined, (err: unknown) => err ?? new Error('spool write failed'));
  await out.close();
  if (a.status === 'rejected') {
    ex.destroy();
    src.destroy();
    throw wrap(a.reason);
  }
  if (b.status === 'rejected') throw wrap(b.reason);
  if (written !== undefined) throw wrap(written);
  return { entries, bytes, spool: new ContextSpool(spoolPath, entries, join(dir, 'tree')) };
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
