// One request as a handler sees it: parsed params and query, a size-capped JSON body
// reader, reply helpers and the stream starters. Handlers never pick status codes for
// errors; they throw BerthErrors and api/errors.ts answers (STYLE.md §5).
import { Duplex, type Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodType } from 'zod';
import { BerthError, type Logger } from '../util/index.js';
import { Filters } from './filters.js';
import {
  JsonLineWriter,
  hijackResponseHead,
  stdioWriter,
  streamContentType,
  type HijackedConnection,
  type StdioWriter,
} from './streams.js';

/** Default cap for JSON request bodies (container create configs stay far below it). */
export const DEFAULT_JSON_BODY_LIMIT = 4 * 1024 * 1024;

export interface RequestContextInit {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  apiVersion: string;
  signal: AbortSignal;
  log: Logger;
  /** Headers every response carries (Server, API-Version, OSType, …). */
  commonHeaders: Record<string, string>;
  /** Present when the client sent `Upgrade: tcp` (the connection left HTTP parsing). */
  upgradeSocket?: Duplex;
  /** Bytes the client sent after the upgrade request's body (the start of stdin). */
  upgradeHead?: Buffer;
  /** The request body of an upgrade request (node does not parse it; see upgradeRequestBody). */
  upgradeBody?: Readable;
}

