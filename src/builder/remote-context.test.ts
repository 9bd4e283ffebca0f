import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile, symlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { errorKind, run } from '../util/index.js';
import { fetchRemoteContext, isArchiveHead, isGitUrl, parseRemote, redactUrl } from './remote-context.js';
import { decompressContext } from './remote-context-compression.js';

async function tempDir(t: TestContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-remote-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const [name, body] of Object.entries(files)) p.entry({ name, mode: 0o644, mtime: new Date(0) }, body);
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function drain(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

async function serve(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

/** A bare repository with `main` (Dockerfile v1, sub/Dockerfile) and a `v2` branch and tag. */
async function makeRepo(t: TestContext): Promise<string> {
  const d = await tempDir(t);
  const work = join(d, 'work');
  const git = (args: string[], cwd = work) => run('git', args, { cwd, env: GIT_ENV, timeoutMs: 30_000 });
  await mkdir(join(work, 'sub'), { recursive: true });
  await git(['init', '-q', '-b', 'main'], work);
  await writeFile(join(work, 'Dockerfile'), 'FROM scratch\nCOPY a.txt /\n');
  await writeFile(join(work, 'a.txt'), 'v1\n');
  await writeFile(join(work, 'sub', 'Dockerfile'), 'FROM scratch\n');
  await writeFile(join(work, 'notdir'), 'x');
  await symlink('/etc', join(work, 'escape'));
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'v1']);
  await git(['checkout', '-q', '-b', 'v2']);
  await writeFile(join(work, 'a.txt'), 'v2\n');
  await git(['commit', '-q', '-am', 'v2']);
  await git(['tag', 'release-2']);
  await git(['checkout', '-q', 'main']);
  await git(['clone', '-q', '--bare', work, join(d, 'repo.git')], d);
  return join(d, 'repo.git');
}

test('git URLs are recognised as the docker CLI recognises them', () => {
  for (const s of ['https://example.com/a/b.git', 'https://example.com/a/b.git#main:sub', 'git@github.com:a/b.git', 'git://example.com/a', 'github.com/a/b', 'file:///srv/repo.git', 'ssh://git@example.com/a'])
    assert.equal(isGitUrl(s), true, s);
  for (const s of ['https://example.com/ctx.tar.gz', 'http://example.com/Dockerfile', '.', 'ctx'])
    assert.equal(isGitUrl(s), false, s);
});

test('parseRemote splits the #ref:subdir fragment and leaves the ref unset without one', () => {
  assert.deepEqual(parseRemote('https://h/r.git#v1:docker/app'), { kind: 'git', url: 'https://h/r.git', transport: 'https', ref: 'v1', subdir: 'docker/app' });
  assert.deepEqual(parseRemote('https://h/r.git#:sub'), { kind: 'git', url: 'https://h/r.git', transport: 'https', ref: undefined, subdir: 'sub' });
  assert.deepEqual(parseRemote('git@github.com:a/b.git#dev'), { kind: 'git', url: 'git@github.com:a/b.git', transport: 'ssh', ref: 'dev', subdir: undefined });
  assert.deepEqual(parseRemote('github.com/a/b'), { kind: 'git', url: 'https://github.com/a/b', transport: 'https', ref: undefined, subdir: undefined });
  assert.deepEqual(parseRemote('http://h/ctx.tar'), { kind: 'url', url: 'http://h/ctx.tar' });
});

test('parseRemote refuses what is not a URL and refs that look like options', () => {
  assert.equal(errorKind(catchSync(() => parseRemote('/srv/ctx'))), 'invalid-argument');
  assert.equal(errorKind(catchSync(() => parseRemote('ftp://h/x'))), 'invalid-argument');
  assert.equal(errorKind(catchSync(() => parseRemote('https://h/r.git#--upload-pack=x'))), 'invalid-argument');
});

