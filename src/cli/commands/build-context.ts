// What `berth build` was given as its context, in every form `docker build` takes: a directory,
// `-` (a tar, plain or compressed, or a bare Dockerfile on stdin), `-f -` (the Dockerfile on
// stdin, the context a directory), and a git or http(s) URL. URLs are fetched by the daemon
// (`remote=`, as buildx hands them to BuildKit): it clones or streams them, the CLI sends no tar.
import { lstat, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import { BerthError } from '../../util/index.js';

/** A Dockerfile read from stdin is read whole; bigger ones are refused. */
const MAX_STDIN_DOCKERFILE_BYTES = 8 * 1024 * 1024;
/** Bytes looked at to tell a tar archive from a Dockerfile (the docker CLI peeks as many). */
const SNIFF_BYTES = 512;

export type CliBuildContext =
  /** A directory; `dockerfile` is an absolute path or the text read from stdin (`-f -`). */
  | { kind: 'directory'; root: string; dockerfile: string | { text: Buffer } }
  /** A tar stream to send as is (stdin), with the Dockerfile's path inside it. */
  | { kind: 'stream'; body: Readable; dockerfile: string }
  /** A URL the daemon fetches; `dockerfile` is a path inside the remote context. */
  | { kind: 'remote'; remote: string; dockerfile: string };

/** The forms the docker CLI treats as a git or http(s) URL (plus `ssh://` and `file://`). */
export function isRemoteContext(arg: string): boolean {
  return /^(https?|git|ssh|file):\/\//i.test(arg) || arg.startsWith('git@') || arg.startsWith('github.com/');
}

/** Magic numbers of a tar (`ustar` at 257) or of gzip, bzip2, xz, zstd. */
export function isArchive(head: Buffer): boolean {
  if (head[0] === 0x1f && head[1] === 0x8b) return true;
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return true;
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return true;
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/** The whole of stdin (a Dockerfile), capped. */
export async function readAllCapped(input: Readable, max = MAX_STDIN_DOCKERFILE_BYTES, what = 'Dockerfile from stdin'): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of input as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw new BerthError('invalid-argument', `${what} is larger than ${max} bytes`);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/** A tar holding only `Dockerfile` (`docker build - < Dockerfile`). */
export function dockerfileOnlyTar(text: Buffer): Readable {
  const p = tarPack();
  p.entry({ name: 'Dockerfile', mode: 0o600, mtime: new Date(), type: 'file', size: text.length }, text);
  p.finalize();
  const out = new PassThrough();
  p.pipe(out);
  return out;
}

/**
 * stdin as a context: an archive (plain or compressed; the daemon decompresses) is streamed on
 * as it arrives; anything else is a Dockerfile with an empty context, as the docker CLI does.
 */
async function stdinContext(input: Readable, dockerfile: string | undefined): Promise<CliBuildContext> {
  const it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < SNIFF_BYTES) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    parts.push(r.value);
    size += r.value.length;
  }
  const head = Buffer.concat(parts);
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  };
  if (isArchive(head)) return { kind: 'stream', body: Readable.from(rest(), { objectMode: false }), dockerfile: dockerfile ?? 'Dockerfile' };
  const text = await readAllCapped(Readable.from(rest(), { objectMode: false }));
  return { kind: 'stream', body: dockerfileOnlyTar(text), dockerfile: 'Dockerfile' };
}

/**
 * Resolves `berth build [-f FILE] CONTEXT` into what is sent: `file` relative to the current
 * directory for a directory context, relative to the remote context for a URL (as docker).
 */
export async function resolveBuildContext(arg: string, file: string | undefined, stdin: Readable): Promise<CliBuildContext> {
  const dfStdin = file === '-';
  if (arg === '-') {
    if (dfStdin) throw new BerthError('invalid-argument', "invalid argument: can't use stdin for both build context and dockerfile");
    return stdinContext(stdin, file);
  }
  const root = resolve(arg);
  const isDir = (await lstat(root).catch(() => undefined))?.isDirectory() === true;
  if (!isDir && isRemoteContext(arg)) {
    if (dfStdin) throw new BerthError('invalid-argument', `cannot read the Dockerfile from stdin for the remote context "${arg}": a Dockerfile from stdin needs a local context directory`);
    return { kind: 'remote', remote: arg, dockerfile: file ?? 'Dockerfile' };
  }
  if (!isDir) throw new BerthError('invalid-argument', `unable to prepare context: path "${arg}" not found`);
  if (dfStdin) return { kind: 'directory', root, dockerfile: { text: await readAllCapped(stdin) } };
  const dockerfile = file ? resolve(file) : join(root, 'Dockerfile');
  if (!(await stat(dockerfile).catch(() => undefined))?.isFile()) throw new BerthError('invalid-argument', `unable to prepare context: cannot find Dockerfile "${dockerfile}"`);
  return { kind: 'directory', root, dockerfile };
}
