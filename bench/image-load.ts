// Benchmark: `docker load` of a ~170 MB Debian image into berthd (and dockerd when it runs on
// /var/run/docker.sock, see bench/peers.ts),
// layer unpack against `tar -xf` of the same layer, and `docker images` latency with 200 images.
// Run as root: node --import tsx bench/image-load.ts
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { pack as tarPack } from 'tar-stream';
import { DOCKER_CLI, isRoot, startTestDaemon, type TestDaemon } from '../test/helpers/daemon.js';
import { tarOf } from '../src/image/archive-fixtures.js';
import { openStorage } from '../src/storage/index.js';
import { dockerdEnv } from './peers.js';

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
async function dockerArchive(layerPath: string, out: string, tag = 'bench/debian:bookworm'): Promise<void> {
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
  p.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [tag], Layers: ['layer0/layer.tar'] }]));
  p.finalize();
  await written;
}

/** CPU seconds of a process and its waited-for children (utime + stime + cutime + cstime). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

/** Wall time and CPU seconds of a command (through /usr/bin/time when installed). */
function timeWithCpu(cmd: string, args: string[]): { ms: number; cpu: number } {
  const timeBin = existsSync('/usr/bin/time');
  const start = process.hrtime.bigint();
  const r = timeBin
    ? spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...args], { timeout: 600_000 })
    : spawnSync(cmd, args, { timeout: 600_000 });
  const wall = ms(start);
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const m = /([\d.]+) ([\d.]+)\s*$/.exec(String(r.stderr));
  return { ms: wall, cpu: m ? Number(m[1]) + Number(m[2]) : Number.NaN };
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

    // Three loads of distinct images (the layer plus one small file, so each is unpacked in
    // full) and three `tar -xf` runs, interleaved; nothing is deleted until the end: on an ext4
    // without a journal, files created within ~30 s of a big delete pay for a scan of the freed
    // inodes (recently_deleted), which makes a load right after an rmi several times slower
    // whoever does it. CPU seconds (berthd and its children) are printed too: with the 2 cores
    // shared, they vary less than wall time.
    const runs = 3;
    const denv = dockerdEnv();
    const dockerdLoads: number[] = [];
    const loads: Array<{ ms: number; cpu: number }> = [];
    const tars: Array<{ ms: number; cpu: number }> = [];
    for (let i = 0; i < runs; i++) {
      const variant = join(work, `layer-${i}.tar`);
      await writeFile(join(work, `bench-run-${i}`), `run ${i}\n`);
      const cp = spawnSync('sh', ['-c', 'cp "$1" "$2" && tar -rf "$2" -C "$3" "bench-run-$4"', 'sh', layer, variant, work, String(i)], { timeout: 120_000 });
      if (cp.status !== 0) throw new Error(`cannot make layer variant: ${cp.stderr}`);
      const arch = join(work, `image-${i}.tar`);
      await dockerArchive(variant, arch, `bench/debian:run${i}`);
      await rm(variant);
      const cpu0 = await cpuSeconds(d!.pid);
      const load = timeCommand(DOCKER_CLI, ['load', '-q', '-i', arch], d!.env);
      if (!load.ok) throw new Error(`docker load failed: ${load.stderr}`);
      loads.push({ ms: load.ms, cpu: (await cpuSeconds(d!.pid)) - cpu0 });
      if (denv) {
        const peer = timeCommand(DOCKER_CLI, ['load', '-q', '-i', arch], denv);
        if (!peer.ok) throw new Error(`docker load into dockerd failed: ${peer.stderr}`);
        dockerdLoads.push(peer.ms);
      }
      await rm(arch);

      // The same layer unpacked by GNU tar, the floor for layer extraction.
      const target = join(work, `tar-x-${i}`);
      await mkdir(target);
      tars.push(timeWithCpu('tar', ['-xf', layer, '-C', target, '--numeric-owner', '--same-owner', '-p', '--xattrs', '--xattrs-include=*']));
    }
    const mLoad = median(loads.map((l) => l.ms));
    const mTar = median(tars.map((l) => l.ms));
    console.log(`berth: docker load median ${mLoad.toFixed(0)} ms (${(mb / (mLoad / 1000)).toFixed(0)} MB/s), CPU ${median(loads.map((l) => l.cpu)).toFixed(2)} s; runs ${loads.map((l) => l.ms.toFixed(0)).join(', ')} ms`);
    console.log(`tar -xf of the same layer: median ${mTar.toFixed(0)} ms, CPU ${median(tars.map((l) => l.cpu)).toFixed(2)} s; runs ${tars.map((l) => l.ms.toFixed(0)).join(', ')} ms`);
    console.log(`berth load / tar -xf = ${(mLoad / mTar).toFixed(2)}x (load also receives the archive over the socket, stores and fsyncs the blob, and checks every member)`);
    console.log(`load average: ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);

    // A load of an image already there: blobs and the layer exist, only hashing remains.
    const again = timeCommand(DOCKER_CLI, ['load', '-q', '-i', archive], d!.env);
    const again2 = timeCommand(DOCKER_CLI, ['load', '-q', '-i', archive], d!.env);
    console.log(`berth: docker load of an image already loaded: ${again2.ms.toFixed(0)} ms (its first load: ${again.ms.toFixed(0)} ms)`);

    // In process, the two halves of a load run one after the other (a load overlaps them).
    const parts = await loadBreakdown(layer, work);
    console.log(`  in process, one after the other: ingest ${parts.ingestMs.toFixed(0)} ms, apply ${parts.applyMs.toFixed(0)} ms`);

    if (denv) {
      const m = median(dockerdLoads);
      console.log(`dockerd: docker load median ${m.toFixed(0)} ms (${(mb / (m / 1000)).toFixed(0)} MB/s); runs ${dockerdLoads.map((x) => x.toFixed(0)).join(', ')} ms; berth/dockerd = ${(mLoad / m).toFixed(2)}`);
      spawnSync(DOCKER_CLI, ['rmi', ...Array.from({ length: runs }, (_, i) => `bench/debian:run${i}`)], { env: denv, timeout: 120_000 });
    } else console.log('dockerd: not running on /var/run/docker.sock, no ratio');

    await benchImagesList(d!);
  } finally {
    await d!.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
