import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StepRef } from '../../builder/index.js';
import { logger } from '../../util/index.js';
import { RequestContext } from '../context.js';
import { buildOptionsFrom, legacyLines, toWireBuildCache } from './build.js';

const ref: StepRef = { step: 3, total: 7, stage: 1, stageCount: 1, text: 'COPY src/ ./src/', line: 3 };

test('legacyLines writes the docker build stream as the legacy builder does', () => {
  assert.deepEqual(legacyLines({ type: 'step-start', ref }), [{ stream: 'Step 3/7 : COPY src/ ./src/\n' }]);
  assert.deepEqual(legacyLines({ type: 'step-cached', ref, imageId: 'sha256:0123456789abcdef' as never }), [{ stream: ' ---> Using cache\n' }]);
  assert.deepEqual(legacyLines({ type: 'step-done', ref, imageId: 'sha256:0123456789abcdef' as never, cached: true, durationMs: 1 }), [{ stream: ' ---> 0123456789ab\n' }]);
  assert.deepEqual(legacyLines({ type: 'step-miss', ref, reason: 'file changed: "a"' }), [{ stream: ' ---> Cache miss: file changed: "a"\n' }]);
  assert.deepEqual(legacyLines({ type: 'warning', message: 'One or more build-args [X] were not consumed' }), [{ stream: '[Warning] One or more build-args [X] were not consumed\n' }]);
  assert.deepEqual(legacyLines({ type: 'step-error', ref, message: 'x' }), []);
});

test('toWireBuildCache spells a cache entry as system df does', () => {
  const w = toWireBuildCache({ key: 'sha256:' + 'a'.repeat(64), parentKey: 'image:sha256:b', description: 'RUN make', size: 10, createdAt: 't0', lastUsedAt: 't1', usageCount: 2 });
  assert.equal(w.ID, 'a'.repeat(25));
  assert.equal(w.Type, 'regular');
  assert.equal(w.Size, 10);
  assert.equal(w.UsageCount, 2);
  assert.equal(w.InUse, false);
});

function contextOver(remoteAddress: string | undefined, query: string): RequestContext {
  const req = { socket: { remoteAddress } } as unknown as IncomingMessage;
  return new RequestContext({
    req,
    res: {} as ServerResponse,
    params: {},
    query: new URLSearchParams(query),
    apiVersion: '1.51',
    signal: new AbortController().signal,
    log: logger('test'),
    commonHeaders: {},
  });
}

test('buildOptionsFrom reads a context directory and secrets only from unix-socket clients', () => {
  const local = buildOptionsFrom(contextOver(undefined, 'berthcontext=/srv/app'));
  assert.equal(local.localContext, '/srv/app');
  assert.throws(() => buildOptionsFrom(contextOver('127.0.0.1', 'berthcontext=/srv/app')), /only over the unix socket/);
  const secrets = encodeURIComponent(JSON.stringify([{ id: 'tok', src: '/etc/shadow' }]));
  assert.throws(() => buildOptionsFrom(contextOver('127.0.0.1', `berthsecrets=${secrets}`)), /only over the unix socket/);
  assert.equal(buildOptionsFrom(contextOver('127.0.0.1', 't=app')).localContext, undefined);
});
