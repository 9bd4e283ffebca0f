// Conformance suite for ContentStore (STYLE.md §10): every implementation and fake runs it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { errorKind, sha256Digest, type Digest } from '../../src/util/index.js';
import type { ContentStore } from '../../src/storage/index.js';

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function chunked(data: Buffer, size = 7): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

export function contentStoreSuite(name: string, open: (t: TestContext) => Promise<ContentStore>): void {
  const payload = Buffer.from('a manifest or a layer, exactly as pulled\n'.repeat(50));
  const digest = sha256Digest(payload);

  test(`${name}: ingest stores a blob under its digest and reads it back`, async (t) => {
    const store = await open(t);
    const info = await store.ingest(chunked(payload), { digest, size: payload.length });
    assert.deepEqual(info, { digest, size: payload.length });
    assert.deepEqual(await store.info(digest), { digest, size: payload.length });
    assert.deepEqual(await collect(store.read(digest)), payload);
    assert.deepEqual(await store.readBytes(digest, 1 << 20), payload);
  });

  test(`${name}: ingest without an expected digest computes it`, async (t) => {
    const store = await open(t);
    const info = await store.ingest(chunked(payload), {});
    assert.equal(info.digest, digest);
  });

  test(`${name}: ingest rejects a blob whose digest does not match and keeps nothing`, async (t) => {
    const store = await open(t);
    const wrong = sha256Digest('something else');
    await assert.rejects(store.ingest(chunked(payload), { digest: wrong }), (e) => errorKind(e) === 'invalid-argument');
    assert.equal(await store.info(wrong), undefined);
    assert.equal(await store.info(digest), undefined);
    const all = [];
    for await (const b of store.list()) all.push(b);
    assert.deepEqual(all, []);
  });

  test(`${name}: ingest rejects a blob whose size does not match`, async (t) => {
    const store = await open(t);
    await assert.rejects(store.ingest(chunked(payload), { digest, size: payload.length - 1 }), (e) => errorKind(e) === 'invalid-argument');
    await assert.rejects(store.ingest(chunked(payload), { digest, size: payload.length + 1 }), (e) => errorKind(e) === 'invalid-argument');
    assert.equal(await store.info(digest), undefined);
  });

  test(`${name}: ingesting a digest that already exists succeeds`, async (t) => {
    const store = await open(t);
    await store.put(payload);
    const again = await store.ingest(chunked(payload), { digest, size: payload.length });
    assert.deepEqual(again, { digest, size: payload.length });
    const again2 = await store.put(payload);
    assert.equal(again2.digest, digest);
  });

  test(`${name}: a failing input stream leaves nothing behind`, async (t) => {
    const store = await open(t);
    const failing = new Readable({
      read() {
        this.push(payload.subarray(0, 10));
        this.destroy(new Error('connection reset'));
      },
    });
    await assert.rejects(store.ingest(failing, { digest }));
    assert.equal(await store.info(digest), undefined);
  });

  test(`${name}: an aborted ingest is cancelled and keeps nothing`, async (t) => {
    const store = await open(t);
    const ac = new AbortController();
    const slow = new Readable({ read() {} });
    slow.push(payload.subarray(0, 5));
    const p = store.ingest(slow, { digest }, { signal: ac.signal });
    setImmediate(() => ac.abort());
    await assert.rejects(p, (e) => errorKind(e) === 'cancelled');
    assert.equal(await store.info(digest), undefined);
  });

  test(`${name}: read of a missing blob fails with not-found`, async (t) => {
    const store = await open(t);
    const missing = sha256Digest('missing');
    await assert.rejects(collect(store.read(missing)), (e) => errorKind(e) === 'not-found');
    await assert.rejects(store.readBytes(missing, 10), (e) => errorKind(e) === 'not-found');
    assert.equal(await store.info(missing), undefined);
  });

  test(`${name}: readBytes refuses a blob larger than the cap`, async (t) => {
    const store = await open(t);
    await store.put(payload);
    await assert.rejects(store.readBytes(digest, 10), (e) => errorKind(e) === 'invalid-argument');
  });

  test(`${name}: delete removes a blob and list shows what is stored`, async (t) => {
    const store = await open(t);
    const a = await store.put('config a');
    const b = await store.put('config b');
    const listed: Digest[] = [];
    for await (const info of store.list()) listed.push(info.digest);
    assert.deepEqual(listed.sort(), [a.digest, b.digest].sort());
    await store.delete(a.digest);
    assert.equal(await store.info(a.digest), undefined);
    await assert.rejects(store.delete(a.digest), (e) => errorKind(e) === 'not-found');
    assert.ok(await store.info(b.digest));
  });

  test(`${name}: concurrent ingests of different blobs all land`, async (t) => {
    const store = await open(t);
    const blobs = Array.from({ length: 8 }, (_, i) => Buffer.from(`blob number ${i}`));
    const infos = await Promise.all(blobs.map((b) => store.ingest(chunked(b, 3), { digest: sha256Digest(b) })));
    for (const [i, info] of infos.entries()) assert.deepEqual(await store.readBytes(info.digest, 100), blobs[i]);
  });
}
