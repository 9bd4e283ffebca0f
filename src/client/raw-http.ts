// A small HTTP/1.1 client over node:net, for the CLI's short-lived processes: node:http costs
// a `berth run` ~4-5 ms of CPU before its first request is answered (loading it, then its
// agent, request and response machinery on first use), against ~1 ms for a socket and this
// parser. It speaks what the Engine API needs: JSON or empty request bodies, responses framed
// by Content-Length, chunked encoding or the connection's end, keep-alive reuse, and the
// `Upgrade: tcp` handshake of attach/exec. Request bodies that are streams go through node:http
// (EngineClient decides).
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';

export type RawTarget = { socketPath: string } | { host: string; port: number };

export interface RawRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
  connectTimeoutMs: number;
  /** How long the exchange may sit silent once connected; 0: no limit. */
  idleTimeoutMs: number;
  /** The error a timeout fails the exchange with. */
  timeoutError: () => Error;
}

export type RawHeaders = Record<string, string | string[] | undefined>;

/**
 * A connection the caller opened before this client existed, with a request already written
 * on it (the CLI's entry sends the /_ping while it loads the rest of itself). The pool uses it
 * for its first exchange if that exchange's bytes are exactly `written` on the same socket
 * path; otherwise it closes it and connects as usual.
 */
export interface PreconnectedSocket {
  socketPath: string;
  socket: Socket;
  written: Buffer;
}

export interface RawResponse {
  statusCode: number;
  headers: RawHeaders;
  /** The body; it ends when the response does, and errors when the connection drops first. */
  body: Readable;
}

/**
 * A response read whole (requestBuffered): its body's chunks as they came, or the error that
 * ended it after its head (a dropped connection, a timeout, an abort).
 */
export interface RawBufferedResponse {
  statusCode: number;
  headers: RawHeaders;
  chunks: Buffer[];
  bodyError?: Error;
}

export interface RawUpgrade {
  statusCode: 101;
  headers: RawHeaders;
  socket: Socket;
  /** Bytes that came after the 101's headers in the same read. */
  head: Buffer;
}

/** Upper bound on a response's status line and headers. */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

function codeError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason as unknown }), { name: 'AbortError', code: 'ABORT_ERR' });
}

interface Head {
  statusCode: number;
  headers: RawHeaders;
  /** HTTP/1.0, or `Connection: close`: the server ends the connection after this response. */
  closes: boolean;
}

/** Parses a response's status line and headers (without the blank line). */
export function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  // "HTTP/1.1 200 OK", read without a regex: V8 compiles each on first use, and this runs in
  // processes that live for a few requests.
  const status = lines[0] ?? '';
  const code = Number(status.slice(9, 12));
  const minor = status[7];
  if (!status.startsWith('HTTP/1.') || (minor !== '0' && minor !== '1') || status[8] !== ' ' || !(code >= 100 && code <= 999) || (status.length > 12 && status[12] !== ' ')) {
    throw codeError(`the daemon answered something that is not HTTP/1.x: ${JSON.stringify(status.slice(0, 80))}`, 'HPE_INVALID_CONSTANT');
  }
  const headers: RawHeaders = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw codeError(`the daemon sent a malformed header line: ${JSON.stringify(line.slice(0, 80))}`, 'HPE_INVALID_HEADER_TOKEN');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers[name];
    // As node:http does: set-cookie is a list, other repeated headers are joined.
    if (name === 'set-cookie') headers[name] = [...((prev as string[] | undefined) ?? []), value];
    else headers[name] = prev === undefined ? value : `${prev as string}, ${value}`;
  }
  const connection = String(headers['connection'] ?? '').toLowerCase();
  return { statusCode: code, headers, closes: minor === '0' ? !connection.includes('keep-alive') : connection.includes('close') };
}

/** A chunk size line's hex digits as a number; NaN when it is not one (no regex: see parseHead). */
function hexSize(digits: string): number {
  if (digits.length === 0 || digits.length > 12) return NaN;
  let n = 0;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return NaN;
    n = n * 16 + d;
  }
  return n;
}

/** Decodes a chunked body incrementally: feed bytes, get data out, `done` after the last chunk. */
export class ChunkedDecoder {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current chunk still to come; -1 while a size line is awaited, -2 in trailers. */
  private left = -1;
  /** The CRLF after a chunk's data is still to be skipped. */
  private crlfDue = false;
  done = false;