test('redactUrl hides a password in a URL', () => {
  assert.equal(redactUrl('https://user:s3cret@h/r.git'), 'https://user:xxxxx@h/r.git');
  assert.equal(redactUrl('https://h/r.git'), 'https://h/r.git');
});

test('isArchiveHead knows tar and the compressions and not a Dockerfile', async () => {
  const tar = await tarOf({ a: 'x' });
  assert.equal(isArchiveHead(tar), true);
  assert.equal(isArchiveHead(gzipSync(tar)), true);
  assert.equal(isArchiveHead(Buffer.from('FROM busybox\n')), false);
});

function catchSync(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  assert.fail('expected an error');
}

test('a git remote is cloned at its default branch, a branch, a tag, and a subdirectory', async (t) => {
  const repo = await makeRepo(t);
  const dir = await tempDir(t);
  const cases: Array<[string, string, string]> = [
    [`file://${repo}`, 'a.txt', 'v1\n'],
    [`file://${repo}#v2`, 'a.txt', 'v2\n'],
    [`file://${repo}#release-2`, 'a.txt', 'v2\n'],
    [`file://${repo}#main:sub`, 'Dockerfile', 'FROM scratch\n'],
  ];
  for (const [url, file, want] of cases) {
    const ctx = await fetchRemoteContext(parseRemote(url), dir);
    assert.equal(ctx.kind, 'directory');
    if (ctx.kind !== 'directory') return;
    assert.equal(await readFile(join(ctx.root, file), 'utf8'), want, url);
    // No .git unless asked for, as BuildKit.
    await assert.rejects(readFile(join(ctx.root, '.git', 'HEAD')));
    await ctx.close();
  }
  const kept = await fetchRemoteContext(parseRemote(`file://${repo}`), dir, { keepGitDir: true });
  assert.equal(kept.kind, 'directory');
  if (kept.kind === 'directory') assert.match(await readFile(join(kept.root, '.git', 'HEAD'), 'utf8'), /^[0-9a-f]{40}\n$/);
  await kept.close();
});

test('a bad ref, a missing or escaping subdirectory and an absent repository are errors naming them', async (t) => {
  const repo = await makeRepo(t);
  const dir = await tempDir(t);
  const cases: Array<[string, string, RegExp]> = [
    [`file://${repo}#nosuchref`, 'internal', /cannot fetch ref "nosuchref" from git repository/],
    [`file://${repo}#main:nosuch`, 'invalid-argument', /subdirectory "nosuch" does not exist/],
    [`file://${repo}#main:escape`, 'invalid-argument', /subdirectory "escape" is not within/],
    [`file://${repo}#main:notdir`, 'invalid-argument', /subdirectory "notdir" .* is not a directory/],
    [`file://${repo}-absent`, 'internal', /cannot fetch the default branch from git repository/],
  ];
  for (const [url, kind, re] of cases) {
    const err = await fetchRemoteContext(parseRemote(url), dir).then(
      () => assert.fail(`expected ${url} to fail`),
      (e: unknown) => e,
    );
    assert.equal(errorKind(err), kind, `${url}: ${String(err)}`);
    assert.match((err as Error).message, re);
  }
});

