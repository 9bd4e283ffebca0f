// ADD --checksum against an HTTP server on 127.0.0.1 (verified, keyed by the checksum, a
// mismatch names the line and both digests) and symbolic COPY/ADD --chmod on files and dirs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { dockerBuild, makeContext, startBuildDaemon } from '../build/fixtures.js';
import { serveHttp } from './http-server.js';

test('ADD --checksum and symbolic --chmod', async (t) => {
  const d = await startBuildDaemon(t);
  if (!d) return;
  t.after(() => d.stop());
  const body = 'pinned download\n';
  const good = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  let requests = 0;
  const server = await serveHttp(t, '127.0.0.1', (_req, res) => {
    requests++;
    res.end(body);
  });
  const url = `${server.url}/data.txt`;

  await t.test('a download with the pinned digest is added, and a rebuild is cached without downloading', async (t) => {
    const dir = await makeContext(t, { Dockerfile: `FROM busybox\nADD --checksum=${good} ${url} /pinned/\nRUN cat /pinned/data.txt\n` });
    const r = await dockerBuild(d, dir, ['-t', 'pinned:1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /pinned download/);
    assert.equal(requests, 1);
    const again = await dockerBuild(d, dir, ['-t', 'pinned:1']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 2);
    assert.equal(requests, 1, 'the cache key is the checksum: no download on a hit');
  });

  await t.test('a download whose digest differs fails naming the line, the expected and the actual digest', async (t) => {
    const wrong = `sha256:${'0'.repeat(64)}`;
    const dir = await makeContext(t, { Dockerfile: `FROM busybox\nRUN true\nADD --checksum=${wrong} ${url} /x\n` });
    const r = await dockerBuild(d, dir, ['-t', 'notpinned:1']);
    assert.notEqual(r.code, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /Dockerfile:3: /);
    assert.ok(out.includes(`expected ${wrong}`), out);
    assert.ok(out.includes(`got ${good}`), out);
    const img = await d.docker(['image', 'inspect', 'notpinned:1']);
    assert.notEqual(img.code, 0, 'no tag after a failed build');
  });

  await t.test('a checksum on a local source is an error', async (t) => {
    const dir = await makeContext(t, { Dockerfile: `FROM busybox\nADD --checksum=${good} local.txt /x\n`, 'local.txt': 'x' });
    const r = await dockerBuild(d, dir, []);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /Dockerfile:2: .*checksum requires HTTP\(S\) or Git sources/);
  });

  await t.test('symbolic --chmod applies chmod(1) rules to files and directories', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: [
        'FROM busybox',
        'COPY --chmod=u+x run.sh /m/ux',
        'COPY --chmod=go-w open.txt /m/gow',
        'COPY --chmod=a=r,u+w run.sh /m/ar',
        'COPY --chmod=+x run.sh /m/px',
        'COPY --chmod=u=rwX,go=rX tree/ /m/tree/',
        'COPY --chmod=0640 run.sh /m/octal',
        `ADD --chmod=g+r ${url} /m/dl`,
        'RUN stat -c "%n %a" /m/ux /m/gow /m/ar /m/px /m/tree/sub /m/tree/sub/f /m/tree/exe /m/octal /m/dl',
        '',
      ].join('\n'),
      'run.sh': 'echo hi\n',
      'open.txt': 'x',
      'tree/sub/f': 'f',
      'tree/exe': 'e',
    });
    const { chmod } = await import('node:fs/promises');
    const { join } = await import('node:path');
    await chmod(join(dir, 'run.sh'), 0o644);
    await chmod(join(dir, 'open.txt'), 0o666);
    await chmod(join(dir, 'tree/sub'), 0o700);
    await chmod(join(dir, 'tree/sub/f'), 0o600);
    await chmod(join(dir, 'tree/exe'), 0o700);
    const r = await dockerBuild(d, dir, ['--no-cache']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const want = ['/m/ux 744', '/m/gow 644', '/m/ar 644', '/m/px 755', '/m/tree/sub 755', '/m/tree/sub/f 644', '/m/tree/exe 755', '/m/octal 640', '/m/dl 640'];
    for (const w of want) assert.ok(r.stdout.includes(w), `${w} in\n${r.stdout}`);
  });
});