  /** Returns the body bytes in `data`; bytes after the body's end are returned as `rest`. */
  feed(data: Buffer): { out: Buffer[]; rest: Buffer } {
    const out: Buffer[] = [];
    let buf: Buffer = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    this.pending = Buffer.alloc(0);
    for (;;) {
      if (this.done) return { out, rest: buf };
      if (this.crlfDue) {
        if (buf.length < 2) break;
        if (buf[0] !== 13 || buf[1] !== 10) throw codeError('the daemon sent a malformed chunked body', 'HPE_INVALID_CHUNK_SIZE');
        buf = buf.subarray(2);
        this.crlfDue = false;
        continue;
      }
      if (this.left > 0) {
        if (buf.length === 0) break;
        const take = Math.min(this.left, buf.length);
        out.push(buf.subarray(0, take));
        buf = buf.subarray(take);
        this.left -= take;
        if (this.left === 0) {
          this.crlfDue = true;
          this.left = -1;
        }
        continue;
      }
      const eol = buf.indexOf(CRLF);
      if (eol < 0) {
        if (buf.length > 4096) throw codeError('the daemon sent a malformed chunked body', 'HPE_INVALID_CHUNK_SIZE');
        break;
      }
      const line = buf.subarray(0, eol).toString('latin1');
      buf = buf.subarray(eol + 2);
      if (this.left === -2) {
        // Trailers end with an empty line.
        if (line === '') this.done = true;
        continue;
      }
      const size = hexSize(line.split(';')[0]!.trim());
      if (Number.isNaN(size)) throw codeError('the daemon sent a malformed chunked body', 'HPE_INVALID_CHUNK_SIZE');
      this.left = size === 0 ? -2 : size;
    }
    this.pending = Buffer.from(buf);
    return { out, rest: Buffer.alloc(0) };
  }
}

/** Keeps idle kept-alive connections for the next request, unref'd so they never hold the process. */
export class RawHttpPool {
  private readonly target: RawTarget;
  private readonly idle: Socket[] = [];
  private readonly busy = new Set<Socket>();
  private closed = false;
  private preconnected: PreconnectedSocket | undefined;

  constructor(target: RawTarget, preconnected?: PreconnectedSocket) {
    this.target = target;
    this.preconnected = preconnected;
  }

  /** Destroys every connection, idle or in use. */
  destroy(): void {
    this.closed = true;
    this.preconnected?.socket.destroy();
    this.preconnected = undefined;
    for (const s of [...this.idle, ...this.busy]) s.destroy();
    this.idle.length = 0;
    this.busy.clear();
  }

  request(req: RawRequest): Promise<RawResponse> {
    return this.exchange(req, 'stream') as Promise<RawResponse>;
  }

  /**
   * Like request(), for an answer the caller reads whole: resolves at the body's end, with no
   * stream (a Readable and its events per answer are a measurable part of a short CLI run).
   * A failure before the head rejects as request() does; one after it is the `bodyError`.
   */
  requestBuffered(req: RawRequest): Promise<RawBufferedResponse> {
    return this.exchange(req, 'buffered') as Promise<RawBufferedResponse>;
  }

  /** Sends an `Upgrade: tcp` request: a 101 hands the socket over, any other answer is a normal response. */
  upgrade(req: RawRequest): Promise<RawUpgrade | RawResponse> {
    return this.exchange({ ...req, headers: { ...req.headers, connection: 'Upgrade', upgrade: 'tcp' } }, 'upgrade') as Promise<RawUpgrade | RawResponse>;
  }

  /**
   * The preconnected socket if `bytes` are what was written on it (the first exchange only);
   * a socket that failed or carries another request is closed, and the exchange connects anew.
   */
  private takePreconnected(req: RawRequest, bytes: Buffer): Socket | undefined {
    const pre = this.preconnected;
    if (!pre) return undefined;
    this.preconnected = undefined;
    const s = pre.socket;
    if ('socketPath' in this.target && pre.socketPath === this.target.socketPath && !s.destroyed && pre.written.equals(bytes)) {
      if (s.connecting) {
        s.setTimeout(req.connectTimeoutMs);
        s.once('connect', () => s.setTimeout(req.idleTimeoutMs));
      } else s.setTimeout(req.idleTimeoutMs);
      // Paused by its opener, so that the answer waits in the socket for this exchange.
      s.resume();
      return s;
    }
    s.destroy();
    return undefined;
  }

