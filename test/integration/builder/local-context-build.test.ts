// `berth build` on the daemon's host sends the context directory's path (the daemon advertises
// `Berth-Build-Context: local` on /_ping) instead of a tar: the daemon walks it with
// .dockerignore and keeps a stat-keyed file-hash index. The result is the same image as a tar
// upload (berth with BERTH_BUILD_CONTEXT=tar, and docker build), byte for byte.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { berth } from '../cli/berth-cli.js';
import { dockerBuild, makeContext, startBuildDaemon } from '../build/fixtures.js';

test('berth build with a local context', async (t) => {
  const d = await startBuildDaemon(t);
  if (!d) return;
  t.after(() => d.stop());

  await t.test('the daemon reads the directory in place and gives the image a tar upload gives', async (t) => {
    const dir = await makeContext(t, {
      Dockerfile: [
        'FROM busybox',
        'WORKDIR /app',
        'COPY deps.txt ./',
        'RUN cat deps.txt > installed.txt',
        'COPY src/ ./src/',
        'RUN --mount=type=bind,target=/ctx ls /ctx/src > /bound.txt',
        'RUN ls -a src > listing.txt',
        '',
      ].join('\n'),
      '.dockerignore': '**/*.tmp\n',
      'deps.txt': 'dep1\n',
      'src/main.txt': 'v1\n',
      'src/other.txt': 'x\n',
      'src/junk.tmp': 'ignored\n',
    });
    const iid = join(dir, '..', `iid-${Date.now()}`);
    t.after(() => import('node:fs/promises').then((fs) => fs.rm(iid, { force: true })));
    const first = await berth(d.socketPath, ['build', '--progress', 'plain', '--iidfile', iid, '-t', 'local:1', dir], { timeoutMs: 120_000 });
    assert.equal(first.code, 0, first.stderr);
    const id = await readFile(iid, 'utf8');
    const listing = await d.docker(['run', '--rm', '--network', 'none', 'local:1', 'sh', '-c', 'cat listing.txt /bound.txt']);
    assert.doesNotMatch(listing.stdout, /junk\.tmp/);
    assert.match(listing.stdout, /main\.txt/);

    // Same context through a tar: every step cached, same image.
    const viaTar = await berth(d.socketPath, ['build', '--progress', 'plain', '--iidfile', iid, dir], { timeoutMs: 120_000, env: { BERTH_BUILD_CONTEXT: 'tar' } });
    assert.equal(viaTar.code, 0, viaTar.stderr);
    assert.equal(await readFile(iid, 'utf8'), id);
    assert.doesNotMatch(viaTar.stderr, /cache miss/);
    const viaDocker = await dockerBuild(d, dir, ['-q']);
    assert.equal(viaDocker.code, 0, viaDocker.stderr);
    assert.equal(viaDocker.stdout.trim(), id);

    // Unchanged: all cached; one late file changed: only its steps run again, the file named.
    const again = await berth(d.socketPath, ['build', '--progress', 'plain', dir], { timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /cache miss/);
    // The daemon hashed the files in place and keeps their digests by stat data (files changed
    // within the last second are not remembered: the first build's were new).
    const index = JSON.parse(await readFile(join(d.dataRoot, 'builder', 'file-index.json'), 'utf8')) as { files: Record<string, [string, string]> };
    assert.ok(index.files[join(dir, 'src/main.txt')], Object.keys(index.files).join(', '));
    await writeFile(join(dir, 'src/main.txt'), 'v2\n');
    const touched = await berth(d.socketPath, ['build', '--progress', 'plain', dir], { timeoutMs: 120_000 });
    assert.equal(touched.code, 0, touched.stderr);
    assert.match(touched.stderr, /file changed: "src\/main\.txt"/);
    assert.match(touched.stderr, /RUN cat deps\.txt > installed\.txt\n#\d+ CACHED/);
  });

  await t.test('a Dockerfile outside the context still goes as a tar', async (t) => {
    const dir = await makeContext(t, { 'ctx/a.txt': 'a\n', 'Dockerfile.out': 'FROM busybox\nCOPY a.txt /\n' });
    const r = await berth(d.socketPath, ['build', '--progress', 'plain', '-f', join(dir, 'Dockerfile.out'), join(dir, 'ctx')], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
  });
});
