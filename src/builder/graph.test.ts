import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runGraph } from './graph.js';

test('runGraph runs independent nodes in parallel within the limit and after their dependencies', async () => {
  let active = 0;
  let peak = 0;
  const order: string[] = [];
  const release: Array<() => void> = [];
  const nodes = [
    { id: 'a', deps: [] },
    { id: 'b', deps: [] },
    { id: 'c', deps: [] },
    { id: 'final', deps: ['a', 'b', 'c'] },
  ];
  const p = runGraph(nodes, 2, async (id) => {
    active++;
    peak = Math.max(peak, active);
    order.push(`start:${id}`);
    await new Promise<void>((r) => release.push(r));
    active--;
    order.push(`end:${id}`);
    return id.toUpperCase();
  });
  for (let i = 0; i < 4; i++) {
    while (release.length === 0) await new Promise((r) => setImmediate(r));
    release.shift()!();
  }
  const out = await p;
  assert.equal(peak, 2);
  assert.equal(out.get('final'), 'FINAL');
  assert.ok(order.indexOf('start:final') > order.indexOf('end:c'));
});

test('runGraph reports the first failure, not the aborts it causes', async () => {
  const nodes = [
    { id: 1, deps: [] },
    { id: 2, deps: [] },
  ];
  await assert.rejects(
    runGraph(nodes, 2, async (id, signal) => {
      if (id === 1) throw new Error('stage one broke');
      await new Promise((_r, rej) => signal.addEventListener('abort', () => rej(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
    }),
    /stage one broke/,
  );
});
