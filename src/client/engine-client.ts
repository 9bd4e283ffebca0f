// A typed Engine API client, used by the berth CLI and compose. It speaks to berthd or
// to any Docker engine: unix socket or tcp, API version negotiated via /_ping,
// `{"message"}` error bodies turned into BerthError with a kind from the status.
//
// Transport: node:http with a keep-alive agent, or (transport 'socket', what the CLI uses)
// raw-http.ts's HTTP/1.1 over node:net, which spares a short process node:http's start-up
// cost; request bodies that are streams always go through node:http. undici was measured
// first: its HTTP/1 parser is WebAssembly compiled on the first request, ~120 ms of CPU per
// CLI run (node:http: ~20 ms), and every `berth` invocation is a fresh process.
import type { Readable } from 'node:stream';
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import { BerthError, type ErrorKind } from '../util/index.js';
import { parseHost, type EngineEndpoint } from './host.js';
import { followProgress, readJsonLines, type JsonProgressMessage } from './json-stream.js';
import type { HijackedConnection } from './hijack.js';
import { RawHttpPool, type PreconnectedSocket, type RawBufferedResponse, type RawRequest } from './raw-http.js';
import type { EventMessage } from './types/events.js';
import type {
  HistoryResponseItem,
  ImageDeleteResponseItem,
  ImageInspect,
  ImagePruneResponse,
  ImageSummary,
  SystemDataUsageResponse,
} from './types/images.js';
import type { SystemInfo, SystemVersion } from './types/system.js';

/** The newest Engine API version this client speaks. */
export const CLIENT_API_VERSION = '1.51';
/** The oldest it accepts from a server (dockerd's minimum). */
export const CLIENT_MIN_API_VERSION = '1.24';

const CONNECT_TIMEOUT_MS = 5_000;
/** An ordinary request may sit silent this long (waiting for headers or between chunks). */
const IDLE_TIMEOUT_MS = 5 * 60_000;

/**
 * Request options for plain HTTP: servername '' (a TLS field, absent from node:http's types)
 * stops the agent from running the host header through net.isIP, whose IPv6 regex costs a
 * short CLI run ~1–4 ms to compile.
 */
export const NO_SERVERNAME: object = { servername: '' };

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
/** Error bodies are small; don't read a runaway one. */
const MAX_ERROR_BODY = 64 * 1024;

export type QueryValue = string | number | boolean | undefined | null | string[];
/** Docker's filter map: `{"dangling":["true"],"label":["a=b"]}`. */
export type Filters = Record<string, string[]>;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** A JSON value (sent as application/json) or a stream (sent as is, never buffered). */
  body?: unknown;
  /** Content type for a stream body. */
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Long-lived streams (events, load progress) disable the idle timeout. */
  longLived?: boolean;
}

export interface StreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface PingResult {
  apiVersion: string;
  osType?: string;
  experimental: boolean;
  builderVersion?: string;
}

/** An error the daemon answered with a status ≥ 400 and a `{"message"}` body. */
export class EngineApiError extends BerthError {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(kindForStatus(statusCode), message);
    this.name = 'EngineApiError';
    this.statusCode = statusCode;
  }
}

/** Nothing answers at the engine's address (the daemon is down or the socket is missing). */
export class DaemonUnreachableError extends BerthError {
  readonly host: string;
  constructor(host: string, cause: unknown) {
    super('unavailable', `Cannot connect to the berth daemon at ${host}. Is the daemon running?`, { cause });
    this.name = 'DaemonUnreachableError';
    this.host = host;
  }
}