test('a tarball URL streams back as an archive and a plain-text URL as a Dockerfile', async (t) => {
  const tar = gzipSync(await tarOf({ Dockerfile: 'FROM scratch\n', 'b.txt': 'b\n' }));
  const base = await serve(t, (req, res) => {
    if (req.url === '/ctx.tar.gz') res.end(tar);
    else if (req.url === '/Dockerfile') {
      res.setHeader('content-type', 'text/plain');
      res.end('FROM busybox\nRUN true\n');
    } else if (req.url === '/moved') {
      res.writeHead(302, { location: '/ctx.tar.gz' }).end();
    } else res.writeHead(404).end('no such thing');
  });
  const dir = await tempDir(t);
  for (const path of ['/ctx.tar.gz', '/moved']) {
    const a = await fetchRemoteContext(parseRemote(base + path), dir);
    assert.equal(a.kind, 'archive');
    if (a.kind === 'archive') assert.deepEqual(await drain(a.stream), tar);
    await a.close();
  }
  const d = await fetchRemoteContext(parseRemote(`${base}/Dockerfile`), dir);
  assert.equal(d.kind, 'directory');
  if (d.kind === 'directory') {
    assert.equal(d.dockerfile, 'Dockerfile');
    assert.equal(await readFile(join(d.root, 'Dockerfile'), 'utf8'), 'FROM busybox\nRUN true\n');
  }
  await d.close();
  const missing = await fetchRemoteContext(parseRemote(`${base}/nope.tar`), dir).catch((e: unknown) => e);
  assert.equal(errorKind(missing), 'not-found');
  assert.match((missing as Error).message, /HTTP 404: no such thing/);
});

test('an unreachable URL is an error naming the URL', async (t) => {
  // A loopback port that was just closed: nothing listens there.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  const dir = await tempDir(t);
  const err = await fetchRemoteContext(parseRemote(`http://127.0.0.1:${port}/ctx.tar`), dir).catch((e: unknown) => e);
  assert.equal(errorKind(err), 'internal');
  assert.match((err as Error).message, /cannot fetch the build context from "http:\/\/127\.0\.0\.1:\d+\/ctx\.tar": .*ECONNREFUSED/);
});

test('decompressContext decompresses xz, bzip2 and zstd and passes gzip and plain tars on', async (t) => {
  const dir = await tempDir(t);
  const tar = await tarOf({ Dockerfile: 'FROM scratch\n' });
  await writeFile(join(dir, 'c.tar'), tar);
  for (const [cmd, args] of [['xz', ['-k', '-f']], ['bzip2', ['-k', '-f']], ['zstd', ['-q', '-f']]] as const) {
    await run(cmd, [...args, join(dir, 'c.tar')], { timeoutMs: 30_000 });
  }
  for (const ext of ['xz', 'bz2', 'zst']) {
    const out = await drain(await decompressContext(Readable.from([await readFile(join(dir, `c.tar.${ext}`))])));
    assert.deepEqual(out, tar, ext);
  }
  const gz = gzipSync(tar);
  assert.deepEqual(await drain(await decompressContext(Readable.from([gz]))), gz);
  assert.deepEqual(await drain(await decompressContext(Readable.from([tar.subarray(0, 3), tar.subarray(3)]))), tar);
});

test('a truncated xz context is an error, never a shorter tar', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'c.tar'), await tarOf({ Dockerfile: 'FROM scratch\n', big: 'x'.repeat(100_000) }));
  await run('xz', ['-k', '-f', join(dir, 'c.tar')], { timeoutMs: 30_000 });
  const xz = await readFile(join(dir, 'c.tar.xz'));
  const err = await drain(await decompressContext(Readable.from([xz.subarray(0, xz.length - 20)]))).catch((e: unknown) => e);
  assert.equal(errorKind(err), 'invalid-argument');
  assert.match(String((err as Error).message), /cannot decompress the build context \(xz\)/);
});

test('a decompressor that exits before the reader starts loses no output', async (t) => {
  const dir = await tempDir(t);
  const tar = await tarOf({ Dockerfile: 'FROM scratch\n' });
  await writeFile(join(dir, 'c.tar'), tar);
  await run('xz', ['-k', '-f', join(dir, 'c.tar')], { timeoutMs: 30_000 });
  const out = await decompressContext(Readable.from([await readFile(join(dir, 'c.tar.xz'))]));
  // xz has long exited by now (node drops a child's unread stdout at its exit).
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await drain(out), tar);
});

test('a plain tar whose first member is named like a bzip2 magic is not taken for bzip2', async () => {
  const tar = await tarOf({ BZh9file: 'x' });
  assert.deepEqual(await drain(await decompressContext(Readable.from([tar]))), tar);
});
