import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough, Writable } from 'node:stream';
import { frame } from '../../client/index.js';
import { parseDetachKeys, runStdioSession } from './stdio-session.js';

/** A fake hijacked socket: `written` collects what we send; `end` marks our half-close. */
function fakeSocket(output: Buffer[]) {
  const state = { written: '', ended: false };
  let i = 0;
  const sock = new Duplex({
    read() {
      this.push(i < output.length ? output[i++]! : null);
    },
    write(chunk: Buffer, _enc, cb) {
      state.written += chunk.toString();
      cb();
    },
    final(cb) {
      state.ended = true;
      cb();
    },
  });
  return { sock, state };
}

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      w.text += c.toString();
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

test('non-TTY output is demultiplexed into stdout and stderr, head bytes first', async () => {
  const { sock } = fakeSocket([Buffer.concat([frame(2, 'err\n'), frame(1, 'mo')]), frame(1, 're\n')]);
  const out = sink();
  const err = sink();
  await runStdioSession({ conn: { socket: sock, head: frame(1, 'first\n'), headers: {} }, tty: false, stdout: out, stderr: err });
  assert.equal(out.text, 'first\nmore\n');
  assert.equal(err.text, 'err\n');
});

test('TTY output is copied raw', async () => {
  const { sock } = fakeSocket([Buffer.from('raw \x01 bytes')]);
  const out = sink();
  await runStdioSession({ conn: { socket: sock, head: Buffer.alloc(0), headers: {} }, tty: true, stdout: out, stderr: sink() });
  assert.equal(out.text, 'raw \x01 bytes');
});

test('stdin is forwarded and its end half-closes the connection', async () => {
  const { sock, state } = fakeSocket([]);
  const stdin = new PassThrough();
  stdin.end('typed\n');
  // Keep the output open until our input has gone through.
  const gate = new Promise<void>((r) => setTimeout(r, 50));
  const wrapped = new Duplex({
    read() {
      void gate.then(() => this.push(null));
    },
    write: (c: Buffer, e, cb) => sock.write(c, e, cb),
    final: (cb) => sock.end(cb),
  });
  await runStdioSession({ conn: { socket: wrapped, head: Buffer.alloc(0), headers: {} }, tty: false, stdin, stdout: sink(), stderr: sink() });
  assert.equal(state.written, 'typed\n');
  assert.equal(state.ended, true);
});

test('detach keys parse docker notation', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,x')], [1, 120]);
  assert.throws(() => parseDetachKeys('ctrl-aa'), /invalid detach keys/);
});

test('a bare bool flag gives back the word it swallowed', async () => {
  const { isSigProxy, reclaimBoolValue } = await import('./stdio-session.js');
  assert.deepEqual(reclaimBoolValue('busybox', ['echo']), ['busybox', 'echo']);
  assert.deepEqual(reclaimBoolValue('false', ['busybox']), ['busybox']);
  assert.deepEqual(reclaimBoolValue(true, ['busybox']), ['busybox']);
  assert.equal(isSigProxy('false'), false);
  assert.equal(isSigProxy(true), true);
  assert.equal(isSigProxy('busybox'), true);
});
