import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { logger } from '../util/index.js';
import { Router } from './router.js';
import { ApiServer } from './server.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('a request whose client went away is not kept alive by a waiter that still holds its abort reason', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-api-server-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Like a running container's next exit: settles long after the request is gone.
  let settleExit: (v: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => {
    settleExit = resolve;
  });
  let response: WeakRef<object> | undefined;
  let started: () => void = () => undefined;
  const handlerStarted = new Promise<void>((resolve) => {
    started = resolve;
  });
  let finished: () => void = () => undefined;
  const handlerDone = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const router = new Router([
    {
      method: 'POST',
      path: '/containers/{id}/wait',
      handler: async (ctx) => {
        response = new WeakRef(ctx.res);
        const aborted = new Promise<never>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
        started();
        // The race's reactions stay on `exit` (and hold the rejected race) until it settles.
        await Promise.race([exit, aborted]).catch(() => undefined);
        finished();
      },
    },
  ]);
  const server = new ApiServer({ router, log: logger('test'), serverVersion: 'test' });
  const socketPath = join(dir, 'api.sock');
  await server.listen(`unix://${socketPath}`);
  t.after(() => server.close());

  const req = request({ socketPath, method: 'POST', path: '/containers/x/wait' });
  req.on('error', () => undefined);
  req.end();
  await handlerStarted;
  req.destroy();
  await handlerDone;
  for (let i = 0; i < 5 && response?.deref() !== undefined; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  assert.equal(response?.deref(), undefined, 'the ServerResponse is still reachable');
  settleExit(0);
});