export class RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly apiVersion: string;
  /** Aborts when the client disconnects or the daemon shuts down. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  private readonly commonHeaders: Record<string, string>;
  private readonly upgradeSocket: Duplex | undefined;
  private readonly upgradeHead: Buffer | undefined;
  private readonly upgradeBody: Readable | undefined;
  private hijackedConn: Duplex | undefined;

  constructor(init: RequestContextInit) {
    this.req = init.req;
    this.res = init.res;
    this.params = init.params;
    this.query = init.query;
    this.apiVersion = init.apiVersion;
    this.signal = init.signal;
    this.log = init.log;
    this.commonHeaders = init.commonHeaders;
    this.upgradeSocket = init.upgradeSocket;
    this.upgradeHead = init.upgradeHead;
    this.upgradeBody = init.upgradeBody;
  }

  /** The raw request body (tar uploads). */
  get body(): Readable {
    return this.upgradeBody ?? this.req;
  }

  get isHijacked(): boolean {
    return this.hijackedConn !== undefined;
  }

  /** A path parameter; routes only declare parameters they have, so absence is a bug. */
  param(name: string): string {
    const v = this.params[name];
    if (v === undefined) throw new BerthError('internal', `route has no parameter "${name}"`);
    return v;
  }

  queryString(name: string): string | undefined {
    return this.query.get(name) ?? undefined;
  }

  /** Docker's BoolValue: absent: default; "", 0, no, false, none: false; anything else true. */
  queryBool(name: string, defaultValue = false): boolean {
    const raw = this.query.get(name);
    if (raw === null) return defaultValue;
    const s = raw.trim().toLowerCase();
    return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
  }

  /** An integer parameter; a malformed value is a 400 naming the parameter. */
  queryInt(name: string): number | undefined;
  queryInt(name: string, defaultValue: number): number;
  queryInt(name: string, defaultValue?: number): number | undefined {
    const raw = this.query.get(name);
    if (raw === null || raw.trim() === '') return defaultValue;
    if (!/^[+-]?\d+$/.test(raw.trim())) {
      throw new BerthError('invalid-argument', `invalid value for "${name}": "${raw}" is not an integer`);
    }
    return Number.parseInt(raw, 10);
  }

  /** A JSON-valued parameter validated with zod; undefined when absent. */
  queryJson<T>(name: string, schema: ZodType<T>): T | undefined {
    const raw = this.query.get(name);
    if (raw === null || raw === '') return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw new BerthError('invalid-argument', `invalid value for "${name}": not JSON`, { cause: err });
    }
    const r = schema.safeParse(parsed);
    if (!r.success) throw new BerthError('invalid-argument', `invalid value for "${name}": ${describeIssues(r.error.issues)}`);
    return r.data;
  }

  /** The `filters` parameter in either of Docker's two JSON forms. */
  queryFilters(name = 'filters'): Filters {
    return Filters.parse(this.query.get(name));
  }

  /**
   * Reads the body as JSON (at most `maxBytes`) and validates it. An empty body is
   * validated as `undefined`, so a schema decides whether a body is optional.
   */
  async readJson<T>(schema: ZodType<T>, maxBytes = DEFAULT_JSON_BODY_LIMIT): Promise<T> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        throw new BerthError('invalid-argument', `request body is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown;
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new BerthError('invalid-argument', `invalid JSON in request body: ${(err as Error).message}`, { cause: err });
      }
    }
    const r = schema.safeParse(parsed);
    if (!r.success) throw new BerthError('invalid-argument', `invalid request body: ${describeIssues(r.error.issues)}`);
    return r.data;
  }

  sendJson(status: number, value: unknown): void {
    const body = JSON.stringify(value) + '\n';
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    this.res.end(body);
  }

  sendText(status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
    this.res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
    this.res.end(text);
  }

  sendNoContent(): void {
    this.res.writeHead(204);
    this.res.end();
  }

  /** Starts a 200 `application/json` progress/event stream of one object per line. */
  startJsonStream(): JsonLineWriter {
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
    this.res.flushHeaders();
    return new JsonLineWriter(this.res);
  }

  /**
   * Starts a 200 byte stream (e.g. `GET /containers/{id}/logs`, `docker save`):
   * multiplexed frames for non-TTY output, raw bytes for TTY.
   */
  startOutputStream(opts: { tty: boolean }): StdioWriter {
    this.res.writeHead(200, { 'Content-Type': streamContentType(this.apiVersion, !opts.tty) });
    this.res.flushHeaders();
    return stdioWriter(this.res, { multiplexed: !opts.tty });
  }

  /** Starts a 200 binary download (`application/x-tar` for save/export/archive). */
  startDownload(contentType = 'application/x-tar', headers: Record<string, string> = {}): ServerResponse {
    this.res.writeHead(200, { 'Content-Type': contentType, ...headers });
    return this.res;
  }

  /**
   * Takes over the connection for attach/exec: `101 UPGRADED` + `Upgrade: tcp` when the
   * client asked for an upgrade, else 200 with the raw connection; stdin is read from
   * `conn`, output goes through `output` (framed unless `tty`).
   */
  hijack(opts: { tty: boolean }): HijackedConnection {
    if (this.hijackedConn) throw new BerthError('internal', 'connection already hijacked');
    const contentType = streamContentType(this.apiVersion, !opts.tty);
    let conn: Duplex;
    if (this.upgradeSocket) {
      conn = this.upgradeSocket;
      conn.write(hijackResponseHead({ upgrade: true, contentType, extraHeaders: this.commonHeaders }));
      if (this.upgradeHead && this.upgradeHead.length > 0) conn.unshift(this.upgradeHead);
    } else {
      // Without an upgrade the reply is an unframed body that ends with the connection.
      this.res.useChunkedEncodingByDefault = false;
      this.res.shouldKeepAlive = false;
      this.res.writeHead(200, { 'Content-Type': contentType, Connection: 'close' });
      this.res.flushHeaders();
      conn = Duplex.from({ readable: this.req, writable: this.res });
    }
    this.hijackedConn = conn;
    const output = stdioWriter(conn, { multiplexed: !opts.tty });
    return {
      conn,
      output,
      close: () => {
        if (!conn.destroyed && !conn.writableEnded) conn.end();
      },
    };
  }

  /** Ends a hijacked connection after writing an error as plain text (STYLE.md section 5). */
  failHijacked(message: string): void {
    const conn = this.hijackedConn;
    if (!conn || conn.destroyed) return;
    conn.end(message.endsWith('\n') ? message : message + '\n');
  }
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}
