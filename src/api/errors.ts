// The only place that turns an error kind into an HTTP status (STYLE.md §5).
import type { ServerResponse } from 'node:http';
import { errorKind, errorMessage, type ErrorKind, type Logger } from '../util/index.js';

const STATUS: Record<ErrorKind, number> = {
  'not-found': 404,
  'invalid-argument': 400,
  conflict: 409,
  'not-modified': 304,
  unauthorized: 401,
  forbidden: 403,
  unavailable: 503,
  'not-implemented': 501,
  cancelled: 500,
  internal: 500,
};

export function statusForError(err: unknown): number {
  return STATUS[errorKind(err)];
}

/** Docker's error body; docker-modem and the docker CLI read `message`. */
export function errorBody(message: string): string {
  return JSON.stringify({ message }) + '\n';
}

export interface ErrorReplyContext {
  res: ServerResponse;
  /** True when the client went away: nothing is answered. */
  clientGone: boolean;
  log: Logger;
  method: string;
  path: string;
}

/**
 * Answers a failed request. 5xx is logged at error, 4xx at debug; a request the client
 * cancelled is logged and not answered. Once headers are out the status cannot change:
 * the response is cut short instead (streams write their own in-band error first).
 */
export function replyWithError(c: ErrorReplyContext, err: unknown): void {
  const message = errorMessage(err);
  if (c.clientGone) {
    c.log.debug('request cancelled by client', { method: c.method, path: c.path, error: message });
    if (!c.res.destroyed) c.res.destroy();
    return;
  }
  const status = statusForError(err);
  const fields = { method: c.method, path: c.path, status, error: message };
  if (status >= 500) c.log.error('request failed', fields);
  else c.log.debug('request failed', fields);
  if (c.res.headersSent) {
    // The status line is gone already; ending abruptly tells the client the reply is incomplete.
    if (!c.res.destroyed) c.res.destroy();
    return;
  }
  if (status === 304) {
    c.res.writeHead(304);
    c.res.end();
    return;
  }
  const body = errorBody(message);
  c.res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  c.res.end(body);
}

/** Unknown route: dockerd's exact answer. */
export function replyNotFound(res: ServerResponse): void {
  const body = errorBody('page not found');
  res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
