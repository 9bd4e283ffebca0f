// `docker build` (legacy builder protocol) and POST /build against a real berthd: multi-stage,
// cache hits and explained misses, .dockerignore, error messages, secrets, CLI flags.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pack as tarPack } from 'tar-stream';
import { berth } from '../cli/berth-cli.js';
import { dockerBuild, makeContext, startBuildDaemon } from './fixtures.js';

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = tarPack();
  for (const [name, content] of Object.entries(files)) p.entry({ name, mode: 0o644 }, content);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('the builder', async (t) => {
  const d = await startBuildDaemon(t);
  if (!d) return;
  t.after(() => d.stop());

  await t.test('multi-stage builds skip an unused stage and copy from independent stages', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: [
        'FROM busybox AS a',
        'RUN echo from-a > /a.txt',
        'FROM busybox AS unused',
        'RUN echo unused-stage-ran && exit 1',
        'FROM busybox AS b',
        'RUN echo from-b > /b.txt',
        'FROM busybox',
        'COPY --from=a /a.txt /out/',
        'COPY --from=b /b.txt /out/',
        'RUN cat /out/a.txt /out/b.txt',
        '',
      ].join('\n'),
    });
    const r = await dockerBuild(d, dir, ['-t', 'multi:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /unused-stage-ran/);
    assert.match(r.stdout, /from-a\nfrom-b/);
    const run = await d.docker(['run', '--rm', 'multi:1', 'cat', '/out/a.txt']);
    assert.equal(run.stdout, 'from-a\n');
  });

  await t.test('independent stages run at the same time', async () => {
    const ctx = await tarOf({
      Dockerfile: 'FROM busybox AS a\nRUN sleep 1 && echo a > /a\nFROM busybox AS b\nRUN sleep 1 && echo b > /b\nFROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n',
    });
    const res = await d.request('POST', '/build?berthprogress=1&nocache=1', ctx, { headers: { 'Content-Type': 'application/x-tar' }, timeoutMs: 120_000 });
    const events = res.text.trim().split('\n').map((l) => JSON.parse(l) as { berth?: { type: string; ref?: { text: string } } });
    const at = (type: string, text: string) => events.findIndex((e) => e.berth?.type === type && e.berth.ref?.text.startsWith(text));
    assert.ok(at('step-start', 'RUN sleep 1 && echo b') >= 0, res.text);
    assert.ok(at('step-start', 'RUN sleep 1 && echo b') < at('step-done', 'RUN sleep 1 && echo a'), 'stage b started its RUN before stage a finished');
    assert.ok(at('step-start', 'RUN sleep 1 && echo a') < at('step-done', 'RUN sleep 1 && echo b'), 'stage a started its RUN before stage b finished');
  });

  await t.test('a rebuild of an unchanged context is served from the cache and a touched late file re-runs only its steps', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: 'FROM busybox\nWORKDIR /app\nCOPY deps.txt ./\nRUN cat deps.txt > installed.txt\nCOPY src/ ./src/\nRUN ls src > listing.txt\nCMD ["cat", "listing.txt"]\n',
      'deps.txt': 'dep1\n',
      'src/main.txt': 'v1\n',
      'src/other.txt': 'x\n',
    });
    const first = await dockerBuild(d, dir, ['-t', 'cached:1']);
    assert.equal(first.code, 0, first.stderr);
    const second = await dockerBuild(d, dir, ['-t', 'cached:1']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal((second.stdout.match(/Using cache/g) ?? []).length, 6);
    assert.doesNotMatch(second.stdout, /Cache miss/);
    const id1 = /Successfully built (\w+)/.exec(first.stdout)![1];
    const id2 = /Successfully built (\w+)/.exec(second.stdout)![1];
    assert.equal(id1, id2);

    await writeFile(join(dir, 'src/main.txt'), 'v2\n');
    const third = await dockerBuild(d, dir, ['-t', 'cached:1']);
    assert.equal(third.code, 0, third.stderr);
    assert.equal((third.stdout.match(/Using cache/g) ?? []).length, 3);
    assert.match(third.stdout, /Step 5\/7 : COPY src\/ \.\/src\/\n ---> Cache miss: file changed: "src\/main.txt"/);
    assert.match(third.stdout, /Step 6\/7 : RUN ls src > listing.txt\n ---> Cache miss: an earlier step changed/);
  });

  await t.test('.dockerignore keeps files out of the context', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\nRUN test ! -e /ctx/secret.env && test -e /ctx/keep.txt && ls /ctx\n',
      '.dockerignore': 'secret.env\n*.log\n',
      'secret.env': 'TOKEN=1\n',
      'keep.txt': 'k\n',
      'debug.log': 'noise\n',
    });
    const r = await dockerBuild(d, dir, []);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /debug\.log/);
  });

  await t.test('a failing RUN reports the Dockerfile line, the exit code and the last output', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nRUN echo step-one\nRUN echo about-to-fail && exit 3\n' });
    const r = await dockerBuild(d, dir, ['-t', 'fails:1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Dockerfile:3: RUN echo about-to-fail && exit 3: .*exit code: 3/);
    assert.match(r.stderr, /> about-to-fail/);
    const img = await d.docker(['image', 'inspect', 'fails:1']);
    assert.notEqual(img.code, 0, 'no tag is written for a failed build');
  });

  await t.test('COPY --from an unknown stage and a missing COPY source fail with their line', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nCOPY --from=nosuchstage /x /y\n' });
    const r = await dockerBuild(d, dir, []);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Dockerfile:2: .*no stage or image named "nosuchstage"/);
    const dir2 = await makeContext(t, { Dockerfile: 'FROM busybox\nCOPY missing.txt /x\n' });
    const r2 = await dockerBuild(d, dir2, []);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /Dockerfile:2: COPY missing.txt: source "missing.txt" not found in the build context/);
  });

  await t.test('-t twice, --target, --build-arg, --label, --iidfile and -q', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: 'FROM busybox AS base\nARG GREETING=hi\nRUN echo "$GREETING" > /greeting\nFROM base AS final\nRUN echo final > /final\n',
    });
    const iid = join(dir, 'iid.txt');
    const r = await dockerBuild(d, dir, ['-t', 'flags:a', '-t', 'flags:b', '--target', 'base', '--build-arg', 'GREETING=hello', '--build-arg', 'UNUSED=1', '--label', 'org.test=yes', '--iidfile', iid]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[Warning\] One or more build-args \[UNUSED\] were not consumed/);
    assert.doesNotMatch(r.stdout, /echo final/);
    const id = (await readFile(iid, 'utf8')).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const ins = await d.docker(['image', 'inspect', '-f', '{{.Id}} {{index .Config.Labels "org.test"}}', 'flags:a']);
    assert.equal(ins.stdout.trim(), `${id} yes`);
    const b = await d.docker(['image', 'inspect', '-f', '{{.Id}}', 'flags:b']);
    assert.equal(b.stdout.trim(), id);
    const out = await d.docker(['run', '--rm', 'flags:a', 'cat', '/greeting']);
    assert.equal(out.stdout, 'hello\n');
    const q = await dockerBuild(d, dir, ['-q', '--target', 'base', '--build-arg', 'GREETING=hello', '--label', 'org.test=yes']);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(q.stdout.trim(), id);
  });

  await t.test('a changed build arg is named in the miss explanation', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nARG V=1\nRUN echo "$V"\n' });
    assert.equal((await dockerBuild(d, dir, ['--build-arg', 'V=1'])).code, 0);
    const r = await dockerBuild(d, dir, ['--build-arg', 'V=2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Cache miss: build arg changed: V/);
  });

  await t.test('a foreign platform, a missing base image and a syntax error are one-line errors', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nRUN true\n' });
    const p = await dockerBuild(d, dir, ['--platform', 'linux/s390x']);
    assert.notEqual(p.code, 0);
    assert.match(p.stderr, /Dockerfile:1: FROM busybox: base image "busybox" has no linux\/s390x variant/);
    const dir2 = await makeContext(t, { Dockerfile: 'FROM nosuchbase:1\nRUN true\n' });
    const m = await dockerBuild(d, dir2, ['--pull', '--cache-from', 'nosuchcache:1']);
    assert.notEqual(m.code, 0);
    assert.match(m.stdout, /cache-from image nosuchcache:1 not found locally/);
    assert.match(m.stderr, /Dockerfile:1: FROM nosuchbase:1: base image "nosuchbase:1" not found/);
    const bad = await d.request('POST', '/build?t=' + encodeURIComponent('Bad:Tag'), await tarOf({ Dockerfile: 'FROM busybox\n' }), { headers: { 'Content-Type': 'application/x-tar' } });
    assert.equal(bad.status, 400, 'a bad tag is refused before the stream starts');
    const dir3 = await makeContext(t, { Dockerfile: 'FROM busybox\nRUNN true\n' });
    const s = await dockerBuild(d, dir3, []);
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /Dockerfile:2: unknown instruction: RUNN/i);
  });

  await t.test('RUN --mount=type=cache keeps its contents between builds and out of the image', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nARG N\nRUN --mount=type=cache,target=/cache echo "$N" >> /cache/log && cat /cache/log | wc -l > /count\n' });
    assert.equal((await dockerBuild(d, dir, ['--build-arg', 'N=1'])).code, 0);
    const r = await dockerBuild(d, dir, ['--build-arg', 'N=2', '-t', 'cachemount:1']);
    assert.equal(r.code, 0, r.stderr);
    const out = await d.docker(['run', '--rm', 'cachemount:1', 'sh', '-c', 'cat /count; ls /cache 2>/dev/null | wc -l']);
    assert.equal(out.stdout.replace(/ /g, ''), '2\n0\n');
  });

  await t.test('RUN --mount=type=bind sees the context read-only without copying it into a layer', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/in.txt > /out.txt && ! touch /mnt/data/x 2>/dev/null\n', 'data/in.txt': 'bound\n' });
    const r = await dockerBuild(d, dir, ['-t', 'bind:1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = await d.docker(['run', '--rm', 'bind:1', 'sh', '-c', 'cat /out.txt; test -e /mnt/data/in.txt || echo not-in-layer']);
    assert.equal(out.stdout, 'bound\nnot-in-layer\n');
  });

  await t.test('docker build without DOCKER_BUILDKIT falls back to the legacy builder', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nRUN echo default-mode\n' });
    const r = await dockerBuild(d, dir, ['-t', 'defaultmode:1'], { buildkit: true });
    assert.equal(r.code, 0, r.stderr);
    const ins = await d.docker(['image', 'inspect', 'defaultmode:1']);
    assert.equal(ins.code, 0);
  });

  await t.test('a build secret is readable in its RUN and absent from every layer and the history', async () => {
    const secretFile = join(d.root, 'token.txt');
    await writeFile(secretFile, 'S3CRET-VALUE-4711', { mode: 0o600 });
    const ctx = await tarOf({ Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=tok cat /run/secrets/tok > /dev/null && test -s /run/secrets/tok && echo ok > /done\n' });
    const q = new URLSearchParams({ t: 'secret:1', berthsecrets: JSON.stringify([{ id: 'tok', src: secretFile }]) });
    const res = await d.request('POST', `/build?${q}`, ctx, { headers: { 'Content-Type': 'application/x-tar' }, timeoutMs: 120_000 });
    assert.equal(res.status, 200);
    assert.doesNotMatch(res.text, /errorDetail/, res.text);
    const saved = await d.docker(['save', 'secret:1'], { timeoutMs: 60_000 });
    assert.equal(saved.code, 0);
    assert.ok(!saved.stdout.includes('S3CRET-VALUE-4711'), 'secret value found in the saved image');
    const stub = await d.docker(['run', '--rm', 'secret:1', 'sh', '-c', 'test -e /run/secrets/tok || test -e /run/secrets || echo clean; cat /done']);
    assert.equal(stub.stdout, 'clean\nok\n', 'secret mount point left in a layer');
    const hist = await d.docker(['history', '--no-trunc', 'secret:1']);
    assert.doesNotMatch(hist.stdout, /S3CRET/);
  });

  await t.test('berth build shows BuildKit-like plain progress with CACHED steps and explained misses', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt\n',
      'a.txt': 'one\n',
      '.dockerignore': 'ignored.txt\n',
      'ignored.txt': 'nope\n',
    });
    const iid = join(dir, 'iid');
    const first = await berth(d.socketPath, ['build', '--progress', 'plain', '-t', 'cli:1', '--iidfile', iid, dir], { timeoutMs: 120_000 });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /#\d+ \[2\/3\] COPY a.txt \/a.txt/);
    assert.match(first.stderr, /#\d+ one/);
    const second = await berth(d.socketPath, ['build', '--progress', 'plain', '-t', 'cli:1', dir], { timeoutMs: 120_000 });
    assert.equal((second.stderr.match(/CACHED/g) ?? []).length, 2, second.stderr);
    await writeFile(join(dir, 'a.txt'), 'two\n');
    const third = await berth(d.socketPath, ['build', '-q', '--explain', '--progress', 'plain', dir], { timeoutMs: 120_000 });
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const id = (await readFile(iid, 'utf8')).trim();
    assert.match(id, /^sha256:/);
    const fail = await berth(d.socketPath, ['build', '--progress', 'plain', '-f', join(dir, 'nope'), dir]);
    assert.notEqual(fail.code, 0);
  });

  await t.test('berth build --output writes the filesystem, a tar of it, or a docker archive', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nRUN echo out > /result.txt\n' });
    const local = join(dir, 'out-dir');
    const r = await berth(d.socketPath, ['build', '--progress', 'plain', '-o', `type=local,dest=${local}`, dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(local, 'result.txt'), 'utf8'), 'out\n');
    const archive = join(dir, 'img.tar');
    const s = await berth(d.socketPath, ['build', '-q', '-o', `type=docker,dest=${archive}`, dir], { timeoutMs: 120_000 });
    assert.equal(s.code, 0, s.stderr);
    assert.ok((await readFile(archive)).includes(Buffer.from('manifest.json')));
    const ps = await d.docker(['ps', '-aq']);
    assert.equal(ps.stdout.trim(), '', 'the export container is removed');
  });

  await t.test('berth build --explain names the changed file', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\n', 'a.txt': '1\n' });
    assert.equal((await berth(d.socketPath, ['build', '--progress', 'plain', dir], { timeoutMs: 120_000 })).code, 0);
    await writeFile(join(dir, 'a.txt'), '2\n');
    const r = await berth(d.socketPath, ['build', '--progress', 'tty', '--explain', dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /cache miss: file changed: "a.txt"/);
  });

  await t.test('berth lint reports findings with their line', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nRUNN echo hi\n' });
    const r = await berth(undefined, ['lint', join(dir, 'Dockerfile')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /Dockerfile:2: error: .*RUNN/);
  });

  await t.test('a client that goes away mid-RUN leaves no container, mount or snapshot behind', async () => {
    const ctx = await tarOf({ Dockerfile: 'FROM busybox\nRUN echo started && sleep 60\n' });
    const res = d.request('POST', '/build', ctx, { headers: { 'Content-Type': 'application/x-tar' }, timeoutMs: 3000 });
    await assert.rejects(res);
    // The daemon notices the disconnect, kills the step and cleans up; poll until it has.
    const { readdir } = await import('node:fs/promises');
    for (let i = 0; i < 100; i++) {
      const snaps = (await readdir(join(d.dataRoot, 'snapshots')).catch(() => [] as string[])).filter((n) => n.startsWith('build-'));
      const bundles = await readdir(join(d.execRoot, 'oneshot')).catch(() => [] as string[]);
      if (snaps.length === 0 && bundles.length === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('a build snapshot or one-off bundle is still there 10 s after the client left');
  });

  await t.test('--cache-from reuses the steps of a loaded image that has no local build cache', async (t) => {
    const dir = await makeContext(t, { Dockerfile: 'FROM busybox\nENV STAGE=prod\nWORKDIR /w\nCOPY a.txt ./\nRUN cat a.txt > b.txt\nCMD ["cat", "b.txt"]\n', 'a.txt': 'cache-from\n' });
    assert.equal((await dockerBuild(d, dir, ['-t', 'cfsrc:1'])).code, 0);
    const diffIds = async (ref: string) => (await d.docker(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', ref])).stdout.trim();
    const before = await diffIds('cfsrc:1');
    const archive = join(dir, 'img.tar');
    assert.equal((await d.docker(['save', '-o', archive, 'cfsrc:1'])).code, 0);
    assert.equal((await d.docker(['rmi', 'cfsrc:1'])).code, 0);
    assert.equal((await d.docker(['load', '-i', archive])).code, 0);
    const r = await dockerBuild(d, dir, ['--cache-from', 'cfsrc:1', '-t', 'cfdst:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stdout.match(/Using cache/g) ?? []).length, 5, r.stdout);
    assert.doesNotMatch(r.stdout, /Cache miss/);
    assert.equal(await diffIds('cfdst:1'), before);
    assert.equal((await d.docker(['run', '--rm', 'cfdst:1'])).stdout, 'cache-from\n');
  });

  await t.test('system df counts the build cache and builder prune empties it', async () => {
    const df = await d.request('GET', '/system/df');
    assert.ok((df.json<{ BuildCache: unknown[] }>().BuildCache ?? []).length > 0);
    const pr = await d.request('POST', '/build/prune');
    assert.equal(pr.status, 200);
    const df2 = await d.request('GET', '/system/df');
    assert.equal(df2.json<{ BuildCache: unknown[] }>().BuildCache.length, 0);
    assert.equal((await d.docker(['image', 'inspect', 'cached:1'])).code, 0, 'tagged images survive the prune');
  });
});