  /** A kept-alive idle connection, or a new one (always for an upgrade, as docker's client does). */
  private take(req: RawRequest, fresh: boolean): Socket {
    while (!fresh && this.idle.length) {
      const s = this.idle.pop()!;
      if (!s.destroyed && s.readable && s.writable) {
        s.removeAllListeners('close');
        s.removeAllListeners('error');
        s.removeAllListeners('end');
        s.ref();
        s.setTimeout(req.idleTimeoutMs);
        // Paused if the previous response's reader was slow: this exchange reads it again.
        s.resume();
        return s;
      }
    }
    const s = 'socketPath' in this.target ? connect(this.target.socketPath) : connect(this.target.port, this.target.host);
    s.setTimeout(req.connectTimeoutMs);
    s.once('connect', () => s.setTimeout(req.idleTimeoutMs));
    return s;
  }

  private release(s: Socket): void {
    this.busy.delete(s);
    s.setTimeout(0);
    s.removeAllListeners('data');
    s.removeAllListeners('timeout');
    s.removeAllListeners('error');
    s.removeAllListeners('close');
    s.removeAllListeners('end');
    if (this.closed || s.destroyed) {
      s.destroy();
      return;
    }
    // The server may end an idle connection (its keep-alive timeout): forget it then.
    const drop = () => {
      const i = this.idle.indexOf(s);
      if (i >= 0) this.idle.splice(i, 1);
      s.destroy();
    };
    s.once('close', drop);
    s.once('end', drop);
    s.once('error', drop);
    s.unref();
    this.idle.push(s);
  }

