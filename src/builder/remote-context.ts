// Remote build contexts (`POST /build?remote=…`, what `berth build URL` and docker-py/dockerode
// send): a git repository cloned with the `git` binary (shallow where the transport allows it,
// `#ref:subdir` fragment, submodules like docker) or an http(s) URL of a tarball or of a plain
// Dockerfile, streamed. Everything is fetched into a temp directory the caller owns and
// removes; every child process and every HTTP phase has a timeout.
import { lstat, mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { readHead, sniffCompression, withHead } from './remote-context-compression.js';
import { BerthError, ExecError, errorMessage, invalidArgument, isAbortError, run, type ErrorKind } from '../util/index.js';

/** Tarball contexts bigger than this are refused (the stream is cut, nothing is kept). */
export const MAX_REMOTE_CONTEXT_BYTES = 4 * 1024 * 1024 * 1024;
/** A remote plain-text Dockerfile is read whole; bigger ones are refused. */
const MAX_REMOTE_DOCKERFILE_BYTES = 8 * 1024 * 1024;
/** Bytes looked at to tell a tar archive from a Dockerfile. */
const SNIFF_BYTES = 512;

const GIT_QUICK_TIMEOUT_MS = 30_000;
const GIT_FETCH_TIMEOUT_MS = 10 * 60_000;
const HTTP_CONNECT_TIMEOUT_MS = 30_000;
const HTTP_HEADERS_TIMEOUT_MS = 60_000;
/** Longest silence while a tarball is streamed. */
const HTTP_IDLE_TIMEOUT_MS = 120_000;
const HTTP_MAX_REDIRECTIONS = 10;
/** undici's timeout errors (matched by code: undici itself is loaded only when a URL is fetched). */
const HTTP_TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export type GitTransport = 'https' | 'http' | 'git' | 'ssh' | 'file';

/** What a `remote=` value names. */
export type RemoteSource =
  | { kind: 'git'; url: string; transport: GitTransport; ref?: string | undefined; subdir?: string | undefined }
  | { kind: 'url'; url: string };

/** A remote context fetched and ready to be read. */
export type RemoteContext =
  | {
      kind: 'directory';
      /** The context root (a git checkout or its subdir, or a directory holding a fetched Dockerfile). */
      root: string;
      /** Set when the remote was a bare Dockerfile: its name in `root` replaces `dockerfile=`. */
      dockerfile?: string | undefined;
      close(): Promise<void>;
    }
  | { kind: 'archive'; stream: Readable; close(): Promise<void> };

/** The docker CLI's test for a git context (urlutil.IsGitURL), plus `ssh://` and `file://`. */
export function isGitUrl(s: string): boolean {
  if (/^https?:\/\//i.test(s)) return /\.git(?:#.+)?$/.test(s);
  return s.startsWith('git@') || /^(git|ssh|file):\/\//i.test(s) || s.startsWith('github.com/');
}

function refAndSubdir(fragment: string): { ref?: string; subdir?: string } {
  const i = fragment.indexOf(':');
  const ref = i < 0 ? fragment : fragment.slice(0, i);
  const subdir = i < 0 ? '' : fragment.slice(i + 1);
  return { ...(ref ? { ref } : {}), ...(subdir ? { subdir } : {}) };
}

/** Parses a `remote=` value; anything but a git or http(s) URL is an invalid-argument. */
export function parseRemote(remote: string): RemoteSource {
  const s = remote.trim();
  if (isGitUrl(s)) {
    const full = s.startsWith('github.com/') ? `https://${s}` : s;
    const hash = full.indexOf('#');
    const url = hash < 0 ? full : full.slice(0, hash);
    const { ref, subdir } = refAndSubdir(hash < 0 ? '' : full.slice(hash + 1));
    if (ref?.startsWith('-')) throw invalidArgument(`invalid git ref "${ref}" in remote context "${redactUrl(remote)}"`);
    let transport: GitTransport = 'ssh';
    if (!url.startsWith('git@')) {
      let u: URL;
      try {
        u = new URL(url);
      } catch (err) {
        throw invalidArgument(`invalid remote context "${redactUrl(remote)}": not a valid URL`, err);
      }
      transport = u.protocol.slice(0, -1).toLowerCase() as GitTransport;
    }
    return { kind: 'git', url, transport, ref, subdir };
  }
  if (/^https?:\/\//i.test(s)) {
    try {
      return { kind: 'url', url: new URL(s).toString() };
    } catch (err) {
      throw invalidArgument(`invalid remote context "${redactUrl(remote)}": not a valid URL`, err);
    }
  }
  throw invalidArgument(`remote context "${redactUrl(remote)}" could not be recognized as a git or http(s) URL`);
}

/** A URL with its password (a token) replaced, for messages and logs. */
export function redactUrl(s: string): string {
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:xxxxx@');
}

/**
 * Fetches `source` under `dir` (which must exist and belong to the caller; `close()` removes
 * what was fetched, the caller still removes `dir`). `keepGitDir` keeps a checkout's `.git`.
 */
export async function fetchRemoteContext(source: RemoteSource, dir: string, opts: { signal?: AbortSignal; keepGitDir?: boolean } = {}): Promise<RemoteContext> {
  if (source.kind === 'git') {
    const checkout = join(dir, 'git');
    try {
      const root = await cloneGitContext(source, checkout, join(dir, 'git-home'), opts);
      // As BuildKit: no .git in the context unless asked (BUILDKIT_CONTEXT_KEEP_GIT_DIR). A fresh
      // clone's .git differs every time (index stat data, FETCH_HEAD), so `COPY . .` would
      // never hit the cache.
      if (!opts.keepGitDir) await rm(join(checkout, '.git'), { recursive: true, force: true });
      return { kind: 'directory', root, close: () => rm(checkout, { recursive: true, force: true }) };
    } catch (err) {
      await rm(checkout, { recursive: true, force: true });
      throw err;
    }
  }
  return fetchUrlContext(source.url, dir, opts);
}

// ---- git ----

function gitEnv(home: string): NodeJS.ProcessEnv {
  // Isolated like dockerd's clone: no system/global config, no prompts (a missing credential fails).
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
  };
}

function gitFailure(what: string, source: RemoteSource & { kind: 'git' }, err: unknown): BerthError | unknown {
  if (isAbortError(err)) return err;
  const tail = err instanceof ExecError ? err.stderrTail.trim() : errorMessage(err);
  const kind: ErrorKind = err instanceof BerthError && err.kind === 'unavailable' ? 'unavailable' : 'internal';
  const timedOut = kind === 'unavailable' ? ' (timed out)' : '';
  return new BerthError(kind, `${what} from git repository "${redactUrl(source.url)}"${timedOut}: ${tail.split('\n').filter(Boolean).slice(0, 3).join('; ') || 'git failed'}`, { cause: err });
}

/**
 * Whether a shallow fetch works: every transport but dumb HTTP. A smart HTTP server answers
 * the upload-pack advertisement with its own content type (dockerd asks the same way).
 */
async function supportsShallow(source: RemoteSource & { kind: 'git' }, signal?: AbortSignal): Promise<boolean> {
  if (source.transport !== 'http' && source.transport !== 'https') return true;
  try {
    const { request } = await import('undici');
    const res = await request(`${source.url}/info/refs?service=git-upload-pack`, {
      method: 'GET',
      dispatcher: await httpDispatcher(),
      ...(signal ? { signal } : {}),
    });
    res.body.resume();
    return res.statusCode === 200 && String(res.headers['content-type'] ?? '').startsWith('application/x-git-upload-pack-advertisement');
  } catch (err) {
    if (isAbortError(err)) throw err;
    // Unreachable: the fetch below fails and says why.
    return true;
  }
}

/** Clones `source` into `checkout`; returns the context root (the checkout or its subdir). */
export async function cloneGitContext(source: RemoteSource & { kind: 'git' }, checkout: string, home: string, opts: { signal?: AbortSignal } = {}): Promise<string> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  await mkdir(checkout, { recursive: true, mode: 0o700 });
  const env = gitEnv(home);
  const git = (args: string[], timeoutMs: number) => run('git', ['-C', checkout, ...args], { timeoutMs, env, ...(opts.signal ? { signal: opts.signal } : {}) });
  try {
    await git(['init', '-q'], GIT_QUICK_TIMEOUT_MS);
    await git(['remote', 'add', 'origin', source.url], GIT_QUICK_TIMEOUT_MS);
  } catch (err) {
    throw gitFailure('cannot prepare a clone', source, err);
  }
  const ref = source.ref ?? 'HEAD';
  const shallow = await supportsShallow(source, opts.signal);
  try {
    await git(['fetch', '-q', '--no-tags', ...(shallow ? ['--depth', '1'] : []), 'origin', '--', ref], GIT_FETCH_TIMEOUT_MS);
  } catch (err) {
    throw gitFailure(`cannot fetch ${source.ref === undefined ? 'the default branch' : `ref "${ref}"`}`, source, err);
  }
  try {
    await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', 'FETCH_HEAD'], GIT_FETCH_TIMEOUT_MS);
  } catch (err) {
    throw gitFailure(`cannot check out ref "${ref}"`, source, err);
  }
  if (await lstat(join(checkout, '.gitmodules')).then(() => true, () => false)) {
    try {
      await git(['submodule', 'update', '--init', '--recursive', '--depth=1'], GIT_FETCH_TIMEOUT_MS);
    } catch (err) {
      throw gitFailure('cannot update the submodules', source, err);
    }
  }
  return source.subdir ? resolveSubdir(checkout, source.subdir, source) : checkout;
}

