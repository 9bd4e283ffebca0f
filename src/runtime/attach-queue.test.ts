import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttachQueue, type OutputChunk } from './attach-queue.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-attach-queue-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function chunk(stream: 'stdout' | 'stderr', n: number, size: number): OutputChunk {
  const data = Buffer.alloc(size, n % 251);
  data.writeUInt32BE(n, 0);
  return { stream, data };
}

async function drain(q: AttachQueue): Promise<OutputChunk[]> {
  const out: OutputChunk[] = [];
  for (let c = await q.next(); c; c = await q.next()) out.push(c);
  return out;
}

/** Runs of one stream, joined: what a client sees whatever the queue joined or split. */
function runs(chunks: OutputChunk[]): Array<[string, Buffer]> {
  const out: Array<[string, Buffer[]]> = [];
  for (const c of chunks) {
    const last = out[out.length - 1];
    if (last && last[0] === c.stream) last[1].push(c.data);
    else out.push([c.stream, [c.data]]);
  }
  return out.map(([s, b]) => [s, Buffer.concat(b)]);
}

test('output comes out in order with its stream whether it waited in memory or on disk', async (t) => {
  const dir = await tempDir(t);
  const q = new AttachQueue(dir, 64 * 1024);
  const sent: OutputChunk[] = [];
  for (let i = 0; i < 200; i++) sent.push(chunk(i % 3 === 0 ? 'stderr' : 'stdout', i, 8192));
  for (const c of sent) q.push(c);
  assert.ok(q.isSpooling, 'a burst beyond the high-water mark goes to the spool');
  q.end();
  const got = runs(await drain(q));
  const want = runs(sent);
  assert.equal(got.length, want.length);
  got.forEach(([stream, data], i) => {
    assert.equal(stream, want[i]![0]);
    assert.ok(data.equals(want[i]![1]), `run ${i} intact`);
  });
  await q.close();
  assert.deepEqual(await readdir(dir), [], 'the spool file is removed');
});

test('a lagging reader leaves no more than the high-water mark in memory once the spool has written', async (t) => {
  const dir = await tempDir(t);
  const high = 32 * 1024;
  const q = new AttachQueue(dir, high);
  for (let i = 0; i < 2000; i++) {
    q.push(chunk('stdout', i, 4096));
    // Let the spool writes run now and then, as the event loop would between packets.
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  // What waits for the disk is held until written; once the writes are done only the
  // chunks below the mark are left in memory.
  for (let i = 0; i < 1000 && q.bufferedBytes > high; i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(q.bufferedBytes <= high, `${q.bufferedBytes} bytes still held`);
  q.end();
  const got = Buffer.concat((await drain(q)).map((c) => c.data));
  assert.equal(got.length, 2000 * 4096);
  for (let i = 0; i < 2000; i++) assert.equal(got.readUInt32BE(i * 4096), i, 'nothing lost, nothing reordered');
  await q.close();
});

test('a reader that catches up goes back to memory and later bursts spool again', async (t) => {
  const dir = await tempDir(t);
  const q = new AttachQueue(dir, 16 * 1024);
  let n = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 20; i++) q.push(chunk('stdout', n++, 4096));
    assert.ok(q.isSpooling);
    const parts: Buffer[] = [];
    for (let got = 0; got < 20 * 4096; ) {
      const c = (await q.next())!;
      parts.push(c.data);
      got += c.data.length;
    }
    const data = Buffer.concat(parts);
    for (let i = 0; i < 20; i++) assert.equal(data.readUInt32BE(i * 4096), n - 20 + i);
    // Caught up: the next read finds the spool drained, drops it and waits in memory.
    const waiting = q.next();
    await new Promise((r) => setImmediate(r));
    assert.equal(q.isSpooling, false);
    q.push(chunk('stderr', n++, 10));
    assert.equal((await waiting)!.stream, 'stderr');
  }
  q.end();
  assert.equal(await q.next(), undefined);
  await q.close();
  assert.deepEqual(await readdir(dir), []);
});

test('a reader waiting on an empty queue wakes for the next chunk and for the end', async (t) => {
  const q = new AttachQueue(await tempDir(t));
  const first = q.next();
  q.push({ stream: 'stdout', data: Buffer.from('hi') });
  assert.equal((await first)!.data.toString(), 'hi');
  const last = q.next();
  q.end();
  assert.equal(await last, undefined);
});

test('closing drops what is queued, removes the spool and ends a waiting reader', async (t) => {
  const dir = await tempDir(t);
  const q = new AttachQueue(dir, 1024);
  for (let i = 0; i < 50; i++) q.push(chunk('stdout', i, 1000));
  await new Promise((r) => setImmediate(r));
  const pending = q.next();
  await q.close();
  await pending;
  assert.equal(await q.next(), undefined);
  assert.deepEqual(await readdir(dir), []);
});

test('a spool that cannot be written ends the output with the error', async (t) => {
  const dir = join(await tempDir(t), 'gone');
  const q = new AttachQueue(dir, 1024);
  q.push(chunk('stdout', 0, 1000));
  q.push(chunk('stdout', 1, 1000));
  assert.equal((await q.next())!.data.readUInt32BE(0), 0);
  await assert.rejects(q.next(), /ENOENT/);
  await q.close();
});

test('consecutive chunks of one stream waiting in memory come out joined, up to 64 KiB', async (t) => {
  const q = new AttachQueue(await tempDir(t));
  for (let i = 0; i < 10; i++) q.push(chunk('stdout', i, 8192));
  q.push(chunk('stderr', 10, 100));
  q.push(chunk('stdout', 11, 100));
  q.end();
  assert.deepEqual((await drain(q)).map((c) => [c.stream, c.data.length]), [
    ['stdout', 65536],
    ['stdout', 16384],
    ['stderr', 100],
    ['stdout', 100],
  ]);
});

test('a spool left by a killed daemon goes when the next one is made in its directory', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'attach-0123456789ab.spool'), 'old');
  await writeFile(join(dir, 'other-file'), 'kept');
  const q = new AttachQueue(dir, 10);
  q.push(chunk('stdout', 0, 100));
  assert.equal((await q.next())!.data.readUInt32BE(0), 0);
  assert.deepEqual((await readdir(dir)).filter((n) => !n.startsWith('attach-') || n === 'attach-0123456789ab.spool'), ['other-file']);
  await q.close();
  assert.deepEqual(await readdir(dir), ['other-file']);
});
