// Benchmark: `docker load` of a ~170 MB Debian image into berthd (and dockerd when installed),
// layer unpack against `tar -xf` of the same layer, and `docker images` latency with 200 images.
// Run as root: node --import tsx bench/image-load.ts
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { pack as tarPack } from 'tar-stream';
import { DOCKER_CLI, isRoot, startTestDaemon, type TestDaemon } from '../test/helpers/daemon.js';
import { tarOf } from '../src/image/archive-fixtures.js';
import { openStorage } from '../src/storage/index.js';

const CACHE_DIR = '/var/cache/berth';

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The rootfs tarball: the cached mmdebstrap minbase bookworm, else a tar of part of /usr. */
async function rootfsTar(work: string): Promise<string> {
  if (existsSync(CACHE_DIR)) {
    for (const name of (await readdir(CACHE_DIR)).sort()) {
      if (/bookworm.*\.tar$/.test(name)) return join(CACHE_DIR, name);
    }
  }
  const out = join(work, 'usr.tar');
  const r = spawnSync('tar', ['-cf', out, '-C', '/', 'usr/bin', 'usr/sbin', 'usr/libexec'], { timeout: 120_000 });
  if (r.status !== 0) throw new Error(`tar of /usr failed: ${r.stderr}`);
  return out;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/** A legacy docker-archive with the rootfs as its one layer, streamed to disk. */
async function dockerArchive(layerPath: string, out: string): Promise<void> {
  const size = (await stat(layerPath)).size;
  const diffId = await sha256File(layerPath);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: new Date().toISOString(),
    config: { Cmd: ['bash'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: new Date().toISOString(), created_by: 'mmdebstrap --variant=minbase bookworm' }],
  });
  const configHex = createHash('sha256').update(config).digest('hex');
  const p = tarPack();
  const written = pipeline(p, createWriteStream(out));
  const entry = p.entry({ name: 'layer0/layer.tar', size });
  await pipeline(createReadStream(layerPath), entry as unknown as NodeJS.WritableStream);
  p.entry({ name: `${configHex}.json` }, config);
  p.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: `${configHex}.json`, RepoTags: ['bench/debian:bookworm'], Layers: ['layer0/layer.tar'] }]));
  p.finalize();
  await written;
}

function timeCommand(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { ms: number; ok: boolean; stderr: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: env ?? process.env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  return { ms: ms(start), ok: r.status === 0, stderr: String(r.stderr ?? '') };
}

async function benchImagesList(d: TestDaemon): Promise<void> {
  const startImport = process.hrtime.bigint();
  for (let i = 0; i < 200; i++) {
    const body = await tarOf([{ name: 'id.txt', data: `image ${i}\n` }]);
    const r = await d.request('POST', `/images/create?fromSrc=-&repo=bench/tiny&tag=t${i}`, body, {
      headers: { 'Content-Type': 'application/x-tar' },
      timeoutMs: 30_000,
    });
    if (r.status !== 200) throw new Error(`import ${i} failed: ${r.status} ${r.text}`);
  }
  console.log(`import of 200 tiny images: ${(ms(startImport) / 200).toFixed(1)} ms/image`);
  const api: number[] = [];
  for (let i = 0; i < 30; i++) {
    const start = process.hrtime.bigint();
    const r = await d.request('GET', '/v1.51/images/json');
    api.push(ms(start));
    if (r.status !== 200 || r.json<unknown[]>().length < 200) throw new Error(`list failed: ${r.status}`);
  }
  const cli: number[] = [];
  for (let i = 0; i < 5; i++) cli.push(timeCommand(DOCKER_CLI, ['images', '-q'], d.env).ms);
  console.log(`GET /images/json with ${200 + 1} images: median ${median(api).toFixed(1)} ms (min ${Math.min(...api).toFixed(1)}; target < 30 ms)`);
  console.log(`docker images -q (CLI wall time, incl. CLI start): median ${median(cli).toFixed(0)} ms`);
}

async function loadBreakdown(layer: string, work: string): Promise<{ ingestMs: number; applyMs: number }> {
  const root = join(work, 'breakdown');
  const storage = await openStorage(root);
  let start = process.hrtime.bigint();
  const blob = await storage.content.ingest(createReadStream(layer), {});
  const ingestMs = ms(start);
  start = process.hrtime.bigint();
  await storage.layers.apply(undefined, storage.content.read(blob.digest), {});
  const applyMs = ms(start);
  await rm(root, { recursive: true, force: true });
  return { ingestMs, applyMs };
}

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('skipped: the benchmark starts berthd, which needs root');
    return;
  }
  if (!existsSync(DOCKER_CLI)) {
    console.log(`skipped: ${DOCKER_CLI} is not installed`);
    return;
  }
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-image-'));
  const d = await startTestDaemon(undefined, { logLevel: 'warn' });
  try {
    const layer = await rootfsTar(work);
    const archive = join(work, 'image.tar');
    await dockerArchive(layer, archive);
    const mb = (await stat(archive)).size / 1e6;
    console.log(`image: ${layer} as a docker-archive of ${mb.toFixed(0)} MB`);

    const load = timeCommand(DOCKER_CLI, ['load', '-q', '-i', archive], d!.env);
    if (!load.ok) throw new Error(`docker load failed: ${load.stderr}`);
    console.log(`berth: docker load ${load.ms.toFixed(0)} ms (${(mb / (load.ms / 1000)).toFixed(0)} MB/s)`);

    // The same layer unpacked by GNU tar, the floor for layer extraction.
    const target = join(work, 'tar-x');
    await mkdir(target);
    const tarX = timeCommand('tar', ['-xf', layer, '-C', target]);
    console.log(`tar -xf of the same layer: ${tarX.ms.toFixed(0)} ms; berth load / tar -xf = ${(load.ms / tarX.ms).toFixed(2)}x (load also stores the blob and verifies digests)`);
    await rm(target, { recursive: true, force: true });

    // A second load of the same image: blobs and the layer exist, only hashing remains.
    const again = timeCommand(DOCKER_CLI, ['load', '-q', '-i', archive], d!.env);
    console.log(`berth: docker load again (layer present): ${again.ms.toFixed(0)} ms`);

    // Where the time goes, in process: the content-store ingest (hash + write + fsync) and the
    // layer apply (extract with diffID check) that make up a load.
    const parts = await loadBreakdown(layer, work);
    console.log(`  of which, in process: ingest ${parts.ingestMs.toFixed(0)} ms, apply ${parts.applyMs.toFixed(0)} ms`);

    const dockerd = spawnSync('sh', ['-c', 'command -v dockerd'], { timeout: 5_000 });
    if (dockerd.status === 0) console.log('dockerd is installed but this benchmark does not start it (it would take over /var/run/docker.sock); compare by hand');
    else console.log('dockerd: not installed, no ratio');

    await benchImagesList(d!);
  } finally {
    await d!.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
