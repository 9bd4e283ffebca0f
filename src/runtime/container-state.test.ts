import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canTransition, checkTransition, humanDuration, humanStatus } from './container-state.js';

const ID = 'a'.repeat(64);

test('starting a running container is not-modified and removing a running one is a conflict naming the state', () => {
  assert.throws(() => checkTransition(ID, 'running', 'start'), (e: Error & { kind?: string }) => e.kind === 'not-modified');
  assert.throws(() => checkTransition(ID, 'exited', 'stop'), (e: Error & { kind?: string }) => e.kind === 'not-modified');
  assert.throws(
    () => checkTransition(ID, 'running', 'remove'),
    (e: Error & { kind?: string }) => e.kind === 'conflict' && /container is running: stop the container before removing or force remove/.test(e.message),
  );
  assert.throws(() => checkTransition(ID, 'exited', 'kill'), /is not running/);
  assert.throws(() => checkTransition(ID, 'paused', 'exec'), /is paused, unpause the container before exec/);
  assert.throws(() => checkTransition(ID, 'running', 'unpause'), /is not paused/);
  assert.doesNotThrow(() => checkTransition(ID, 'created', 'start'));
  assert.ok(canTransition('paused', 'unpause'));
  assert.ok(!canTransition('created', 'pause'));
});

test('statuses read like docker ps', () => {
  const now = Date.parse('2024-01-01T00:10:00Z');
  assert.equal(humanStatus({ status: 'running', startedAt: '2024-01-01T00:09:57Z', finishedAt: '', exitCode: 0 }, now), 'Up 3 seconds');
  assert.equal(humanStatus({ status: 'running', startedAt: '2024-01-01T00:00:00Z', finishedAt: '', exitCode: 0, health: 'healthy' }, now), 'Up 10 minutes (healthy)');
  assert.equal(humanStatus({ status: 'running', startedAt: '2024-01-01T00:09:00Z', finishedAt: '', exitCode: 0, health: 'starting' }, now), 'Up About a minute (health: starting)');
  assert.equal(humanStatus({ status: 'exited', startedAt: '', finishedAt: '2024-01-01T00:09:59.6Z', exitCode: 137 }, now), 'Exited (137) Less than a second ago');
  assert.equal(humanStatus({ status: 'created', startedAt: '', finishedAt: '', exitCode: 0 }, now), 'Created');
  assert.equal(humanStatus({ status: 'paused', startedAt: '2024-01-01T00:09:58Z', finishedAt: '', exitCode: 0 }, now), 'Up 2 seconds (Paused)');
  assert.equal(humanDuration(3 * 3600_000), '3 hours');
});
