import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { errorKind } from '../../util/index.js';
import { isRemoteContext, resolveBuildContext, type CliBuildContext } from './build-context.js';

async function tempDir(t: TestContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-build-context-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function drain(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

async function members(tar: Buffer): Promise<Record<string, string>> {
  const ex = extract();
  const out: Record<string, string> = {};
  const done = (async () => {
    for await (const e of ex) out[e.header.name] = (await drain(e as unknown as Readable)).toString('utf8');
  })();
  ex.end(tar);
  await done;
  return out;
}

function stream(ctx: CliBuildContext): Readable {
  assert.equal(ctx.kind, 'stream');
  if (ctx.kind !== 'stream') throw new Error('unreachable');
  return ctx.body;
}

test('git, http(s), ssh and file URLs and the github.com/ form are remote contexts', () => {
  for (const s of ['https://h/app.git#v1:sub', 'http://h/ctx.tar.gz', 'git@github.com:a/b.git', 'git://h/a', 'ssh://h/a', 'file:///srv/a.git', 'github.com/a/b'])
    assert.equal(isRemoteContext(s), true, s);
  for (const s of ['.', 'ctx', '/abs/dir', '-']) assert.equal(isRemoteContext(s), false, s);
});

test('a Dockerfile on stdin becomes a context holding only Dockerfile', async () => {
  const ctx = await resolveBuildContext('-', undefined, Readable.from([Buffer.from('FROM busybox\nRUN true\n')]));
  assert.equal(ctx.kind === 'stream' && ctx.dockerfile, 'Dockerfile');
  assert.deepEqual(await members(await drain(stream(ctx))), { Dockerfile: 'FROM busybox\nRUN true\n' });
});

test('a compressed tar on stdin is sent byte for byte, with -f naming its Dockerfile', async () => {
  const tgz = gzipSync(Buffer.alloc(2048, 1));
  const ctx = await resolveBuildContext('-', 'build/Dockerfile', Readable.from([tgz.subarray(0, 100), tgz.subarray(100)]));
  assert.equal(ctx.kind === 'stream' && ctx.dockerfile, 'build/Dockerfile');
  assert.deepEqual(await drain(stream(ctx)), tgz);
});

test('stdin cannot be both the context and the Dockerfile', async () => {
  const err = await resolveBuildContext('-', '-', Readable.from([])).catch((e: unknown) => e);
  assert.equal(errorKind(err), 'invalid-argument');
  assert.match((err as Error).message, /can't use stdin for both build context and dockerfile/);
});

test('-f - with a directory reads the Dockerfile text from stdin', async (t) => {
  const dir = await tempDir(t);
  const ctx = await resolveBuildContext(dir, '-', Readable.from([Buffer.from('FROM scratch\n')]));
  assert.equal(ctx.kind, 'directory');
  if (ctx.kind === 'directory') assert.deepEqual(ctx.dockerfile, { text: Buffer.from('FROM scratch\n') });
});

test('a URL is handed to the daemon with -f as a path inside it, and -f - is refused for it', async () => {
  assert.deepEqual(await resolveBuildContext('https://h/app.git#v2:sub', 'alt/Dockerfile', Readable.from([])), { kind: 'remote', remote: 'https://h/app.git#v2:sub', dockerfile: 'alt/Dockerfile' });
  const err = await resolveBuildContext('https://h/app.git', '-', Readable.from([])).catch((e: unknown) => e);
  assert.equal(errorKind(err), 'invalid-argument');
});

test('a missing directory or Dockerfile fails before anything is sent', async (t) => {
  const dir = await tempDir(t);
  assert.match(String(await resolveBuildContext(join(dir, 'nope'), undefined, Readable.from([])).catch((e: unknown) => e)), /path ".*nope" not found/);
  assert.match(String(await resolveBuildContext(dir, undefined, Readable.from([])).catch((e: unknown) => e)), /cannot find Dockerfile/);
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\n');
  assert.deepEqual(await resolveBuildContext(dir, undefined, Readable.from([])), { kind: 'directory', root: dir, dockerfile: join(dir, 'Dockerfile') });
});

test('a Dockerfile from stdin goes into the tar under a hidden name that .dockerignore lists', async (t) => {
  const { contextTar } = await import('./build.js');
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.txt'), 'a\n');
  const fresh = contextTar(dir, { text: Buffer.from('FROM scratch\n') }, undefined);
  const files = await members(await drain(fresh.stream));
  assert.match(fresh.dockerfileName, /^\.dockerfile\.[0-9a-f]+$/);
  assert.equal(files[fresh.dockerfileName], 'FROM scratch\n');
  assert.equal(files['.dockerignore'], `.dockerignore\n${fresh.dockerfileName}\n`);
  // An existing .dockerignore keeps its patterns and gains the name, as with the docker CLI.
  await writeFile(join(dir, '.dockerignore'), '*.log');
  const kept = contextTar(dir, { text: Buffer.from('FROM scratch\n') }, undefined);
  const again = await members(await drain(kept.stream));
  assert.equal(again['.dockerignore'], `*.log\n${kept.dockerfileName}\n`);
  assert.equal(again['a.txt'], 'a\n');
});
