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

test('the output ends with the connection, which is then closed', async () => {
  const { sock } = fakeSocket([frame(1, 'a'), frame(1, 'b')]);
  const out = sink();
  await runStdioSession({ conn: { socket: sock, head: Buffer.alloc(0), headers: {} }, tty: false, stdout: out, stderr: sink() });
  assert.equal(out.text, 'ab');
  assert.equal(sock.destroyed, true);
});

test('a connection that fails mid-output fails the session with its error, after what came before it', async () => {
  let sent = false;
  const sock = new Duplex({
    read() {
      if (!sent) {
        sent = true;
        this.push(frame(1, 'partial'));
      } else setImmediate(() => this.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
    },
    write: (_c, _e, cb) => cb(),
  });
  const out = sink();
  await assert.rejects(runStdioSession({ conn: { socket: sock, head: Buffer.alloc(0), headers: {} }, tty: false, stdout: out, stderr: sink() }), /read ECONNRESET/);
  assert.equal(out.text, 'partial');
});

test('a connection closed before its end is a premature close, as with the stream iterator', async () => {
  const sock = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
  setImmediate(() => sock.destroy());
  await assert.rejects(runStdioSession({ conn: { socket: sock, head: Buffer.alloc(0), headers: {} }, tty: true, stdout: sink(), stderr: sink() }), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
});

test('a slow stdout holds the reading of the connection until it drains', async () => {
  const frames = Array.from({ length: 20 }, (_, i) => frame(1, `${i},`));
  const { sock } = fakeSocket(frames);
  let inFlight = 0;
  let most = 0;
  let text = '';
  const slow = new Writable({
    highWaterMark: 1,
    write(c: Buffer, _e, cb) {
      inFlight++;
      most = Math.max(most, inFlight);
      text += c.toString();
      setTimeout(() => {
        inFlight--;
        cb();
      }, 1);
    },
  });
  await runStdioSession({ conn: { socket: sock, head: Buffer.alloc(0), headers: {} }, tty: false, stdout: slow, stderr: sink() });
  assert.equal(text, Array.from({ length: 20 }, (_, i) => `${i},`).join(''));
  assert.equal(most, 1);
});
