// The Engine API HTTP server: node:http on a unix socket (mode 0660) and optionally on
// loopback TCP; version prefixes, routing, error replies, hijacked connections and a
// graceful close that ends long-lived streams.
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { chmod, chown, lstat, readFile, unlink } from 'node:fs/promises';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import { BerthError, errorMessage, type Logger } from '../util/index.js';
import { RequestContext } from './context.js';
import { replyNotFound, replyWithError } from './errors.js';
import { MAX_API_VERSION } from './api-version.js';
import { resolveApiPath, type Router } from './router.js';

export interface ApiServerOptions {
  router: Router;
  log: Logger;
  /** berth's version, for the `Server` header. */
  serverVersion: string;
}

export type ListenAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** `unix:///run/berth/berth.sock` or `tcp://127.0.0.1:2375`. */
export function parseListenAddress(host: string): ListenAddress {
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    if (!path.startsWith('/')) throw new BerthError('invalid-argument', `invalid host "${host}": expected unix:///absolute/path`);
    return { kind: 'unix', path };
  }
  if (host.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(host);
    } catch (err) {
      throw new BerthError('invalid-argument', `invalid host "${host}": not a URL`, { cause: err });
    }
    const port = url.port === '' ? 2375 : Number(url.port);
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    return { kind: 'tcp', host: hostname || '127.0.0.1', port };
  }
  throw new BerthError('invalid-argument', `invalid host "${host}": expected unix:// or tcp://`);
}

const SOCKET_GROUP = 'berth';

/** The gid of a group in /etc/group, if it exists. */
async function groupId(name: string): Promise<number | undefined> {
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** Refuses a socket path that a live process listens on; removes a stale one. */
async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new BerthError('conflict', `cannot listen on "${path}": a file that is not a socket is in the way`);
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new BerthError('conflict', `cannot listen on "${path}": another daemon is listening on it`);
  await unlink(path);
}

export class ApiServer {
  private readonly servers: Server[] = [];
  private readonly active = new Set<AbortController>();
  private readonly upgraded = new Set<Duplex>();
  private nextRequestId = 1;
  private closing = false;
  private readonly commonHeaders: Record<string, string>;

  constructor(private readonly opts: ApiServerOptions) {
    this.commonHeaders = {
      Server: `berth/${opts.serverVersion} (linux)`,
      'API-Version': MAX_API_VERSION,
      'Docker-Experimental': 'false',
      OSType: 'linux',
    };
  }

  /** Starts listening; returns the bound address (`tcp://127.0.0.1:port` shows the real port). */
  async listen(host: string): Promise<string> {
    const addr = parseListenAddress(host);
    // X-Registry-Auth / X-Registry-Config headers can outgrow node's 16 KiB default.
    const server = createServer({ keepAlive: true, requestTimeout: 0, headersTimeout: 60_000, maxHeaderSize: 256 * 1024 });
    // Long uploads (image load, build context) and streams must not be cut by idle timers.
    server.timeout = 0;
    server.keepAliveTimeout = 5_000;
    server.on('request', (req, res) => void this.dispatch(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const { body, rest } = upgradeRequestBody(req, socket, head);
      const res = new ServerResponse(req);
      res.assignSocket(socket as Socket);
      res.shouldKeepAlive = false;
      res.on('finish', () => {
        res.detachSocket(socket as Socket);
        socket.end();
      });
      this.upgraded.add(socket);
      socket.on('close', () => this.upgraded.delete(socket));
      socket.on('error', (err) => this.opts.log.debug('upgraded connection error', { error: err.message }));
      void this.dispatch(req, res, { socket, head: rest, body });
    });
    server.on('clientError', (err, socket) => {
      this.opts.log.debug('malformed request', { error: err.message });
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    if (addr.kind === 'unix') {
      await clearStaleSocket(addr.path);
      // Bind with a umask that leaves the socket 0660 from the first moment.
      const oldMask = process.umask(0o117);
      try {
        await listenOn(server, { path: addr.path });
      } finally {
        process.umask(oldMask);
      }
      await chmod(addr.path, 0o660);
      const gid = process.getuid?.() === 0 ? await groupId(SOCKET_GROUP) : undefined;
      // Like dockerd's `docker` group: members of `berth` may use the socket without root.
      if (gid !== undefined) await chown(addr.path, 0, gid);
      this.servers.push(server);
      return `unix://${addr.path}`;
    }
    await listenOn(server, { host: addr.host, port: addr.port });
    this.servers.push(server);
    const bound = server.address();
    const port = bound && typeof bound === 'object' ? bound.port : addr.port;
    return `tcp://${addr.host}:${port}`;
  }

  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    upgrade?: { socket: Duplex; head: Buffer; body: Readable },
  ) {
    const upgradeSocket = upgrade?.socket;
    const started = process.hrtime.bigint();
    const requestId = this.nextRequestId++;
    const log = this.opts.log.child({ requestId });
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    for (const [k, v] of Object.entries(this.commonHeaders)) res.setHeader(k, v);
    const ac = new AbortController();
    const onGone = () => {
      if (!res.writableFinished) ac.abort(clientGoneError());
    };
    if (upgradeSocket) upgradeSocket.once('close', onGone);
    else res.once('close', onGone);
    res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.debug('request', { method, url: redactUrl(rawUrl), status: res.statusCode, ms: Math.round(ms * 10) / 10 });
    });

