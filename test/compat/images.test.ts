// The real docker CLI against berthd for everything about images that needs no container:
// load, images (+filters/format/-q/--digests), inspect, history, tag, rmi, save, import,
// image prune and system df.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DOCKER_CLI, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { buildImage, legacyDockerArchive, ociArchive, tarOf, type FixtureImage } from '../../src/image/archive-fixtures.js';

const haveDocker = existsSync(DOCKER_CLI);

async function fixtures(): Promise<{ busybox: FixtureImage; app: FixtureImage }> {
  const base = await tarOf([{ name: 'bin/', type: 'dir' }, { name: 'bin/sh', data: '#!fake\n', mode: 0o755 }]);
  const etc = await tarOf([{ name: 'etc/', type: 'dir' }, { name: 'etc/motd', data: 'hello\n' }]);
  return {
    busybox: { layers: [base, etc], tags: ['busybox:latest'], labels: { 'org.example.kind': 'base' } },
    app: { layers: [base], tags: ['localhost:5000/team/app:1.0'], gzip: true, created: '2023-06-01T00:00:00Z' },
  };
}

async function ok(d: TestDaemon, args: string[], input?: string | Buffer): Promise<string> {
  const r = await d.docker(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

test('the docker CLI manages images on berthd', { skip: !haveDocker && `${DOCKER_CLI} is not installed` }, async (t) => {
  const d = await startTestDaemon(t);
  if (!d) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-compat-images-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { busybox, app } = await fixtures();
  const busyboxId = buildImage(busybox).configDigest;
  const appId = buildImage(app).configDigest;

  await t.test('docker load -i reads a docker-archive and an OCI layout', async () => {
    const legacy = join(dir, 'busybox.tar');
    await writeFile(legacy, await legacyDockerArchive([busybox]));
    assert.match(await ok(d, ['load', '-i', legacy]), /^Loaded image: busybox:latest$/m);
    const oci = join(dir, 'app.tar.gz');
    await writeFile(oci, gzipSync(await ociArchive([{ ...app, tags: [] }])));
    assert.match(await ok(d, ['load', '-i', oci]), new RegExp(`Loaded image ID: ${appId}`));
    await ok(d, ['tag', appId, 'localhost:5000/team/app:1.0']);
  });

  await t.test('docker images lists, filters and formats', async () => {
    const table = await ok(d, ['images']);
    assert.match(table, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE/m);
    assert.match(table, new RegExp(`^busybox\\s+latest\\s+${busyboxId.slice(7, 19)}`, 'm'));
    const fmt = await ok(d, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.deepEqual(fmt.trim().split('\n').sort(), ['busybox:latest', 'localhost:5000/team/app:1.0']);
    const q = await ok(d, ['images', '-q']);
    assert.deepEqual(q.trim().split('\n').sort(), [appId.slice(7, 19), busyboxId.slice(7, 19)].sort());
    assert.match(await ok(d, ['images', '--digests']), /DIGEST/);
    assert.equal((await ok(d, ['images', '--filter', 'reference=busy*', '--format', '{{.Repository}}'])).trim(), 'busybox');
    assert.equal((await ok(d, ['images', '--filter', 'label=org.example.kind=base', '-q'])).trim(), busyboxId.slice(7, 19));
    assert.equal((await ok(d, ['images', '--filter', 'dangling=true', '-q'])).trim(), '');
    assert.equal((await ok(d, ['images', '--filter', 'before=busybox', '-q'])).trim(), appId.slice(7, 19));
    const bad = await d.docker(['images', '--filter', 'nonsense=1']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'nonsense'/);
  });

  await t.test('docker image inspect and docker history show Docker\'s fields', async () => {
    const [info] = JSON.parse(await ok(d, ['image', 'inspect', 'busybox'])) as Array<Record<string, any>>;
    assert.equal(info!['Id'], busyboxId);
    assert.deepEqual(info!['RepoTags'], ['busybox:latest']);
    assert.deepEqual(info!['Config'].Cmd, ['sh']);
    assert.equal(info!['RootFS'].Type, 'layers');
    assert.equal(info!['RootFS'].Layers.length, 2);
    assert.equal(info!['GraphDriver'].Name, 'overlay2');
    assert.ok(info!['Metadata'].LastTagTime);
    assert.equal((await ok(d, ['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}}', busyboxId.slice(7, 15)])).trim(), 'linux/amd64');
    const missing = await d.docker(['image', 'inspect', 'nosuchimage']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nosuchimage/);

    const hist = await ok(d, ['history', 'busybox']);
    assert.match(hist, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT/m);
    assert.match(hist, /<missing>/);
    const rows = (await ok(d, ['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}', 'busybox'])).trim().split('\n');
    assert.equal(rows.length, 3);
    assert.ok(rows[0]!.startsWith(`${busyboxId}|`));
  });

  await t.test('docker inspect finds an image by name, docker images prints JSON lines', async () => {
    const [generic] = JSON.parse(await ok(d, ['inspect', 'busybox'])) as Array<Record<string, any>>;
    assert.equal(generic!['Id'], busyboxId);
    assert.equal((await ok(d, ['inspect', '--type', 'image', '-f', '{{index .RepoTags 0}}', 'busybox'])).trim(), 'busybox:latest');
    const lines = (await ok(d, ['images', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    assert.ok(lines.some((l) => l['Repository'] === 'busybox' && l['Tag'] === 'latest' && l['ID'] === busyboxId.slice(7, 19)));
  });

  await t.test('docker save of an id loads back from stdin, untagged', async () => {
    const tar = join(dir, 'piped.tar');
    await ok(d, ['save', '-o', tar, busyboxId.slice(7, 19)]);
    const r = await d.docker(['load', '-q'], { input: await readFile(tar) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Loaded image ID: ${busyboxId}`));
  });

  await t.test('docker tag adds names and rejects bad ones', async () => {
    await ok(d, ['tag', 'busybox', 'mine:v1']);
    await ok(d, ['tag', 'busybox', 'other/repo']);
    assert.match(await ok(d, ['images', '--format', '{{.Repository}}:{{.Tag}}']), /^mine:v1$/m);
    const bad = await d.docker(['tag', 'busybox', 'BAD::NAME']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid reference format/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    const missing = await d.docker(['tag', 'ghost', 'x']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: ghost:latest/);
  });

  await t.test('docker rmi untags, refuses ambiguous deletes and deletes when forced', async () => {
    assert.match(await ok(d, ['rmi', 'mine:v1']), /^Untagged: mine:v1$/m);
    const conflict = await d.docker(['rmi', busyboxId.slice(7, 19)]);
    assert.equal(conflict.code, 1);
    assert.match(
      conflict.stderr,
      new RegExp(`conflict: unable to delete ${busyboxId.slice(7, 19)} \\(must be forced\\) - image is referenced in multiple repositories`),
    );
    assert.match(await ok(d, ['rmi', 'other/repo']), /Untagged: other\/repo:latest/);
    const missing = await d.docker(['rmi', 'ghost']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: ghost:latest/);
  });

  await t.test('docker save writes an archive a fresh daemon loads back', async () => {
    const saved = join(dir, 'saved.tar');
    await ok(d, ['save', '-o', saved, 'busybox', 'localhost:5000/team/app:1.0']);
    const fresh = await startTestDaemon(t);
    if (!fresh) return;
    const out = await ok(fresh, ['load', '-i', saved]);
    assert.match(out, /Loaded image: busybox:latest/);
    assert.match(out, /Loaded image: localhost:5000\/team\/app:1.0/);
    assert.equal((await ok(fresh, ['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim(), busyboxId);
    await fresh.stop();
  });

  await t.test('docker import makes an image with --change applied', async () => {
    const rootfs = await tarOf([{ name: 'hello.txt', data: 'hi\n' }]);
    const out = await ok(d, ['import', '--change', 'CMD ["sh"]', '--change', 'ENV A=1', '-m', 'from a test', '-', 'imported:v1'], rootfs);
    assert.match(out.trim(), /^sha256:[a-f0-9]{64}$/);
    const [info] = JSON.parse(await ok(d, ['image', 'inspect', 'imported:v1'])) as Array<Record<string, any>>;
    assert.deepEqual(info!['Config'].Cmd, ['sh']);
    assert.deepEqual(info!['Config'].Env, ['A=1']);
    assert.equal(info!['Comment'], 'from a test');
  });

  await t.test('docker load of a corrupt archive fails with one line and changes nothing', async () => {
    const before = await ok(d, ['images', '-q', '--no-trunc']);
    const corrupt = join(dir, 'corrupt.tar');
    await writeFile(corrupt, (await legacyDockerArchive([{ ...busybox, tags: ['corrupt:1'] }])).subarray(0, 2000));
    const r = await d.docker(['load', '-i', corrupt]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid image archive/);
    assert.equal(await ok(d, ['images', '-q', '--no-trunc']), before);
  });

  await t.test('docker events reports image load, tag, untag, import and save', async () => {
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const out = await ok(d, ['events', '--since', '1', '--until', until, '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    const lines = out.trim().split('\n');
    assert.ok(lines.includes('load busybox:latest'), out);
    assert.ok(lines.includes('tag mine:v1'), out);
    assert.ok(lines.includes('untag mine:v1'), out);
    assert.ok(lines.some((l) => l.startsWith('import imported:v1')), out);
    assert.ok(lines.some((l) => l.startsWith('save ')), out);
  });

  await t.test('docker system df and docker image prune -a -f', async () => {
    const df = await ok(d, ['system', 'df']);
    assert.match(df, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE/m);
    assert.match(df, /^Images\s+3\s+0/m);
    const verbose = await ok(d, ['system', 'df', '-v']);
    assert.match(verbose, /^Images space usage:/m);
    assert.match(verbose, /^busybox\s+latest\s+[a-f0-9]{12}/m);
    assert.equal((await ok(d, ['image', 'prune', '-f', '--filter', 'until=1h'])).trim(), 'Total reclaimed space: 0B');
    const pruned = await ok(d, ['image', 'prune', '-a', '-f']);
    assert.match(pruned, /^deleted: sha256:/m);
    assert.match(pruned, /^untagged: busybox:latest$/m);
    assert.match(pruned, /Total reclaimed space: /);
    assert.equal((await ok(d, ['images', '-q'])).trim(), '');
  });
});