/** `subdir` inside the checkout, symlinks followed but never out of it; must be a directory. */
async function resolveSubdir(root: string, subdir: string, source: RemoteSource & { kind: 'git' }): Promise<string> {
  const realRoot = await realpath(root);
  let target: string;
  try {
    target = await realpath(join(realRoot, subdir));
  } catch (err) {
    throw invalidArgument(`subdirectory "${subdir}" does not exist in git repository "${redactUrl(source.url)}" at ref "${source.ref ?? 'HEAD'}"`, err);
  }
  const rel = relative(realRoot, target);
  if (rel === '..' || rel.startsWith(`..${sep}`)) throw invalidArgument(`subdirectory "${subdir}" is not within git repository "${redactUrl(source.url)}"`);
  if (!(await lstat(target)).isDirectory()) throw invalidArgument(`subdirectory "${subdir}" of git repository "${redactUrl(source.url)}" is not a directory`);
  return target;
}

// ---- http(s) ----

let dispatcher: Dispatcher | undefined;
/** undici (~10 MB of berthd's RSS once loaded) is imported at the first http(s) context. */
async function httpDispatcher(): Promise<Dispatcher> {
  const { Agent, interceptors } = await import('undici');
  dispatcher ??= new Agent({ connect: { timeout: HTTP_CONNECT_TIMEOUT_MS }, headersTimeout: HTTP_HEADERS_TIMEOUT_MS, bodyTimeout: HTTP_IDLE_TIMEOUT_MS }).compose(
    interceptors.redirect({ maxRedirections: HTTP_MAX_REDIRECTIONS }),
  );
  return dispatcher;
}

