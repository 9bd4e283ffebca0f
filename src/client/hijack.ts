// The Engine API's hijacked connections (attach, exec start): an HTTP request with
// `Upgrade: tcp` answered by `101 Switching Protocols`, after which the socket carries the
// container's stdio both ways. undici cannot send a body with an upgrade, so this one
// request goes through node:http. A non-101 answer is read as a normal API error.
import { request, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { DaemonUnreachableError, EngineApiError, NO_SERVERNAME, encodeQuery, type QueryValue } from './engine-client.js';
import { parseHost } from './host.js';

const MAX_ERROR_BODY = 64 * 1024;
const CONNECT_TIMEOUT_MS = 5_000;

export interface HijackedConnection {
  socket: Duplex;
  /** Bytes the server sent after the 101 headers in the same packet (often stream data). */
  head: Buffer;
  headers: IncomingMessage['headers'];
}

async function readError(res: IncomingMessage): Promise<EngineApiError> {
  let text = '';
  for await (const c of res) {
    if (text.length < MAX_ERROR_BODY) text += String(c);
  }
  let message = text.trim() || `the daemon answered status ${res.statusCode}`;
  try {
    const v = JSON.parse(text) as { message?: unknown };
    if (typeof v.message === 'string') message = v.message;
  } catch {
    // Not JSON: the text itself is the best message there is.
  }
  return new EngineApiError(res.statusCode ?? 500, message);
}

/** Opens a hijacked connection; `path` is already versioned (`/v1.51/containers/x/attach`). */
export function hijack(
  host: string,
  method: string,
  path: string,
  opts: { query?: Record<string, QueryValue>; body?: unknown; signal?: AbortSignal } = {},
): Promise<HijackedConnection> {
  const ep = parseHost(host);
  const target = ep.kind === 'unix' ? { socketPath: ep.socketPath } : { host: new URL(ep.origin).hostname, port: Number(new URL(ep.origin).port) };
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = request({
      ...target,
      ...NO_SERVERNAME,
      method,
      path: path + encodeQuery(opts.query),
      signal: opts.signal,
      timeout: CONNECT_TIMEOUT_MS,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'tcp',
        ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
      },
    });
    req.once('upgrade', (res, socket, head) => {
      // Past the handshake the connection may idle for as long as the container does.
      socket.setTimeout(0);
      resolve({ socket, head, headers: res.headers });
    });
    req.once('response', (res) => {
      readError(res).then(reject, reject);
    });
    req.once('timeout', () => req.destroy(new Error(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`)));
    req.once('error', (err: NodeJS.ErrnoException) => {
      reject(['ECONNREFUSED', 'ENOENT'].includes(err.code ?? '') ? new DaemonUnreachableError(host, err) : err);
    });
    req.end(payload);
  });
}
