import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecError, run } from './exec.js';

test('run collects stdout of a successful command', async () => {
  const r = await run('sh', ['-c', 'echo hi'], { timeoutMs: 5000 });
  assert.equal(r.stdout, 'hi\n');
});

test('run carries the stderr tail into the error of a failing command', async () => {
  await assert.rejects(run('sh', ['-c', 'echo bad >&2; exit 3'], { timeoutMs: 5000 }), (e: unknown) => {
    assert.ok(e instanceof ExecError);
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /bad/);
    return true;
  });
});

test('run kills a command that outlives its timeout', async () => {
  await assert.rejects(run('sleep', ['10'], { timeoutMs: 100 }), (e: unknown) => {
    assert.ok(e instanceof ExecError);
    assert.equal(e.kind, 'unavailable');
    return true;
  });
});
