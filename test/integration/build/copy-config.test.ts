// COPY/ADD directory semantics, ownership and modes, ADD of archives and loopback URLs,
// and the image config + history a build writes, checked inside the built image.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerBuild, importBusybox, makeContext, startBuildDaemon } from './fixtures.js';

test('COPY, ADD and the image config', async (t) => {
  const d = await startBuildDaemon(t);
  if (!d) return;
  t.after(() => d.stop());

  await t.test('COPY follows Docker directory, trailing-slash, glob, --chown, --chmod and --exclude rules', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: [
        'FROM busybox',
        'COPY dir /contents/',
        'COPY dir /named',
        'COPY one.txt /file-renamed',
        'COPY one.txt /into-dir/',
        'COPY *.md /docs/',
        'COPY --chown=33:33 --chmod=600 one.txt /owned.txt',
        'COPY --chown=www-data one.txt /owned-by-name.txt',
        'COPY --exclude=*.log dir/ /excl/',
        'COPY <<EOF /inline.txt',
        'inline-content',
        'EOF',
        'RUN set -e; test -f /contents/a.txt; test -f /contents/sub/b.txt; test ! -e /contents/dir; test -f /named/a.txt; \\',
        '    test -f /file-renamed; test -f /into-dir/one.txt; test -f /docs/x.md; test -f /docs/y.md; \\',
        '    test "$(stat -c %u:%g:%a /owned.txt)" = 33:33:600; test "$(stat -c %U /owned-by-name.txt)" = www-data; \\',
        '    test ! -e /excl/debug.log; test -f /excl/a.txt; test "$(cat /inline.txt)" = inline-content; \\',
        '    test "$(stat -c %a /tmp)" = 1777; echo copy-ok',
        '',
      ].join('\n'),
      'dir/a.txt': 'a\n',
      'dir/sub/b.txt': 'b\n',
      'dir/debug.log': 'log\n',
      'one.txt': '1\n',
      'x.md': 'x\n',
      'y.md': 'y\n',
    });
    const r = await dockerBuild(d, dir, []);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /copy-ok/);
  });

  await t.test('a base image without PATH gets the default one, as BuildKit gives every stage', async (t) => {
    await importBusybox(d, { tag: 'nopath:1', withPath: false });
    const dir = await makeContext(t, { Dockerfile: 'FROM nopath:1\nENV PATH=/opt/bin:$PATH\nRUN echo "path=$PATH"\n' });
    const r = await dockerBuild(d, dir, ['-t', 'withpath:1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const wanted = 'PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    assert.match(r.stdout + r.stderr, new RegExp(`path=${wanted.slice(5)}`));
    const env = await d.docker(['image', 'inspect', '-f', '{{json .Config.Env}}', 'withpath:1']);
    assert.deepEqual(JSON.parse(env.stdout), [wanted]);
  });

  await t.test('several sources need a destination ending in a slash', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nCOPY a b /dest\n', a: 'a', b: 'b' });
    const r = await dockerBuild(d, dir, []);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the destination must be a directory and end with a \//);
  });

  await t.test('ADD unpacks a local tar archive and downloads a loopback URL without unpacking it', async (t) => {
    const dir = await makeContext(t, { 'payload/inside.txt': 'packed\n' });
    execFileSync('tar', ['-czf', join(dir, 'archive.tar.gz'), '-C', join(dir, 'payload'), '.']);
    const server = createServer((_req, res) => res.end('downloaded\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      join(dir, 'Dockerfile'),
      `FROM busybox\nADD archive.tar.gz /unpacked/\nADD http://127.0.0.1:${port}/file.txt /dl/\nRUN test "$(cat /unpacked/inside.txt)" = packed && test "$(cat /dl/file.txt)" = downloaded && echo add-ok\n`,
    );
    const r = await dockerBuild(d, dir, ['--network', 'host']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /add-ok/);
  });

  await t.test('the config and history are written as Docker writes them', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: [
        'FROM busybox',
        'ENV APP_HOME=/srv/app MODE=prod',
        'WORKDIR $APP_HOME',
        'LABEL team=core',
        'EXPOSE 8080 53/udp',
        'USER nobody',
        'VOLUME /data',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=5s CMD true',
        'SHELL ["/bin/sh", "-ec"]',
        'ONBUILD RUN echo child',
        'ENTRYPOINT ["/bin/echo"]',
        'CMD ["hello"]',
        'RUN pwd > /tmp/pwd',
        '',
      ].join('\n'),
    });
    const r = await dockerBuild(d, dir, ['-t', 'cfg:1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const cfg = JSON.parse((await d.docker(['image', 'inspect', '-f', '{{json .Config}}', 'cfg:1'])).stdout) as Record<string, unknown>;
    assert.ok((cfg.Env as string[]).includes('APP_HOME=/srv/app'));
    assert.equal(cfg.WorkingDir, '/srv/app');
    assert.deepEqual(cfg.Labels, { team: 'core' });
    assert.deepEqual(Object.keys(cfg.ExposedPorts as object).sort(), ['53/udp', '8080/tcp']);
    assert.equal(cfg.User, 'nobody');
    assert.deepEqual(cfg.Volumes, { '/data': {} });
    assert.equal(cfg.StopSignal, 'SIGINT');
    assert.deepEqual(cfg.Shell, ['/bin/sh', '-ec']);
    assert.deepEqual(cfg.OnBuild, ['RUN echo child']);
    assert.deepEqual(cfg.Entrypoint, ['/bin/echo']);
    assert.deepEqual(cfg.Cmd, ['hello']);
    assert.deepEqual((cfg.Healthcheck as { Test: string[] }).Test, ['CMD-SHELL', 'true']);
    const hist = await d.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'cfg:1']);
    const lines = hist.stdout.trim().split('\n');
    assert.match(lines[0]!, /^RUN \/bin\/sh -ec pwd > \/tmp\/pwd \\?# buildkit\|/);
    assert.ok(lines.some((l) => l === 'LABEL team=core|0B'), hist.stdout);
    const run = await d.docker(['run', '--rm', 'cfg:1']);
    assert.equal(run.stdout, 'hello\n');
    // A child stage runs the ONBUILD trigger.
    const child = await makeContext(t, { Dockerfile: 'FROM cfg:1\nUSER root\nRUN test -f /tmp/pwd && echo child-ok\n' });
    const c = await dockerBuild(d, child, []);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.match(c.stdout, /child\n/);
  });

  await t.test('ENTRYPOINT drops an inherited CMD but keeps one set in the same stage', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox AS a\nENTRYPOINT ["/bin/echo"]\nFROM busybox AS b\nCMD ["x"]\nENTRYPOINT ["/bin/echo"]\n' });
    assert.equal((await dockerBuild(d, dir, ['--target', 'a', '-t', 'ep:a'])).code, 0);
    assert.equal((await dockerBuild(d, dir, ['--target', 'b', '-t', 'ep:b'])).code, 0);
    assert.equal((await d.docker(['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'ep:a'])).stdout.trim(), 'null');
    assert.equal((await d.docker(['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'ep:b'])).stdout.trim(), '["x"]');
  });

  await t.test('a context tar without directory members still names directories as sources', async () => {
    const { pack } = await import('tar-stream');
    const p = pack();
    p.entry({ name: 'Dockerfile' }, 'FROM busybox\nCOPY app /app/\nRUN test -f /app/sub/x.txt\n');
    p.entry({ name: 'app/sub/x.txt' }, 'x');
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(c as Buffer);
    const res = await d.request('POST', '/build', Buffer.concat(chunks), { headers: { 'Content-Type': 'application/x-tar' }, timeoutMs: 120_000 });
    assert.doesNotMatch(res.text, /errorDetail/, res.text);
  });

  await t.test('FROM scratch stages hold only what is copied into them', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: 'FROM scratch AS files\nCOPY a.txt /data/a.txt\nFROM busybox\nCOPY --from=files / /from-scratch/\nRUN ls -A /from-scratch && cat /from-scratch/data/a.txt\n',
      'a.txt': 'scratch-data\n',
    });
    const r = await dockerBuild(d, dir, ['-t', 'scratchy:1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\ndata\nscratch-data\n/);
    const files = await dockerBuild(d, dir, ['--target', 'files', '-t', 'scratchfiles:1']);
    assert.equal(files.code, 0, files.stderr);
    const layers = (await d.docker(['image', 'inspect', '-f', '{{len .RootFS.Layers}}', 'scratchfiles:1'])).stdout.trim();
    assert.equal(layers, '1');
  });

  await t.test('RUN heredocs, SHELL, USER and ENV reach the process like Docker', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: [
        'FROM busybox',
        'ENV GREETING=hello',
        'RUN <<EOF',
        'echo "$GREETING" > /tmp/heredoc',
        'echo second-line >> /tmp/heredoc',
        'EOF',
        'RUN cat <<EOF > /tmp/fed',
        'fed-by-heredoc',
        'EOF',
        'SHELL ["/bin/sh", "-ec"]',
        'USER nobody',
        'RUN test "$(id -u)" = 65534 && echo "$GREETING as $(id -un)" && cat /tmp/heredoc /tmp/fed',
        '',
      ].join('\n'),
    });
    const r = await dockerBuild(d, dir, []);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /hello as nobody\nhello\nsecond-line\nfed-by-heredoc\n/);
  });

  await t.test('docker build -f with a Dockerfile outside the context', async (t) => {
    const ctx = await makeContext(t, { 'data.txt': 'outside-df\n' });
    const other = await makeContext(t, { 'Custom.Dockerfile': 'FROM busybox\nCOPY data.txt /\nRUN cat /data.txt\n' });
    const r = await dockerBuild(d, ctx, ['-f', join(other, 'Custom.Dockerfile')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /outside-df/);
  });
});