/** The reverse of api/errors.ts: a status back to a kind. */
export function kindForStatus(status: number): ErrorKind {
  switch (status) {
    case 400: return 'invalid-argument';
    case 401: return 'unauthorized';
    case 403: return 'forbidden';
    case 404: return 'not-found';
    case 409: return 'conflict';
    case 304: return 'not-modified';
    case 501: return 'not-implemented';
    case 503: return 'unavailable';
    default: return status >= 400 && status < 500 ? 'invalid-argument' : 'internal';
  }
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

function isUnreachable(err: unknown): boolean {
  let cur: unknown = err;
  for (let i = 0; cur && i < 8; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return false;
}

/** Compares two API versions ("1.41" < "1.51"): negative, zero or positive. */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    const values = Array.isArray(v) ? v : [typeof v === 'boolean' ? (v ? '1' : '0') : String(v)];
    for (const one of values) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(one)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Filters as the API wants them (`{"k":{"v":true}}`), or undefined when empty. */
export function encodeFilters(filters: Filters | undefined): string | undefined {
  if (!filters || Object.keys(filters).length === 0) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const [k, vs] of Object.entries(filters)) {
    out[k] = {};
    for (const v of vs) out[k]![v] = true;
  }
  return JSON.stringify(out);
}

function isReadable(v: unknown): v is Readable | AsyncIterable<Uint8Array> {
  return !!v && typeof v === 'object' && (typeof (v as Readable).pipe === 'function' || Symbol.asyncIterator in v);
}

export interface EngineClientOptions {
  /** `unix:///path.sock` or `tcp://host:port`. */
  host: string;
  /** Pin the API version and skip negotiation. */
  apiVersion?: string;
  /**
   * 'node-http' (the default): node:http. 'socket': raw-http.ts over node:net, ~4-5 ms less
   * CPU for a process that makes a few requests and exits (the CLI); stream request bodies
   * still use node:http.
   */
  transport?: 'node-http' | 'socket';
  /**
   * A connection to the host's socket with the /_ping already written on it (the CLI's entry
   * opens it while the rest of the CLI loads); transport 'socket' only. Used for the ping if
   * its bytes are the ping's, closed otherwise.
   */
  preconnected?: PreconnectedSocket;
}

export class EngineClient {
  readonly host: string;
  private readonly endpoint: EngineEndpoint;
  private agent: HttpAgent | undefined;
  private pool: RawHttpPool | undefined;
  private readonly transport: 'node-http' | 'socket';
  private readonly target: { socketPath: string } | { host: string; port: number };
  private negotiated: string | undefined;
  private negotiation: Promise<string> | undefined;
  private preconnected: PreconnectedSocket | undefined;

  constructor(opts: EngineClientOptions) {
    this.host = opts.host;
    this.preconnected = opts.preconnected;
    this.endpoint = parseHost(opts.host);
    this.negotiated = opts.apiVersion;
    this.transport = opts.transport ?? 'node-http';
    if (this.endpoint.kind === 'unix') this.target = { socketPath: this.endpoint.socketPath };
    else {
      const u = new URL(this.endpoint.origin);
      this.target = { host: u.hostname, port: Number(u.port) };
    }
  }

  async close(): Promise<void> {
    this.agent?.destroy();
    this.pool?.destroy();
    this.preconnected?.socket.destroy();
  }

  /** raw-http's pool, made on first use (with the preconnected socket, if any). */
  private rawPool(): RawHttpPool {
    if (!this.pool) {
      this.pool = new RawHttpPool(this.target, this.preconnected);
      this.preconnected = undefined;
    }
    return this.pool;
  }

  /** The API version in use, negotiated once with /_ping (the lower of the server's and ours). */
  async apiVersion(opts: { signal?: AbortSignal } = {}): Promise<string> {
    if (this.negotiated) return this.negotiated;
    this.negotiation ??= this.ping(opts).then((p) => {
      const server = p.apiVersion || CLIENT_MIN_API_VERSION;
      this.negotiated = compareApiVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
      return this.negotiated;
    });
    try {
      return await this.negotiation;
    } catch (err) {
      this.negotiation = undefined;
      throw err;
    }
  }

  // --- generic transport ---------------------------------------------------------

  /** `path` under the negotiated API version (the /_ping has none). */
  private async versioned(path: string, signal: AbortSignal | undefined): Promise<string> {
    return path === '/_ping' ? path : `/v${await this.apiVersion({ signal })}${path}`;
  }

  /** Sends a request and returns the raw response; statuses ≥ 400 become EngineApiError. */
  async stream(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<StreamResponse> {
    return this.raw(method, await this.versioned(path, opts.signal), opts);
  }

  /** Sends a request and parses the JSON answer (undefined for an empty body). */
  async request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    const versioned = await this.versioned(path, opts.signal);
    // raw-http reads an answer read whole without a stream (requestBuffered).
    const text =
      this.transport === 'socket' && !isReadable(opts.body)
        ? chunksText((await this.rawBuffered(method, versioned, opts)).chunks)
        : await readBodyText((await this.raw(method, versioned, opts)).body);
    if (!text.trim()) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new BerthError('internal', `${method} ${path}: the daemon answered invalid JSON`, { cause: err });
    }
  }

  /**
   * raw()'s exchange over raw-http with the answer read whole; statuses ≥ 400 become
   * EngineApiError, a failure after the head is thrown as the stream's reader would meet it.
   */
  private async rawBuffered(method: HttpMethod, path: string, opts: RequestOptions): Promise<RawBufferedResponse> {
    const { headers, payload, idleMs, timeoutError } = this.requestParts(method, path, opts);
    let res;
    try {
      res = await this.rawPool().requestBuffered(rawRequest(method, path + encodeQuery(opts.query), headers, payload, opts.signal, idleMs, timeoutError));
    } catch (err) {
      throw this.requestError(err);
    }
    if (res.bodyError) throw res.bodyError;
    if (res.statusCode >= 400) throw new EngineApiError(res.statusCode, errorMessageOf(chunksText(res.chunks, MAX_ERROR_BODY), res.statusCode));
    return res;
  }

  /** A request's headers and JSON payload or stream body, and its idle timeout. */
  private requestParts(method: HttpMethod, path: string, opts: RequestOptions) {
    const headers: Record<string, string> = { ...opts.headers };
    // The host part is ignored on a unix socket; docker's own client sends this name too.
    if ('socketPath' in this.target) headers['host'] ??= 'api.moby.localhost';
    let stream: Readable | AsyncIterable<Uint8Array> | undefined;
    let payload: Buffer | undefined;
    if (isReadable(opts.body)) {
      stream = opts.body;
      headers['content-type'] ??= opts.contentType ?? 'application/octet-stream';
    } else if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['content-type'] ??= 'application/json';
    }
    const idleMs = opts.longLived ? 0 : IDLE_TIMEOUT_MS;
    const timeoutError = () => new BerthError('unavailable', `${method} ${path}: the daemon at ${this.host} did not answer in time`);
    return { headers, stream, payload, idleMs, timeoutError };
  }

  private async raw(method: HttpMethod, path: string, opts: RequestOptions): Promise<StreamResponse> {
    const { headers, stream, payload, idleMs, timeoutError } = this.requestParts(method, path, opts);
    if (this.transport === 'socket' && !stream) {
      let res;
      try {
        res = await this.rawPool().request(rawRequest(method, path + encodeQuery(opts.query), headers, payload, opts.signal, idleMs, timeoutError));
      } catch (err) {
        throw this.requestError(err);
      }
      if (res.statusCode >= 400) throw new EngineApiError(res.statusCode, errorMessageOf(await readBodyText(res.body, MAX_ERROR_BODY), res.statusCode));
      return res;
    }
    if (payload) headers['content-length'] = String(payload.length);
    const http = await import('node:http');
    this.agent ??= new http.Agent({ keepAlive: true, maxSockets: 16 });
    const agent = this.agent;
    return new Promise<StreamResponse>((resolve, reject) => {
      const req = http.request({ ...this.target, ...NO_SERVERNAME, agent, method, path: path + encodeQuery(opts.query), headers, signal: opts.signal });
      req.once('socket', (sock) => {
        if (sock.connecting) {
          // Named timeouts (STYLE.md §8): connect first, then idle once connected.
          sock.setTimeout(CONNECT_TIMEOUT_MS);
          sock.once('connect', () => sock.setTimeout(idleMs));
        } else sock.setTimeout(idleMs);
      });
      req.once('timeout', () => req.destroy(timeoutError()));
      req.once('error', (err: NodeJS.ErrnoException) => reject(this.requestError(err)));
      req.once('response', (res: IncomingMessage) => {
        if ((res.statusCode ?? 500) >= 400) {
          readBodyText(res, MAX_ERROR_BODY).then(
            (text) => reject(new EngineApiError(res.statusCode ?? 500, errorMessageOf(text, res.statusCode ?? 500))),
            reject,
          );
          return;
        }
        resolve({ statusCode: res.statusCode ?? 200, headers: res.headers, body: res });
      });
      if (stream) {
        // A failing source (a truncated file) aborts the request instead of ending it cleanly.
        // node:stream/promises, loaded here: only uploads (load, import, build) stream a body.
        import('node:stream/promises')
          .then(({ pipeline }) => pipeline(stream, req))
          .catch((err: unknown) => req.destroy(err instanceof Error ? err : new Error(String(err))));
      } else req.end(payload);
    });
  }

  /** A failed connection or exchange as the caller should see it. */
  private requestError(err: unknown): unknown {
    if ((err as NodeJS.ErrnoException).code === 'EACCES') {
      return new BerthError('forbidden', `permission denied while trying to connect to the berth daemon socket at ${this.host}`, { cause: err });
    }
    return isUnreachable(err) ? new DaemonUnreachableError(this.host, err) : err;
  }

  /**
   * A hijacked stdio connection (attach, exec start): resolves after `101`, with the
   * socket carrying stdin one way and stdout/stderr (framed unless TTY) the other.
   */
  async hijack(
    method: HttpMethod,
    path: string,
    opts: { query?: Record<string, QueryValue>; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<HijackedConnection> {
    const versioned = `/v${await this.apiVersion({ signal: opts.signal })}${path}`;
    if (this.transport === 'socket') return this.hijackSocket(method, versioned, opts);
    const { hijack } = await import('./hijack.js');
    return hijack(this.host, method, versioned, opts);
  }

  private async hijackSocket(
    method: HttpMethod,
    path: string,
    opts: { query?: Record<string, QueryValue>; body?: unknown; signal?: AbortSignal },
  ): Promise<HijackedConnection> {
    const headers: Record<string, string> = {};
    if ('socketPath' in this.target) headers['host'] = 'api.moby.localhost';
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    if (payload) headers['content-type'] = 'application/json';
    let res;
    try {
      const timeoutError = () => new Error(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`);
      res = await this.rawPool().upgrade(rawRequest(method, path + encodeQuery(opts.query), headers, payload, opts.signal, CONNECT_TIMEOUT_MS, timeoutError));
    } catch (err) {
      throw this.requestError(err);
    }
    if ('socket' in res) return { socket: res.socket, head: res.head, headers: res.headers as HijackedConnection['headers'] };
    const text = await readBodyText(res.body, MAX_ERROR_BODY);
    throw new EngineApiError(res.statusCode, errorMessageOf(text, res.statusCode));
  }

  // --- system ------------------------------------------------------------------

  async ping(opts: { signal?: AbortSignal } = {}): Promise<PingResult> {
    // The body ("OK") says nothing; node:http's connection is free for the next request only
    // once it is read. raw-http reads it with the head (no stream: ~1 ms of stream events on
    // the way to a run's create).
    let res: { headers: Record<string, string | string[] | undefined> };
    if (this.transport === 'socket') res = await this.rawBuffered('GET', '/_ping', { signal: opts.signal });
    else {
      const streamed = await this.raw('GET', '/_ping', { signal: opts.signal });
      await readBodyText(streamed.body, 0);
      res = streamed;
    }
    const h = (k: string) => {
      const v = res.headers[k];
      return Array.isArray(v) ? v[0] : v;
    };
    return {
      apiVersion: h('api-version') ?? '',
      osType: h('ostype'),
      experimental: h('docker-experimental') === 'true',
      builderVersion: h('builder-version'),
    };
  }

  version<T = SystemVersion>(opts: { signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>('GET', '/version', opts);
  }

  info<T = SystemInfo>(opts: { signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>('GET', '/info', opts);
  }

  systemDf<T = SystemDataUsageResponse>(opts: { types?: string[]; signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>('GET', '/system/df', { query: { type: opts.types }, signal: opts.signal });
  }

  /** Yields events until the daemon ends the stream (with `until`) or the signal aborts. */
  async *events<T = EventMessage>(
    opts: { since?: string; until?: string; filters?: Filters; signal?: AbortSignal } = {},
  ): AsyncGenerator<T> {
    const res = await this.stream('GET', '/events', {
      query: { since: opts.since, until: opts.until, filters: encodeFilters(opts.filters) },
      signal: opts.signal,
      longLived: true,
    });
    for await (const ev of readJsonLines(res.body)) yield ev as T;
  }

  // --- images ------------------------------------------------------------------

  listImages<T = ImageSummary>(
    opts: { all?: boolean; digests?: boolean; sharedSize?: boolean; filters?: Filters; signal?: AbortSignal } = {},
  ): Promise<T[]> {
    return this.request<T[]>('GET', '/images/json', {
      query: {
        all: opts.all || undefined,
        digests: opts.digests || undefined,
        'shared-size': opts.sharedSize || undefined,
        filters: encodeFilters(opts.filters),
      },
      signal: opts.signal,
    });
  }

  inspectImage<T = ImageInspect>(name: string, opts: { signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>('GET', `/images/${encodeURIComponent(name)}/json`, opts);
  }

  imageHistory<T = HistoryResponseItem>(name: string, opts: { signal?: AbortSignal } = {}): Promise<T[]> {
    return this.request<T[]>('GET', `/images/${encodeURIComponent(name)}/history`, opts);
  }

  async tagImage(name: string, repo: string, tag: string | undefined, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.request('POST', `/images/${encodeURIComponent(name)}/tag`, { query: { repo, tag }, signal: opts.signal });
  }

  removeImage<T = ImageDeleteResponseItem>(
    name: string,
    opts: { force?: boolean; noprune?: boolean; signal?: AbortSignal } = {},
  ): Promise<T[]> {
    return this.request<T[]>('DELETE', `/images/${encodeURIComponent(name)}`, {
      query: { force: opts.force || undefined, noprune: opts.noprune || undefined },
      signal: opts.signal,
    });
  }

  pruneImages<T = ImagePruneResponse>(
    opts: { filters?: Filters; signal?: AbortSignal } = {},
  ): Promise<T> {
    return this.request<T>('POST', '/images/prune', { query: { filters: encodeFilters(opts.filters) }, signal: opts.signal });
  }

  /** `docker load`: streams a docker-archive or OCI layout tar in; returns the progress stream's messages. */
  async loadImage(
    archive: Readable | AsyncIterable<Uint8Array>,
    opts: { quiet?: boolean; signal?: AbortSignal; onMessage?: (m: JsonProgressMessage) => void } = {},
  ): Promise<JsonProgressMessage[]> {
    const res = await this.stream('POST', '/images/load', {
      query: { quiet: opts.quiet ? '1' : '0' },
      body: archive,
      contentType: 'application/x-tar',
      signal: opts.signal,
      longLived: true,
    });
    return followProgress(res.body, opts.onMessage);
  }

  /** `docker save`: a tar stream of one or more images (the caller pipes it somewhere). */
  async saveImages(names: string[], opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    const res = await this.stream('GET', '/images/get', { query: { names }, signal: opts.signal, longLived: true });
    return res.body;
  }

  /** `docker import`: a rootfs tar (stream) or a URL becomes an image; returns the progress messages. */
  async importImage(
    source: Readable | AsyncIterable<Uint8Array> | { url: string },
    opts: {
      repo?: string;
      tag?: string;
      changes?: string[];
      message?: string;
      platform?: string;
      signal?: AbortSignal;
      onMessage?: (m: JsonProgressMessage) => void;
    } = {},
  ): Promise<JsonProgressMessage[]> {
    const fromUrl = 'url' in source ? source.url : undefined;
    const res = await this.stream('POST', '/images/create', {
      query: {
        fromSrc: fromUrl ?? '-',
        repo: opts.repo,
        tag: opts.tag,
        changes: opts.changes?.length ? opts.changes : undefined,
        message: opts.message,
        platform: opts.platform,
      },
      body: fromUrl ? undefined : source,
      contentType: 'application/x-tar',
      signal: opts.signal,
      longLived: true,
    });
    return followProgress(res.body, opts.onMessage);
  }
}

/**
 * A response body as text (the first `limit` bytes of it, all of it read). Plain 'data'/'end'
 * events, not `for await`: a stream's async iterator costs a short CLI run ~2 ms on its first
 * use (the /_ping's empty body was the create's wait).
 */
export function readBodyText(body: Readable, limit = Infinity): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (c: Buffer | string) => {
      const b = Buffer.isBuffer(c) ? c : Buffer.from(c);
      if (size < limit) chunks.push(b);
      size += b.length;
    });
    let ended = false;
    body.once('end', () => {
      ended = true;
      resolve(chunksText(chunks, limit));
    });
    // A connection that drops mid-body: node errors the response ("aborted", ECONNRESET);
    // a stream destroyed without an error only closes.
    body.once('error', reject);
    body.once('close', () => {
      if (!ended) reject(new BerthError('unavailable', 'the daemon closed the connection before the end of its answer'));
    });
  });
}

/**
 * A body's chunks as text, the first `limit` characters of the chunks that began under
 * `limit` bytes (readBodyText keeps only those).
 */
function chunksText(chunks: Buffer[], limit = Infinity): string {
  const kept: Buffer[] = [];
  let size = 0;
  for (const b of chunks) {
    if (size < limit) kept.push(b);
    size += b.length;
  }
  const text = Buffer.concat(kept).toString('utf8');
  return limit === Infinity ? text : text.slice(0, limit);
}

function errorMessageOf(text: string, status: number): string {
  try {
    const v = JSON.parse(text) as { message?: unknown };
    if (v && typeof v.message === 'string') return v.message;
  } catch {
    // Not JSON (a proxy or a non-Docker server): fall back to the text itself.
  }
  return text.trim() || `the daemon answered status ${status}`;
}

/** A raw-http exchange: connecting may take CONNECT_TIMEOUT_MS, then it may sit silent `idleTimeoutMs` (0: no limit). */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  signal: AbortSignal | undefined,
  idleTimeoutMs: number,
  timeoutError: () => Error,
): RawRequest {
  return { method, path, headers, body, signal, connectTimeoutMs: CONNECT_TIMEOUT_MS, idleTimeoutMs, timeoutError };
}
