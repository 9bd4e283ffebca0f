import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecError, run, spawnStreaming } from './exec.js';

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

test('spawnStreaming keeps the output of a child that exited before the caller started reading', async () => {
  const child = spawnStreaming('sh', ['-c', 'printf quick'], { timeoutMs: 10_000 });
  child.stdin.end();
  await child.done;
  // Let node's exit handling run (it resumes stdio nobody reads) before the first read.
  await new Promise((r) => setTimeout(r, 50));
  const chunks: Buffer[] = [];
  for await (const c of child.stdout) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'quick');
});

test('spawnStreaming ends a child whose reader destroyed its output', async () => {
  const child = spawnStreaming('sh', ['-c', 'while :; do echo y; done'], { timeoutMs: 10_000 });
  child.stdin.end();
  for await (const _ of child.stdout) break;
  await assert.rejects(child.done, /killed by SIGPIPE|exited with status/);
});
