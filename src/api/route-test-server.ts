// Support for table-driven route tests (STYLE.md §10): an ApiServer over the given routes on a
// temp unix socket, and a JSON caller. Imported only by tests.
import { request } from 'node:http';
import { join } from 'node:path';
import { logger } from '../util/index.js';
import { Router, type Route } from './router.js';
import { ApiServer } from './server.js';

export interface JsonReply {
  status: number;
  // Replies are checked field by field against Docker's wire shapes in the tests.
  body: any;
}

export interface RouteTestServer {
  call(method: string, path: string, body?: unknown): Promise<JsonReply>;
  close(): Promise<void>;
}

export async function startRouteTestServer(routes: Route[], dir: string): Promise<RouteTestServer> {
  const server = new ApiServer({ router: new Router(routes), log: logger('test'), serverVersion: 'test' });
  const socketPath = join(dir, 'api.sock');
  await server.listen(`unix://${socketPath}`);
  return {
    call: (method, path, body) =>
      new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const headers = data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {};
        const req = request({ socketPath, method, path, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body: text.trim() ? JSON.parse(text) : undefined });
          });
        });
        req.on('error', reject);
        req.end(data);
      }),
    close: () => server.close(),
  };
}