/** An HTTP status as dockerd reports a failed context download: 404, 400, 401, 403 kept. */
function statusKind(status: number): ErrorKind {
  switch (status) {
    case 404:
      return 'not-found';
    case 400:
      return 'invalid-argument';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    default:
      return 'internal';
  }
}

function httpFailure(url: string, err: unknown): unknown {
  if (isAbortError(err)) return err;
  const timedOut = HTTP_TIMEOUT_CODES.has(String((err as { code?: unknown } | null)?.code));
  const cause = err instanceof Error && err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : errorMessage(err);
  return new BerthError(timedOut ? 'unavailable' : 'internal', `cannot fetch the build context from "${redactUrl(url)}": ${cause}`, { cause: err });
}

/** Magic numbers of a tar (`ustar` at 257) or of the compressions a context may come in. */
export function isArchiveHead(head: Buffer): boolean {
  if (head[0] === 0x1f && head[1] === 0x8b) return true; // gzip
  if (sniffCompression(head)) return true;
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/** Cuts the stream with an error once more than `max` bytes passed. */
function sizeLimit(max: number, url: string): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      n += chunk.length;
      if (n > max) cb(invalidArgument(`build context at "${redactUrl(url)}" is larger than ${max} bytes`));
      else cb(null, chunk);
    },
  });
}

/**
 * GETs `url` (redirects followed): a tar (plain or compressed) is streamed back as it arrives,
 * anything else is read as a Dockerfile (like dockerd: text, or not an archive) into `dir`.
 */
export async function fetchUrlContext(url: string, dir: string, opts: { signal?: AbortSignal } = {}): Promise<RemoteContext> {
  let res: Dispatcher.ResponseData;
  try {
    const { request } = await import('undici');
    res = await request(url, { method: 'GET', dispatcher: await httpDispatcher(), ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (err) {
    throw httpFailure(url, err);
  }
  if (res.statusCode >= 400) {
    const body = (await res.body.text().catch(() => '')).trim().slice(0, 200);
    throw new BerthError(statusKind(res.statusCode), `cannot fetch the build context from "${redactUrl(url)}": HTTP ${res.statusCode}${body ? `: ${body}` : ''}`);
  }
  const it = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let first: { head: Buffer; done: boolean };
  try {
    first = await readHead(it, SNIFF_BYTES);
  } catch (err) {
    throw httpFailure(url, err);
  }
  const contentType = String(res.headers['content-type'] ?? '').toLowerCase();
  if (isArchiveHead(first.head) || (!contentType.startsWith('text/') && first.head.includes(0))) {
    const rest = withHead(first.head, first.done, it);
    const limited = rest.pipe(sizeLimit(MAX_REMOTE_CONTEXT_BYTES, url));
    rest.on('error', (e) => limited.destroy(httpFailure(url, e) as Error));
    return {
      kind: 'archive',
      stream: limited,
      close: async () => {
        limited.destroy();
        res.body.destroy();
      },
    };
  }
  // A Dockerfile: read whole (capped) and given as the only file of the context.
  const parts = [first.head];
  let size = first.head.length;
  try {
    for (let r = first.done ? undefined : await it.next(); r && !r.done; r = await it.next()) {
      size += r.value.length;
      if (size > MAX_REMOTE_DOCKERFILE_BYTES) {
        res.body.destroy();
        throw invalidArgument(`Dockerfile at "${redactUrl(url)}" is larger than ${MAX_REMOTE_DOCKERFILE_BYTES} bytes`);
      }
      parts.push(r.value);
    }
  } catch (err) {
    throw err instanceof BerthError ? err : httpFailure(url, err);
  }
  const root = join(dir, 'remote-dockerfile');
  await mkdir(root, { recursive: true, mode: 0o700 });
  await writeFile(join(root, 'Dockerfile'), Buffer.concat(parts), { mode: 0o644 });
  return { kind: 'directory', root, dockerfile: 'Dockerfile', close: () => rm(root, { recursive: true, force: true }) };
}