    let url: URL;
    try {
      url = new URL(rawUrl, 'http://berth');
    } catch {
      replyNotFound(res);
      return;
    }
    const resolved = resolveApiPath(url.pathname);
    if (resolved.kind === 'bad-version') {
      replyWithError({ res, clientGone: false, log, method, path: url.pathname }, resolved.error);
      return;
    }
    let match: Awaited<ReturnType<Router['resolve']>>;
    try {
      match = await this.opts.router.resolve(method, resolved.path);
    } catch (err) {
      req.resume();
      replyWithError({ res, clientGone: false, log, method, path: url.pathname }, err);
      return;
    }
    if (!match) {
      log.debug('no route', { method, path: url.pathname });
      req.resume();
      replyNotFound(res);
      return;
    }
    if (this.closing) {
      replyWithError({ res, clientGone: false, log, method, path: url.pathname }, new BerthError('unavailable', 'daemon is shutting down'));
      return;
    }
    const ctx = new RequestContext({
      req,
      res,
      params: match.params,
      query: url.searchParams,
      apiVersion: resolved.apiVersion,
      signal: ac.signal,
      log,
      // Like dockerd, API-Version always names the newest version (clients negotiate from it).
      commonHeaders: this.commonHeaders,
      upgradeSocket,
      upgradeHead: upgrade?.head,
      upgradeBody: upgrade?.body,
    });
    this.active.add(ac);
    try {
      await match.route.handler(ctx);
      if (ctx.isHijacked) return;
      if (!res.headersSent) {
        throw new BerthError('internal', `handler for ${method} ${match.route.path} sent no reply`);
      }
      if (!res.writableEnded) res.end();
    } catch (err) {
      if (ctx.isHijacked) {
        if (!ac.signal.aborted) log.error('hijacked request failed', { method, path: url.pathname, error: errorMessage(err) });
        ctx.failHijacked(`Error: ${errorMessage(err)}`);
        return;
      }
      replyWithError({ res, clientGone: ac.signal.aborted && !this.closing, log, method, path: url.pathname }, err);
    } finally {
      this.active.delete(ac);
    }
  }

  /**
   * Stops accepting connections, aborts long-lived requests (event streams, follows),
   * lets in-flight requests finish for up to `graceMs`, then drops what is left.
   */
  async close(graceMs = 2_000): Promise<void> {
    this.closing = true;
    const closed = Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const ac of this.active) ac.abort(new BerthError('unavailable', 'daemon is shutting down'));
    for (const s of this.servers) s.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([closed, timedOut]);
    clearTimeout(timer);
    for (const s of this.servers) s.closeAllConnections();
    for (const sock of this.upgraded) sock.destroy();
    await closed;
  }
}

/**
 * Node hands an upgrade request over with its body unparsed: the first bytes after the
 * headers are in `head`, the rest still on the socket. `docker exec` sends its JSON body
 * this way, and stdin follows it on the same connection, so exactly Content-Length bytes
 * become the body and whatever follows stays for the hijacked stream. (Clients send these
 * bodies with a Content-Length; a chunked one is not supported and reads as empty.)
 */
function upgradeRequestBody(req: IncomingMessage, socket: Duplex, head: Buffer): { body: Readable; rest: Buffer } {
  const length = Number.parseInt(String(req.headers['content-length'] ?? '0'), 10) || 0;
  const body = new PassThrough();
  if (head.length >= length) {
    body.end(head.subarray(0, length));
    return { body, rest: head.subarray(length) };
  }
  body.write(head);
  let missing = length - head.length;
  // Paused-mode reads: once the 'readable' listener goes, the socket is back in its fresh
  // state (neither flowing nor explicitly paused), so the hijacking handler can read it with
  // 'data', pipe or async iteration, and no stdin byte is lost in between.
  const onReadable = () => {
    let chunk: Buffer | null;
    while (missing > 0 && (chunk = socket.read() as Buffer | null) !== null) {
      const take = Math.min(missing, chunk.length);
      body.write(chunk.subarray(0, take));
      missing -= take;
      if (take < chunk.length) socket.unshift(chunk.subarray(take));
    }
    if (missing > 0) return;
    socket.off('readable', onReadable);
    socket.off('close', onClose);
    body.end();
  };
  const onClose = () => body.destroy(new BerthError('invalid-argument', 'connection closed before the request body was complete'));
  socket.on('readable', onReadable);
  socket.once('close', onClose);
  return { body, rest: Buffer.alloc(0) };
}

/**
 * The abort reason of a request whose client went away. Its stack is formatted at once: until
 * then V8 keeps each frame's receiver, here the ServerResponse (and through it the request,
 * socket and parser), and the reason outlives the request wherever something still holds it
 * (a promise that rejected with it and is kept, a waiter of a container that runs for days).
 */
function clientGoneError(): BerthError {
  const err = new BerthError('cancelled', 'client disconnected');
  void err.stack;
  return err;
}

function listenOn(server: Server, opts: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new BerthError('unavailable', `cannot listen: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(opts, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Query values may carry credentials (e.g. registry auth in old clients): log only keys. */
function redactUrl(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  if (q < 0) return rawUrl;
  const keys = [...new URLSearchParams(rawUrl.slice(q + 1)).keys()];
  return `${rawUrl.slice(0, q)}?${keys.join('&')}`;
}
