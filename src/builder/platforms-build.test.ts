import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError, SourceError, errorKind, type Digest } from '../util/index.js';
import { buildPlatforms, platformError, type PlatformBuildHooks } from './platforms-build.js';
import type { BuildEvent, BuildOptions } from './types.js';

const base: BuildOptions = {
  dockerfile: 'Dockerfile', tags: ['app:1'], buildArgs: {}, labels: {}, noCache: false, pull: false, cacheFrom: [],
  network: 'default', secrets: [], extraHosts: [],
};
const id = (s: string) => `sha256:${s.padEnd(64, '0')}` as Digest;

function fakeHooks(fail?: string) {
  const calls = { ran: [] as string[], tagged: [] as Array<[string, string]>, index: [] as Array<[Digest[], string[]]>, released: 0, cancelled: [] as string[] };
  const hooks: PlatformBuildHooks = {
    runOne: async (opts, onEvent, signal) => {
      const p = opts.platform ?? 'host';
      calls.ran.push(p);
      onEvent({ type: 'step-start', ref: { step: 1, total: 1, stage: 1, stageCount: 1, text: 'RUN uname -m', line: 2 } });
      if (p === fail) throw new Error(`boom on ${p}`);
      if (fail) {
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        calls.cancelled.push(p);
        throw new Error(`cancelled ${p}`);
      }
      return { imageId: id(p === 'linux/arm64' ? 'b' : 'a'), cached: 1, executed: 2, release: () => void calls.released++ };
    },
    flush: async () => undefined,
    images: {
      tag: async (src, t) => void calls.tagged.push([src, t!]),
      createIndex: async (ids, tags) => {
        calls.index.push([ids, tags]);
        return id('c');
      },
    },
  };
  return { hooks, calls };
}

test('a platform list builds each platform and stores one index under the tags', async () => {
  const { hooks, calls } = fakeHooks();
  const events: BuildEvent[] = [];
  const r = await buildPlatforms({ ...base, platform: 'linux/amd64,linux/arm64' }, { signal: new AbortController().signal, onEvent: (e) => events.push(e) }, hooks);
  assert.deepEqual(calls.ran, ['linux/amd64', 'linux/arm64']);
  assert.deepEqual(calls.index, [[[id('a'), id('b')], ['app:1']]]);
  assert.deepEqual(calls.tagged, []);
  assert.equal(r.imageId, id('c'));
  assert.equal(r.executed, 4);
  assert.equal(calls.released, 2);
  assert.deepEqual(events.map((e) => ('ref' in e ? e.ref.text : '')).sort(), ['[linux/amd64] RUN uname -m', '[linux/arm64] RUN uname -m']);
});

test('one platform (or none) is tagged directly, without an index', async () => {
  const { hooks, calls } = fakeHooks();
  await buildPlatforms({ ...base, platform: 'linux/arm64' }, { signal: new AbortController().signal, onEvent: () => undefined }, hooks);
  await buildPlatforms(base, { signal: new AbortController().signal, onEvent: () => undefined }, hooks);
  assert.deepEqual(calls.ran, ['linux/arm64', 'host']);
  assert.deepEqual(calls.tagged, [[id('b'), 'app:1'], [id('a'), 'app:1']]);
  assert.deepEqual(calls.index, []);
});

test('the first failing platform is reported, the others are cancelled and nothing is tagged', async () => {
  const { hooks, calls } = fakeHooks('linux/arm64');
  await assert.rejects(
    buildPlatforms({ ...base, platform: 'linux/amd64,linux/arm64' }, { signal: new AbortController().signal, onEvent: () => undefined }, hooks),
    /boom on linux\/arm64/,
  );
  assert.deepEqual(calls.cancelled, ['linux/amd64']);
  assert.deepEqual(calls.index, []);
});

test('a failing platform is named in the one-line error with its step, as BuildKit does', async () => {
  const ref = { step: 2, total: 3, stage: 1, stageCount: 1, text: 'RUN false', line: 2 };
  const hooks: PlatformBuildHooks = {
    runOne: async (opts, onEvent) => {
      if (opts.platform !== 'linux/arm64') return { imageId: id('a'), cached: 0, executed: 1, release: () => undefined };
      const detail = 'RUN false: process "/bin/sh -c false" did not complete successfully: exit code: 1';
      onEvent({ type: 'step-error', ref, message: `Dockerfile:2: ${detail}` });
      throw new SourceError('Dockerfile', 2, detail);
    },
    flush: async () => undefined,
    images: { tag: async () => undefined, createIndex: async () => id('c') },
  };
  await assert.rejects(buildPlatforms({ ...base, platform: 'linux/amd64,linux/arm64' }, { signal: new AbortController().signal, onEvent: () => undefined }, hooks), (err: Error) => {
    assert.equal(err.message, '[linux/arm64 2/3] RUN false: process "/bin/sh -c false" did not complete successfully: exit code: 1');
    assert.equal(errorKind(err), 'invalid-argument', 'the kind of the step error is kept');
    return true;
  });
});

test('a platform error names the stage, and strips file:line from step errors that are not source errors', () => {
  const ref = { step: 4, total: 6, stage: 2, stageCount: 2, stageName: 'build', text: 'COPY a b', line: 5 };
  const err = platformError(new BerthError('not-found', 'Dockerfile:5: COPY a b: a: no such file'), { os: 'linux', architecture: 'arm', variant: 'v7' }, ref) as Error;
  assert.equal(err.message, '[linux/arm/v7 build 4/6] COPY a b: a: no such file');
  assert.equal(errorKind(err), 'not-found');
  const early = platformError(new Error('base image missing'), { os: 'linux', architecture: 'arm64' }, undefined) as Error;
  assert.equal(early.message, '[linux/arm64] base image missing');
  const cancelled = new BerthError('cancelled', 'build cancelled');
  assert.equal(platformError(cancelled, { os: 'linux', architecture: 'arm64' }, ref), cancelled);
});

test('the step of a platform cancelled because another failed says CANCELED and names the failed platform', async () => {
  const ref = { step: 3, total: 3, stage: 1, stageCount: 1, text: 'RUN x', line: 3 };
  const hooks: PlatformBuildHooks = {
    runOne: async (opts, onEvent, signal) => {
      if (opts.platform === 'linux/arm64') {
        onEvent({ type: 'step-error', ref, message: 'Dockerfile:3: RUN x: exit code: 1' });
        throw new SourceError('Dockerfile', 3, 'RUN x: exit code: 1');
      }
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      onEvent({ type: 'step-error', ref, message: 'Dockerfile:3: RUN x: The operation was aborted' });
      throw new BerthError('cancelled', 'The operation was aborted');
    },
    flush: async () => undefined,
    images: { tag: async () => undefined, createIndex: async () => id('c') },
  };
  const errors: string[] = [];
  const onEvent = (e: BuildEvent) => void (e.type === 'step-error' && errors.push(`${e.ref.text} | ${e.message}`));
  await assert.rejects(buildPlatforms({ ...base, platform: 'linux/amd64,linux/arm64' }, { signal: new AbortController().signal, onEvent }, hooks), /^BerthError: \[linux\/arm64 3\/3\] RUN x: exit code: 1$/);
  assert.deepEqual(errors.sort(), ['[linux/amd64] RUN x | CANCELED: linux/arm64 failed', '[linux/arm64] RUN x | Dockerfile:3: RUN x: exit code: 1']);
});
