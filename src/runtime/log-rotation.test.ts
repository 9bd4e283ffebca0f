import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMaxFile, rotateOnce, rotatedPaths } from './log-rotation.js';
import { readLogSet } from './logs.js';

const rec = (msg: string) => `2024-01-01T00:00:00Z stdout F ${msg}\n`;

async function collect(gen: AsyncGenerator<{ data: Buffer }>): Promise<string> {
  let s = '';
  for await (const r of gen) s += r.data.toString();
  return s;
}

test('files conmon replaces are kept as <log>.1 … <log>.N-1 and read back in order, the oldest dropped', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rot-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'ctr.log');
  // What conmon does at its size limit: a new file renamed over the path.
  const replace = async (content: string) => {
    await writeFile(`${log}.tmp`, content);
    await rename(`${log}.tmp`, log);
  };
  await writeFile(log, rec('a1'));
  await rotateOnce(log, 3);
  await appendFile(log, rec('a2'));
  for (const f of ['b', 'c', 'd']) {
    await replace(rec(`${f}1`));
    await rotateOnce(log, 3);
    await appendFile(log, rec(`${f}2`));
  }
  assert.deepEqual((await readdir(dir)).sort(), ['ctr.log', 'ctr.log.0', 'ctr.log.1', 'ctr.log.2']);
  const opts = { follow: false };
  assert.equal(await collect(readLogSet(rotatedPaths(log, 3), log, opts)), 'b1\nb2\nc1\nc2\nd1\nd2\n');
  assert.equal(await collect(readLogSet(rotatedPaths(log, 3), log, { ...opts, tail: 3 })), 'c2\nd1\nd2\n');
  assert.equal(await collect(readLogSet(rotatedPaths(log, 3), log, { ...opts, tail: 1 })), 'd2\n');
  assert.equal(await collect(readLogSet(rotatedPaths(log, 3), log, { ...opts, tail: 100 })), 'b1\nb2\nc1\nc2\nd1\nd2\n');
  assert.equal(await collect(readLogSet(rotatedPaths(log, 3), log, { ...opts, tail: 0 })), '');
});

test('max-file must be a whole number of at least 1', () => {
  assert.equal(parseMaxFile(undefined), 1);
  assert.equal(parseMaxFile('3'), 3);
  assert.throws(() => parseMaxFile('0'), { kind: 'invalid-argument' });
  assert.throws(() => parseMaxFile('x'), { kind: 'invalid-argument' });
});

test('following a rotated log reads the kept files, then follows the live one across a replacement', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rot-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'ctr.log');
  await writeFile(log, rec('a'));
  await rotateOnce(log, 2);
  await writeFile(`${log}.tmp`, rec('b'));
  await rename(`${log}.tmp`, log);
  await rotateOnce(log, 2);
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const gen = readLogSet(rotatedPaths(log, 2), log, { follow: true, done });
  const got: string[] = [];
  for (;;) {
    const r = await gen.next();
    got.push(r.value!.data.toString());
    if (got.length === 2) break;
  }
  await appendFile(log, rec('b2'));
  await writeFile(`${log}.tmp`, rec('c'));
  await rename(`${log}.tmp`, log);
  finish();
  for await (const r of gen) got.push(r.data.toString());
  assert.deepEqual(got, ['a\n', 'b\n', 'b2\n', 'c\n']);
});