  private exchange(req: RawRequest, mode: 'stream' | 'buffered' | 'upgrade'): Promise<RawResponse | RawUpgrade | RawBufferedResponse> {
    const upgrade = mode === 'upgrade';
    return new Promise((resolve, reject) => {
      if (req.signal?.aborted) {
        reject(abortError(req.signal));
        return;
      }
      if (!('socketPath' in this.target)) req.headers['host'] ??= `${this.target.host}:${this.target.port}`;
      const lines = [`${req.method} ${req.path} HTTP/1.1`];
      for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v}`);
      if (req.body) lines.push(`content-length: ${req.body.length}`);
      else if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'DELETE') lines.push('content-length: 0');
      const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
      const bytes = req.body ? Buffer.concat([head, req.body]) : head;
      const preconnected = this.takePreconnected(req, bytes);
      const sock = preconnected ?? this.take(req, upgrade);
      this.busy.add(sock);
      if (!preconnected) sock.write(bytes);

      /** The head has been read (and, streaming, the promise resolved with the body). */
      let settled = false;
      let body: Readable | undefined;
      /** Buffered mode: the head and the body's chunks so far. */
      let buffered: RawBufferedResponse | undefined;
      let headBuf: Buffer = Buffer.alloc(0);
      let framing: { kind: 'length'; left: number } | { kind: 'chunked'; decoder: ChunkedDecoder } | { kind: 'close' } | undefined;
      let reusable = false;
      /** The exchange is over: the body ended, or failed, or its reader destroyed it. */
      let done = false;

      const fail = (err: Error) => {
        done = true;
        cleanup();
        sock.destroy();
        if (!settled) {
          settled = true;
          reject(err);
        } else if (buffered) resolve({ ...buffered, bodyError: err });
        else body?.destroy(err);
      };
      const onAbort = () => fail(abortError(req.signal!));
      req.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        req.signal?.removeEventListener('abort', onAbort);
        sock.off('data', onData);
        sock.off('end', onEnd);
        sock.off('close', onEnd);
        sock.off('error', fail);
        sock.off('timeout', onTimeout);
      };
      const finishBody = () => {
        done = true;
        cleanup();
        if (buffered) resolve(buffered);
        else body!.push(null);
        if (reusable) this.release(sock);
        else {
          this.busy.delete(sock);
          sock.destroy();
        }
      };
      const pushBody = (chunks: Buffer[]) => {
        if (buffered) {
          for (const c of chunks) if (c.length) buffered.chunks.push(c);
          return;
        }
        let more = true;
        for (const c of chunks) if (c.length) more = body!.push(c) && more;
        // The reader is behind: stop reading the socket until it asks for more.
        if (!more) sock.pause();
      };
      const onBody = (data: Buffer) => {
        if (!framing) return;
        if (framing.kind === 'close') pushBody([data]);
        else if (framing.kind === 'length') {
          const take = Math.min(framing.left, data.length);
          pushBody([data.subarray(0, take)]);
          framing.left -= take;
          if (framing.left === 0) finishBody();
        } else {
          const { out } = framing.decoder.feed(data);
          pushBody(out);
          if (framing.decoder.done) finishBody();
        }
      };
      const onData = (data: Buffer) => {
        if (settled) {
          try {
            onBody(data);
          } catch (err) {
            fail(err as Error);
          }
          return;
        }
        headBuf = headBuf.length ? Buffer.concat([headBuf, data]) : data;
        for (;;) {
          const end = headBuf.indexOf(HEAD_END);
          if (end < 0) {
            if (headBuf.length > MAX_HEAD_BYTES) fail(codeError('the daemon sent response headers that are too large', 'HPE_HEADER_OVERFLOW'));
            return;
          }
          let parsed: Head;
          try {
            parsed = parseHead(headBuf.subarray(0, end).toString('latin1'));
          } catch (err) {
            fail(err as Error);
            return;
          }
          const rest = headBuf.subarray(end + 4);
          if (parsed.statusCode === 101 && upgrade) {
            settled = true;
            cleanup();
            this.busy.delete(sock);
            sock.setTimeout(0);
            // As node:http does: out of flowing mode, so what the server sends before the new
            // owner listens (a container's first output) waits in the socket instead of being
            // emitted to no one.
            (sock as { readableFlowing: boolean | null }).readableFlowing = null;
            resolve({ statusCode: 101, headers: parsed.headers, socket: sock, head: Buffer.from(rest) });
            return;
          }
          if (parsed.statusCode >= 100 && parsed.statusCode < 200) {
            // 100 Continue and the like: the real answer follows.
            headBuf = Buffer.from(rest);
            continue;
          }
          settled = true;
          if (mode === 'buffered') buffered = { statusCode: parsed.statusCode, headers: parsed.headers, chunks: [] };
          else body = new Readable({
            read: () => sock.resume(),
            // The reader gave up before the end (a destroyed logs stream): the rest of this
            // answer would go nowhere, so the connection goes, as node:http's would.
            destroy: (err, cb) => {
              if (!done) {
                done = true;
                cleanup();
                this.busy.delete(sock);
                sock.destroy();
              }
              cb(err);
            },
          });
          const te = String(parsed.headers['transfer-encoding'] ?? '').toLowerCase();
          const cl = parsed.headers['content-length'];
          const noBody = req.method === 'HEAD' || parsed.statusCode === 204 || parsed.statusCode === 304;
          if (noBody) framing = { kind: 'length', left: 0 };
          else if (te.includes('chunked')) framing = { kind: 'chunked', decoder: new ChunkedDecoder() };
          else if (typeof cl === 'string' && cl !== '' && Number.isSafeInteger(Number(cl)) && Number(cl) >= 0) framing = { kind: 'length', left: Number(cl) };
          else framing = { kind: 'close' };
          reusable = !parsed.closes && framing.kind !== 'close' && !upgrade;
          if (body) resolve({ statusCode: parsed.statusCode, headers: parsed.headers, body });
          if (framing.kind === 'length' && framing.left === 0) finishBody();
          else if (rest.length) onData(Buffer.from(rest));
          return;
        }
      };
      const onEnd = () => {
        if (settled && framing?.kind === 'close') {
          finishBody();
          return;
        }
        // As node:http words it: the server hung up before the response was complete.
        fail(codeError(settled ? 'aborted' : 'socket hang up', 'ECONNRESET'));
      };
      const onTimeout = () => fail(req.timeoutError());
      sock.on('data', onData);
      sock.once('end', onEnd);
      sock.once('close', onEnd);
      sock.once('error', fail);
      sock.once('timeout', onTimeout);
    });
  }
}
