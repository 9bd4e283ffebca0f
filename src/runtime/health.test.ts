import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextHealth, probeConfigOf } from './health.js';
import { defaultContainerSpec } from './container-spec.js';
import type { ContainerConfigFile } from './container-store.js';

const entry = (exitCode: number) => ({ start: 's', end: 'e', exitCode, output: '' });

test('a failing probe makes the container unhealthy only after `retries` failures in a row', () => {
  let h = { status: 'starting' as 'starting' | 'healthy' | 'unhealthy', failingStreak: 0, log: [] as ReturnType<typeof entry>[] };
  h = nextHealth(h, entry(0), { retries: 2, inStartPeriod: false });
  assert.deepEqual([h.status, h.failingStreak], ['healthy', 0]);
  h = nextHealth(h, entry(1), { retries: 2, inStartPeriod: false });
  assert.deepEqual([h.status, h.failingStreak], ['healthy', 1]);
  h = nextHealth(h, entry(1), { retries: 2, inStartPeriod: false });
  assert.deepEqual([h.status, h.failingStreak], ['unhealthy', 2]);
  for (let i = 0; i < 5; i++) h = nextHealth(h, entry(0), { retries: 2, inStartPeriod: false });
  assert.equal(h.log.length, 5);
  assert.equal(h.status, 'healthy');
});

test('failures during the start period do not count while still starting', () => {
  const h = nextHealth({ status: 'starting', failingStreak: 0, log: [] }, entry(1), { retries: 1, inStartPeriod: true });
  assert.deepEqual([h.status, h.failingStreak], ['starting', 0]);
});

test('--health-cmd overrides the image HEALTHCHECK; NONE disables it; CMD-SHELL runs through sh', () => {
  const spec = defaultContainerSpec('x');
  const config = { spec, image: { id: 'i', ref: 'x', config: { Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 2e9, Retries: 4 } } } } as unknown as ContainerConfigFile;
  assert.deepEqual(probeConfigOf({ config })?.argv, ['/bin/sh', '-c', 'true']);
  assert.equal(probeConfigOf({ config })?.intervalMs, 2000);
  assert.equal(probeConfigOf({ config })?.retries, 4);
  spec.healthcheck = { test: ['CMD', 'ls', '/'], intervalNs: 1e9 };
  assert.deepEqual(probeConfigOf({ config })?.argv, ['ls', '/']);
  assert.equal(probeConfigOf({ config })?.intervalMs, 1000);
  spec.healthcheck = { test: ['NONE'] };
  assert.equal(probeConfigOf({ config }), undefined);
});
