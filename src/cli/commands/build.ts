// berth build: packs the context (.dockerignore applied, as the docker CLI does) into a tar
// stream (stdin and URL contexts: build-context.ts), sends it to POST /build with berth's
// structured progress, and shows a BuildKit-like display (`--progress plain|tty|auto|quiet`),
// cache hits, misses with their reason, timings.
import { createReadStream } from 'node:fs';
import { readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pack as tarPack, type Pack } from 'tar-stream';
import type { BuildStreamLine, EngineClient } from '../../client/index.js';
import { readJsonLines } from '../../client/index.js';
import { loadDockerignore, walkContext } from '../../builder/dockerfile/index.js';
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { progressView, type Mode } from './build-progress.js';
import { resolveBuildContext } from './build-context.js';

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  return typeof v === 'string' ? [v] : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function keyValues(items: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items) {
    const i = it.indexOf('=');
    if (i === 0) throw new BerthError('invalid-argument', `invalid ${what} "${it}": expected KEY=VALUE`);
    if (i < 0) {
      // `--build-arg NAME` takes the value from the environment, as docker does.
      const env = process.env[it];
      if (env !== undefined) out[it] = env;
      continue;
    }
    out[it.slice(0, i)] = it.slice(i + 1);
  }
  return out;
}

function parseSecret(spec: string): { id: string; src: string } {
  const fields = Object.fromEntries(spec.split(',').map((f) => {
    const i = f.indexOf('=');
    return i < 0 ? [f, ''] : [f.slice(0, i), f.slice(i + 1)];
  }));
  const id = fields['id'];
  const src = fields['src'] ?? fields['source'];
  if (!id || !src) throw new BerthError('invalid-argument', `invalid secret "${spec}": expected id=ID,src=PATH`);
  return { id, src: resolve(src) };
}

const SMALL_FILE = 256 * 1024;

function entryBuffer(pack: Pack, header: Parameters<Pack['entry']>[0], data: Buffer): Promise<void> {
  if (data.length !== header.size) throw new BerthError('conflict', `file "${header.name}" changed while the context was sent`);
  return new Promise((res, rej) => pack.entry(header, data, (err) => (err ? rej(err) : res())));
}

function entry(pack: Pack, header: Parameters<Pack['entry']>[0], body?: Readable): Promise<void> {
  return new Promise((res, rej) => {
    const w = pack.entry(header, (err) => (err ? rej(err) : res()));
    if (body) {
      body.on('error', rej);
      body.pipe(w);
    }
  });
}

/**
 * The context as a tar stream. A Dockerfile outside the context (or read from stdin) is added
 * under a hidden name that `.dockerignore` then lists, as the docker CLI does, so the daemon
 * reads it but COPY never sees it.
 */
