// Every context form `docker build` takes, through berth build, the docker CLI (legacy
// builder) and the API's `remote=` (docker-py, dockerode): a git repository over file://, dumb
// HTTP and git://, a tarball and a plain Dockerfile over HTTP, a tar (compressed or not) or a
// bare Dockerfile on stdin, and `-f -`; dockerode's and docker-py's remote=. Every server
// listens on 127.0.0.1 only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { test, type TestContext } from 'node:test';
import Docker from 'dockerode';
import { berth } from '../cli/berth-cli.js';
import { makeContext, startBuildDaemon, writeFiles } from '../build/fixtures.js';
import { runCommand, type TestDaemon } from '../../helpers/daemon.js';
import { serveHttp } from './http-server.js';

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t',
};
const LEGACY = { DOCKER_BUILDKIT: '0' };

async function git(cwd: string, args: string[]): Promise<void> {
  const r = await runCommand('git', ['-C', cwd, ...args], { env: GIT_ENV, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

/** A bare repo `<root>/app.git`: main (Dockerfile + a.txt v1, docker/sub), branch and tag `v2`. */
async function makeRepo(t: TestContext): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-remote-repo-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const work = join(root, 'work');
  await writeFiles(work, {
    Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\n',
    'a.txt': 'v1\n',
    'docker/sub/Dockerfile': 'FROM busybox\nCOPY . /ctx/\n',
    'docker/sub/in-sub.txt': 'sub\n',
  });
  await git(work, ['init', '-q', '-b', 'main']);
  await git(work, ['add', '-A']);
  await git(work, ['commit', '-q', '-m', 'v1']);
  await git(work, ['checkout', '-q', '-b', 'v2']);
  await writeFiles(work, { 'a.txt': 'v2\n' });
  await git(work, ['commit', '-q', '-am', 'v2']);
  await git(work, ['tag', 'v2.0']);
  await git(work, ['checkout', '-q', 'main']);
  await git(root, ['clone', '-q', '--bare', work, join(root, 'app.git')]);
  await git(join(root, 'app.git'), ['update-server-info']); // for the dumb HTTP server
  return root;
}

/** Static files under `root` on 127.0.0.1 (git's dumb HTTP protocol needs nothing more). */
async function serveStatic(t: TestContext, root: string): Promise<string> {
  const { url } = await serveHttp(t, '127.0.0.1', (req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!path.startsWith(root + '/')) return void res.writeHead(403).end();
    stat(path).then(
      (st) => {
        if (!st.isFile()) return void res.writeHead(404).end('not found');
        res.writeHead(200, { 'content-length': st.size });
        createReadStream(path).pipe(res);
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  return url;
}

/** git's smart HTTP protocol on 127.0.0.1: `git http-backend` as a CGI per request. */
async function serveSmartHttp(t: TestContext, root: string): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const { url } = await serveHttp(t, '127.0.0.1', (req, res) => {
    const seen: Buffer[] = [];
    req.on('data', (c: Buffer) => seen.push(c));
    req.on('end', () => requests.push(`${req.method} ${req.url} ${Buffer.concat(seen).toString('latin1')}`));
    const u = new URL(req.url ?? '/', 'http://x');
    const child = spawn('git', ['http-backend'], {
      env: {
        ...GIT_ENV,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: u.pathname,
        QUERY_STRING: u.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (c: Buffer) => {
      if (headersDone) return void res.write(c);
      head = Buffer.concat([head, c]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10);
        else res.setHeader(k, v);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    child.stdout.on('end', () => res.end());
  });
  return { url, requests };
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** `git daemon` serving `base` on 127.0.0.1; stopped when the test ends. */
async function gitDaemon(t: TestContext, base: string): Promise<string> {
  const port = await freePort();
  const child = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, base], { env: GIT_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(async () => {
    if (child.exitCode === null) {
      const closed = new Promise((r) => child.once('close', r));
      child.kill('SIGTERM');
      await closed;
    }
  });
  // Ready once it accepts a connection.
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = netConnect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return `git://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('git daemon did not start');
}

async function catIn(d: TestDaemon, image: string, path: string): Promise<string> {
  const r = await d.docker(['run', '--rm', '--network', 'none', image, 'cat', path]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('remote and stdin build contexts', async (t) => {
  const d = await startBuildDaemon(t);
  if (!d) return;
  t.after(() => d.stop());
  const repoRoot = await makeRepo(t);
  const repo = join(repoRoot, 'app.git');

  await t.test('berth build clones a git repository over file:// at its default branch, a branch and a tag', async () => {
    for (const [fragment, want] of [['', 'v1\n'], ['#v2', 'v2\n'], ['#v2.0', 'v2\n']] as const) {
      const r = await berth(d.socketPath, ['build', '--progress', 'plain', '-t', 'remote:git', `file://${repo}${fragment}`], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await catIn(d, 'remote:git', '/a.txt'), want, fragment);
    }
  });

  await t.test('a #ref:subdir fragment makes the subdirectory the context, -f is relative to it, a rebuild is cached', async () => {
    const r = await berth(d.socketPath, ['build', '-q', '-t', 'remote:sub', `file://${repo}#main:docker/sub`], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const ls = await d.docker(['run', '--rm', '--network', 'none', 'remote:sub', 'ls', '/ctx']);
    assert.equal(ls.stdout.split('\n').filter(Boolean).sort().join(','), 'Dockerfile,in-sub.txt');
    const f = await berth(d.socketPath, ['build', '-q', '-t', 'remote:root', '-f', 'docker/sub/Dockerfile', `file://${repo}`], { timeoutMs: 120_000 });
    assert.equal(f.code, 0, f.stderr);
    // The whole checkout without .git (as BuildKit), so a rebuild of the same commit is all cached.
    const all = await d.docker(['run', '--rm', '--network', 'none', 'remote:root', 'ls', '-a', '/ctx']);
    assert.doesNotMatch(all.stdout, /^\.git$/m);
    assert.match(all.stdout, /^a\.txt$/m);
    const again = await berth(d.socketPath, ['build', '--progress', 'plain', '-f', 'docker/sub/Dockerfile', `file://${repo}`], { timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /cache miss/);
    assert.match(again.stderr, /CACHED/);
  });

  await t.test('a repository over dumb HTTP (full fetch) and over git:// (shallow) on 127.0.0.1', async (t) => {
    const http = await serveStatic(t, repoRoot);
    const r = await berth(d.socketPath, ['build', '-q', '-t', 'remote:http', `${http}/app.git#v2`], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await catIn(d, 'remote:http', '/a.txt'), 'v2\n');
    const daemonUrl = await gitDaemon(t, repoRoot);
    const g = await berth(d.socketPath, ['build', '-q', '-t', 'remote:gitd', `${daemonUrl}/app.git#v2.0`], { timeoutMs: 120_000 });
    assert.equal(g.code, 0, g.stderr);
    assert.equal(await catIn(d, 'remote:gitd', '/a.txt'), 'v2\n');
  });

  await t.test('a repository over smart HTTP is fetched shallow, and its submodules come along', async (t) => {
    const smart = await serveSmartHttp(t, repoRoot);
    const r = await berth(d.socketPath, ['build', '-q', '-t', 'remote:smart', `${smart.url}/app.git#v2`], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(smart.requests.some((q) => q.startsWith('POST /app.git/git-upload-pack') && q.includes('deepen 1')), smart.requests.join('\n'));
    assert.equal(await catIn(d, 'remote:smart', '/a.txt'), 'v2\n');
    // A superproject whose submodule is served by git daemon (git refuses file:// submodules).
    const base = await mkdtemp(join(tmpdir(), 'berth-remote-sub-'));
    t.after(() => rm(base, { recursive: true, force: true }));
    const daemonUrl = await gitDaemon(t, base);
    await writeFiles(join(base, 'lib-work'), { 'lib.txt': 'from-submodule\n' });
    await git(join(base, 'lib-work'), ['init', '-q', '-b', 'main']);
    await git(join(base, 'lib-work'), ['add', '-A']);
    await git(join(base, 'lib-work'), ['commit', '-q', '-m', 'lib']);
    await git(base, ['clone', '-q', '--bare', join(base, 'lib-work'), join(base, 'lib.git')]);
    await writeFiles(join(base, 'top-work'), { Dockerfile: 'FROM busybox\nCOPY lib/lib.txt /lib.txt\n' });
    await git(join(base, 'top-work'), ['init', '-q', '-b', 'main']);
    await git(join(base, 'top-work'), ['submodule', '-q', 'add', `${daemonUrl}/lib.git`, 'lib']);
    await git(join(base, 'top-work'), ['add', '-A']);
    await git(join(base, 'top-work'), ['commit', '-q', '-m', 'top']);
    await git(base, ['clone', '-q', '--bare', join(base, 'top-work'), join(base, 'top.git')]);
    const sub = await berth(d.socketPath, ['build', '-q', '-t', 'remote:submodule', `file://${join(base, 'top.git')}`], { timeoutMs: 120_000 });
    assert.equal(sub.code, 0, sub.stderr);
    assert.equal(await catIn(d, 'remote:submodule', '/lib.txt'), 'from-submodule\n');
  });

  await t.test('the docker CLI builds a git URL and a tarball URL it fetches itself', async (t) => {
    const http = await serveStatic(t, repoRoot);
    const g = await d.docker(['build', '-q', '-t', 'docker:git', `${http}/app.git#v2`], { env: { ...d.env, ...LEGACY }, timeoutMs: 120_000 });
    assert.equal(g.code, 0, g.stderr);
    assert.equal(await catIn(d, 'docker:git', '/a.txt'), 'v2\n');
    const ctx = await makeContext(t, { Dockerfile: 'FROM busybox\nCOPY u.txt /u.txt\n', 'u.txt': 'url\n' });
    const tgz = `${ctx}.tgz`;
    t.after(() => rm(tgz, { force: true }));
    assert.equal((await runCommand('tar', ['-czf', tgz, '-C', ctx, '.'])).code, 0);
    const body = await readFile(tgz);
    const { url } = await serveHttp(t, '127.0.0.1', (_req, res) => res.end(body));
    const u = await d.docker(['build', '-q', '-t', 'docker:url', `${url}/ctx.tar.gz`], { env: { ...d.env, ...LEGACY }, timeoutMs: 120_000 });
    assert.equal(u.code, 0, u.stderr);
    assert.equal(await catIn(d, 'docker:url', '/u.txt'), 'url\n');
  });

  await t.test('a bad ref, a missing subdirectory and a missing repository fail naming what failed', async () => {
    const cases: Array<[string, RegExp]> = [
      [`file://${repo}#nosuch`, /cannot fetch ref "nosuch" from git repository "file:\/\/.*app\.git"/],
      [`file://${repo}#main:nope`, /subdirectory "nope" does not exist in git repository/],
      [`file://${repoRoot}/absent.git`, /cannot fetch the default branch from git repository/],
    ];
    for (const [url, re] of cases) {
      const r = await berth(d.socketPath, ['build', '-q', url], { timeoutMs: 120_000 });
      assert.notEqual(r.code, 0, url);
      assert.match(r.stderr, re);
    }
  });

  await t.test('POST /build?remote= builds a tarball URL, a Dockerfile URL and a git URL with dockerfile=', async (t) => {
    const ctx = await makeContext(t, { Dockerfile: 'FROM busybox\nCOPY t.txt /t.txt\n', 'alt/Dockerfile': 'FROM busybox\nCOPY t.txt /alt.txt\n', 't.txt': 'tarball\n' });
    const tgzPath = `${ctx}.tgz`;
    t.after(() => rm(tgzPath, { force: true }));
    const tarGz = await runCommand('tar', ['-czf', tgzPath, '-C', ctx, '.']);
    assert.equal(tarGz.code, 0, tarGz.stderr);
    const tgz = await readFile(tgzPath);
    const { url } = await serveHttp(t, '127.0.0.1', (req, res) => {
      if (req.url === '/ctx.tar.gz') res.end(tgz);
      else if (req.url === '/Dockerfile') res.writeHead(200, { 'content-type': 'text/plain' }).end('FROM busybox\nLABEL from=url\n');
      else res.writeHead(404).end('gone');
    });
    const build = (q: string) => d.request('POST', `/build?${q}`, undefined, { timeoutMs: 120_000 });
    const r1 = await build(`remote=${encodeURIComponent(`${url}/ctx.tar.gz`)}&t=remote:tgz`);
    assert.equal(r1.status, 200, r1.text);
    assert.match(r1.text, /Successfully tagged remote:tgz\\n/);
    assert.equal(await catIn(d, 'remote:tgz', '/t.txt'), 'tarball\n');
    const r2 = await build(`remote=${encodeURIComponent(`${url}/ctx.tar.gz`)}&dockerfile=alt/Dockerfile&t=remote:alt`);
    assert.equal(r2.status, 200, r2.text);
    assert.equal(await catIn(d, 'remote:alt', '/alt.txt'), 'tarball\n');
    const r3 = await build(`remote=${encodeURIComponent(`${url}/Dockerfile`)}&t=remote:df`);
    assert.equal(r3.status, 200, r3.text);
    const label = await d.docker(['image', 'inspect', '--format', '{{index .Config.Labels "from"}}', 'remote:df']);
    assert.equal(label.stdout.trim(), 'url');
    const r4 = await build(`remote=${encodeURIComponent(`file://${repo}#v2:`)}&dockerfile=Dockerfile&t=remote:api-git`);
    assert.equal(r4.status, 200, r4.text);
    assert.equal(await catIn(d, 'remote:api-git', '/a.txt'), 'v2\n');
  });

  await t.test('dockerode and docker-py build a remote= tarball and git URL', async (t) => {
    const ctx = await makeContext(t, { Dockerfile: 'FROM busybox\nCOPY c.txt /c.txt\n', 'c.txt': 'client\n' });
    const tgz = `${ctx}.tgz`;
    t.after(() => rm(tgz, { force: true }));
    assert.equal((await runCommand('tar', ['-czf', tgz, '-C', ctx, '.'])).code, 0);
    const body = await readFile(tgz);
    const { url } = await serveHttp(t, '127.0.0.1', (_req, res) => res.end(body));
    const docker = new Docker({ socketPath: d.socketPath });
    const stream = await docker.buildImage(undefined as unknown as string, { remote: `${url}/ctx.tar.gz`, t: 'dockerode:remote' });
    const output = await new Promise<Array<{ error?: string; aux?: { ID: string } }>>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => (err ? reject(err) : resolve(out as never))));
    assert.ok(output.some((l) => l.aux?.ID), JSON.stringify(output));
    assert.equal(await catIn(d, 'dockerode:remote', '/c.txt'), 'client\n');
    // docker-py treats http(s)://, git://, github.com/ and git@ paths as remote= (not file://).
    const http = await serveStatic(t, repoRoot);
    const py = [
      'import docker, sys',
      `c = docker.APIClient(base_url='unix://${d.socketPath}', version='1.41')`,
      'for line in c.build(path=sys.argv[1], tag=sys.argv[2], decode=True):',
      '    if "error" in line: sys.exit(line["error"])',
    ].join('\n');
    const r = await runCommand('python3', ['-c', py, `${http}/app.git#v2`, 'py:remote'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await catIn(d, 'py:remote', '/a.txt'), 'v2\n');
  });

  await t.test('remote= errors are HTTP statuses with a message, before any stream', async (t) => {
    const { url } = await serveHttp(t, '127.0.0.1', (_req, res) => res.writeHead(404).end('gone'));
    const port = await freePort();
    const cases: Array<[string, number, RegExp]> = [
      [`${url}/missing.tar`, 404, /HTTP 404: gone/],
      [`http://127.0.0.1:${port}/ctx.tar`, 500, /cannot fetch the build context from "http:\/\/127\.0\.0\.1:\d+\/ctx\.tar"/],
      [`file://${repo}#nosuch`, 500, /cannot fetch ref "nosuch"/],
      [`file://${repo}#main:nope`, 400, /subdirectory "nope" does not exist/],
      ['/etc', 400, /could not be recognized as a git or http\(s\) URL/],
    ];
    for (const [remote, status, re] of cases) {
      const r = await d.request('POST', `/build?remote=${encodeURIComponent(remote)}`, undefined, { timeoutMs: 60_000 });
      assert.equal(r.status, status, `${remote}: ${r.text}`);
      assert.match(r.json<{ message: string }>().message, re);
    }
  });

  await t.test('berth build takes a bare Dockerfile, a plain tar and an xz tar on stdin, and -f - with a directory', async (t) => {
    const df = await berth(d.socketPath, ['build', '-q', '-t', 'stdin:df', '-'], { input: 'FROM busybox\nRUN echo from-stdin > /m\n', timeoutMs: 120_000 });
    assert.equal(df.code, 0, df.stderr);
    assert.equal(await catIn(d, 'stdin:df', '/m'), 'from-stdin\n');
    const ctx = await makeContext(t, { Dockerfile: 'FROM busybox\nCOPY . /ctx/\n', 'x.txt': 'x\n' });
    for (const [flag, tag] of [[[], 'plain'], [['-J'], 'xz'], [['--zstd'], 'zstd']] as const) {
      const tarball = `${ctx}.${tag}`;
      t.after(() => rm(tarball, { force: true }));
      const mk = await runCommand('tar', ['-c', ...flag, '-f', tarball, '-C', ctx, '.']);
      assert.equal(mk.code, 0, mk.stderr);
      const r = await berth(d.socketPath, ['build', '-q', '-t', `stdin:${tag}`, '-'], { input: await readFile(tarball), timeoutMs: 120_000 });
      assert.equal(r.code, 0, `${tag}: ${r.stderr}\n${d.logs().slice(-3000)}`);
      assert.equal(await catIn(d, `stdin:${tag}`, '/ctx/x.txt'), 'x\n');
    }
    const dir = await makeContext(t, { 'y.txt': 'y\n', '.dockerignore': '*.log\n', 'z.log': 'z\n' });
    const f = await berth(d.socketPath, ['build', '-q', '-t', 'stdin:f', '-f', '-', dir], { input: 'FROM busybox\nCOPY . /ctx/\n', timeoutMs: 120_000 });
    assert.equal(f.code, 0, f.stderr);
    const ls = await d.docker(['run', '--rm', '--network', 'none', 'stdin:f', 'ls', '-a', '/ctx']);
    // The Dockerfile from stdin is not part of what COPY sees; .dockerignore is (it does not list itself), as with docker.
    assert.deepEqual(ls.stdout.split('\n').filter((l) => l && l !== '.' && l !== '..').sort(), ['.dockerignore', 'y.txt']);
    const both = await berth(d.socketPath, ['build', '-f', '-', '-'], { input: 'FROM busybox\n' });
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /can't use stdin for both build context and dockerfile/);
  });

  await t.test('the docker CLI builds from a Dockerfile on stdin, a gzip or bzip2 tar on stdin and -f- with a directory', async (t) => {
    const df = await d.docker(['build', '-q', '-t', 'docker:df', '-'], { input: 'FROM busybox\nRUN echo docker-stdin > /m\n', env: { ...d.env, ...LEGACY }, timeoutMs: 120_000 });
    assert.equal(df.code, 0, df.stderr);
    assert.equal(await catIn(d, 'docker:df', '/m'), 'docker-stdin\n');
    const ctx = await makeContext(t, { Dockerfile: 'FROM busybox\nCOPY . /ctx/\n', 'x.txt': 'x\n' });
    const tarball = `${ctx}.tgz`;
    t.after(() => rm(tarball, { force: true }));
    assert.equal((await runCommand('tar', ['-czf', tarball, '-C', ctx, '.'])).code, 0);
    const gz = await d.docker(['build', '-q', '-t', 'docker:tgz', '-'], { input: await readFile(tarball), env: { ...d.env, ...LEGACY }, timeoutMs: 120_000 });
    assert.equal(gz.code, 0, gz.stderr);
    assert.equal(await catIn(d, 'docker:tgz', '/ctx/x.txt'), 'x\n');
    // The docker CLI sends a compressed archive as it is: the daemon decompresses bzip2 too.
    const bz = `${ctx}.tbz`;
    t.after(() => rm(bz, { force: true }));
    assert.equal((await runCommand('tar', ['-cjf', bz, '-C', ctx, '.'])).code, 0);
    const b = await d.docker(['build', '-q', '-t', 'docker:tbz', '-'], { input: await readFile(bz), env: { ...d.env, ...LEGACY }, timeoutMs: 120_000 });
    assert.equal(b.code, 0, b.stderr);
    assert.equal(await catIn(d, 'docker:tbz', '/ctx/x.txt'), 'x\n');
    const dir = await makeContext(t, { 'y.txt': 'y\n' });
    const f = await d.docker(['build', '-q', '-t', 'docker:f', '-f-', dir], { input: 'FROM busybox\nCOPY . /ctx/\n', env: { ...d.env, ...LEGACY }, timeoutMs: 120_000 });
    assert.equal(f.code, 0, f.stderr);
    const ls = await d.docker(['run', '--rm', '--network', 'none', 'docker:f', 'ls', '-a', '/ctx']);
    assert.deepEqual(ls.stdout.split('\n').filter((l) => l && l !== '.' && l !== '..').sort(), ['y.txt']);
  });
});