export function contextTar(root: string, dockerfile: string | { text: Buffer }, matcher: Awaited<ReturnType<typeof loadDockerignore>>): { stream: Readable; dockerfileName: string; done: Promise<{ files: number }> } {
  const pack = tarPack();
  const out = new PassThrough();
  pack.pipe(out);
  const relDf = typeof dockerfile === 'string' ? relative(root, dockerfile) : '..';
  const inside = !relDf.startsWith('..') && !isAbsolute(relDf);
  const dockerfileName = inside ? relDf.split('\\').join('/') : `.dockerfile.${Math.random().toString(16).slice(2, 14)}`;
  const m = matcher?.matcher.keeping([dockerfileName, '.dockerignore']);
  const hiding = (ignore: Buffer) => Buffer.concat([ignore, Buffer.from(`\n${dockerfileName}\n`)]);
  const done = (async () => {
    let files = 0;
    let sawIgnore = false;
    for await (const e of walkContext(root, m)) {
      const st = e.stats;
      const base = { name: e.path, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
      if (st.isDirectory()) await entry(pack, { ...base, type: 'directory' });
      else if (st.isSymbolicLink()) await entry(pack, { ...base, type: 'symlink', linkname: await readlink(e.absPath) });
      else if (st.isFile() && !inside && e.path === '.dockerignore') {
        sawIgnore = true;
        const text = hiding(await readFile(e.absPath));
        await entryBuffer(pack, { ...base, type: 'file', size: text.length }, text);
      } else if (st.isFile()) {
        files++;
        // Small files in one read: a stream per file costs more than the bytes themselves.
        if (st.size <= SMALL_FILE) await entryBuffer(pack, { ...base, type: 'file', size: st.size }, await readFile(e.absPath));
        else await entry(pack, { ...base, type: 'file', size: st.size }, createReadStream(e.absPath));
      }
    }
    if (typeof dockerfile !== 'string') {
      await entryBuffer(pack, { name: dockerfileName, mode: 0o600, mtime: new Date(), size: dockerfile.text.length, type: 'file' }, dockerfile.text);
    } else if (!inside) {
      const st = await stat(dockerfile);
      await entry(pack, { name: dockerfileName, mode: 0o644, mtime: st.mtime, size: st.size, type: 'file' }, createReadStream(dockerfile));
    }
    if (!inside && !sawIgnore) {
      const text = hiding(Buffer.from('.dockerignore'));
      await entryBuffer(pack, { name: '.dockerignore', mode: 0o600, mtime: new Date(), size: text.length, type: 'file' }, text);
    }
    pack.finalize();
    return { files };
  })();
  done.catch((err: unknown) => out.destroy(err as Error));
  return { stream: out, dockerfileName, done };
}

/**
 * Whether the daemon reads a context directory in place: it is on this host (unix socket) and
 * its /_ping advertises `Berth-Build-Context: local` (dockerd does not).
 */
async function takesLocalContext(client: EngineClient): Promise<boolean> {
  if (!client.host.startsWith('unix://')) return false;
  const res = await client.stream('GET', '/_ping');
  res.body.resume();
  return res.headers['berth-build-context'] === 'local';
}

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const contextArg = args[0] ?? '.';
  const source = await resolveBuildContext(contextArg, str(opts['file']), process.stdin);
  const quiet = opts['quiet'] === true;
  const progressOpt = str(opts['progress']) ?? 'auto';
  if (!['auto', 'plain', 'tty', 'quiet', 'rawjson'].includes(progressOpt)) throw new BerthError('invalid-argument', `invalid progress mode "${progressOpt}": expected auto, plain, tty or quiet`);
  const mode: Mode = quiet || progressOpt === 'quiet' ? 'quiet' : progressOpt === 'plain' ? 'plain' : progressOpt === 'tty' || (progressOpt === 'auto' && process.stderr.isTTY) ? 'tty' : 'plain';
  const secrets = list(opts['secret']).map(parseSecret);
  for (const s of secrets) await stat(s.src).catch((err: unknown) => {
    throw new BerthError('invalid-argument', `secret "${s.id}": cannot read "${s.src}"`, { cause: err });
  });
  const client = await ctx.client();
  const dir = source.kind === 'directory' ? source : undefined;
  const relDf = dir && typeof dir.dockerfile === 'string' ? relative(dir.root, dir.dockerfile) : undefined;
  const local = dir !== undefined && relDf !== undefined && !relDf.startsWith('..') && !isAbsolute(relDf) && process.env['BERTH_BUILD_CONTEXT'] !== 'tar' && (await takesLocalContext(client));
  const tar = dir && !local ? contextTar(dir.root, dir.dockerfile, await loadDockerignore(dir.root, relDf ?? '.dockerfile.stdin')) : undefined;
  const outputSpec = str(opts['output']) ? (await import('./build-output.js')).parseOutput(str(opts['output'])!) : undefined; // bad specs fail before the build
  // Like buildx, a build written out with --output is not tagged in the store.
  const exported = outputSpec !== undefined && outputSpec.type !== 'image';
  const query: Record<string, string | string[]> = {
    dockerfile: tar ? tar.dockerfileName : source.kind === 'directory' ? (relDf ?? '').split('\\').join('/') : source.dockerfile,
    t: exported ? [] : list(opts['tag']),
    buildargs: JSON.stringify(keyValues(list(opts['buildArg']), 'build-arg')),
    labels: JSON.stringify(keyValues(list(opts['label']), 'label')),
    berthprogress: '1',
  };
  if (str(opts['target'])) query['target'] = str(opts['target'])!;
  if (opts['noCache'] === true || opts['cache'] === false) query['nocache'] = '1';
  if (opts['pull'] === true) query['pull'] = '1';
  if (str(opts['network'])) query['networkmode'] = str(opts['network'])!;
  if (str(opts['platform'])) query['platform'] = str(opts['platform'])!;
  if (list(opts['cacheFrom']).length) query['cachefrom'] = JSON.stringify(list(opts['cacheFrom']));
  if (secrets.length) query['berthsecrets'] = JSON.stringify(secrets);
  if (list(opts['addHost']).length) query['extrahosts'] = list(opts['addHost']).join(',');
  // Same host: the daemon reads the directory in place (hashes from its stat index), no tar.
  if (local && dir) query['berthcontext'] = dir.root;
  // A URL is fetched by the daemon (git clone or download); a stdin tar goes as it arrives.
  if (source.kind === 'remote') query['remote'] = source.remote;
  const body = tar ? tar.stream : source.kind === 'stream' ? source.body : undefined;
  const res = await client.stream('POST', '/build', { query, ...(body ? { body } : {}), contentType: 'application/x-tar', longLived: true });
  const view = progressView(mode, (s) => ctx.stderr.write(s), opts['explain'] === true);
  let imageId: string | undefined;
  let error: string | undefined;
  for await (const raw of readJsonLines(res.body)) {
    const line = raw as BuildStreamLine;
    if (line.berth) view.on(line.berth);
    // Another engine (dockerd) ignores berthprogress and sends the legacy stream: show that.
    else if (line.stream && mode !== 'quiet') ctx.stderr.write(line.stream);
    if (line.aux?.ID) imageId = line.aux.ID;
    if (line.errorDetail) error = line.errorDetail.message;
  }
  view.end();
  await tar?.done.catch(() => undefined); // a context read error already failed the request body
  if (error !== undefined) throw new BerthError('invalid-argument', error);
  if (!imageId) throw new BerthError('internal', 'the build ended without an image id');
  if (outputSpec) await (await import('./build-output.js')).writeOutput(client, imageId, outputSpec);
  const iidfile = str(opts['iidfile']);
  if (iidfile) await writeFile(iidfile, imageId);
  // `-o -` owns stdout: the id would corrupt the tar.
  if (quiet && outputSpec?.dest !== '-') await ctx.print(`${imageId}\n`);
}
