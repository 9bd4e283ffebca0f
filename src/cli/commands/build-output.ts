// berth build --output: the built image written out by the client, through the Engine API.
// type=docker|oci (dest=FILE): `docker save` of the image (Docker 25+ archives are OCI
// layouts too; a multi-platform build saves its index and every platform); type=tar
// (dest=FILE|-) and type=local (dest=DIR): the image's filesystem, exported through a created
// (never started) container that is removed afterwards; one `linux_amd64/`-style directory per
// platform when several were built. As with buildx, such a build tags nothing in the store:
// type=image (and type=docker without dest) is the plain build, tagged.
import { createWriteStream } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, pack as tarPack, type Pack } from 'tar-stream';
import type { EngineClient, ImageInspect } from '../../client/index.js';
import { BerthError } from '../../util/index.js';

export interface OutputSpec {
  type: 'docker' | 'oci' | 'tar' | 'local' | 'image';
  /** Absent for type=image (and type=docker without dest): the result stays in the store. */
  dest?: string | undefined;
}

/** `type=local,dest=out` (or a bare path, which means type=local; `-` means type=tar to stdout). */
export function parseOutput(spec: string): OutputSpec {
  if (spec === '-') return { type: 'tar', dest: '-' };
  if (!spec.includes('=')) return { type: 'local', dest: spec };
  const f = Object.fromEntries(spec.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const type = f['type'] ?? 'local';
  if (!['docker', 'oci', 'tar', 'local', 'image'].includes(type)) throw new BerthError('invalid-argument', `unsupported output type "${type}": expected local, tar, docker, oci or image`);
  const dest = f['dest'];
  if (type === 'image' || (type === 'docker' && !dest)) return { type: 'image' };
  if (!dest) throw new BerthError('invalid-argument', `output "${spec}" needs dest=`);
  return { type: type as OutputSpec['type'], dest };
}

/** Whether the build's result is written out instead of tagged in the store. */
export function isExport(out: OutputSpec): boolean {
  return out.type !== 'image';
}

function destStream(dest: string): Writable {
  return dest === '-' ? process.stdout : createWriteStream(resolve(dest));
}

async function exportFilesystem(client: EngineClient, imageId: string): Promise<{ body: Readable; cleanup: () => Promise<void> }> {
  const created = await client.request<{ Id: string }>('POST', '/containers/create', { body: { Image: imageId, Cmd: ['/'], Entrypoint: [] } });
  const res = await client.stream('GET', `/containers/${created.Id}/export`, { longLived: true });
  return { body: res.body, cleanup: () => client.request('DELETE', `/containers/${created.Id}`, { query: { force: '1' } }).then(() => undefined) };
}

/** Unpacks an exported filesystem into `dir`, refusing members that would land outside it. */
async function unpackInto(body: Readable, dir: string): Promise<void> {
  const ex = tarExtract();
  const consume = (async () => {
    for await (const e of ex) {
      const name = posix.normalize('/' + e.header.name).slice(1);
      if (name === '' || name.startsWith('..')) {
        e.resume();
        continue;
      }
      const target = join(dir, name);
      if (e.header.type === 'directory') await mkdir(target, { recursive: true });
      else if (e.header.type === 'file') {
        await mkdir(join(target, '..'), { recursive: true });
        const chunks: Buffer[] = [];
        for await (const c of e) chunks.push(c as Buffer);
        await writeFile(target, Buffer.concat(chunks), { mode: (e.header.mode ?? 0o644) & 0o777 });
        continue;
      } else if (e.header.type === 'symlink') {
        await mkdir(join(target, '..'), { recursive: true });
        await symlink(e.header.linkname ?? '', target).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
      }
      e.resume();
    }
  })();
  await Promise.all([pipeline(body, ex), consume]);
}

/** The images of a multi-platform result (`linux_amd64` → image id); undefined for one image. */
async function platformImages(client: EngineClient, imageId: string): Promise<Array<{ dir: string; id: string }> | undefined> {
  const img = await client.request<ImageInspect>('GET', `/images/${encodeURIComponent(imageId)}/json`, { query: { manifests: '1' } });
  if (!img.Descriptor || !img.Manifests) return undefined;
  return img.Manifests.flatMap((m) => {
    const p = m.Descriptor.platform;
    if (!m.ImageID || !p || m.Kind !== 'image') return [];
    return [{ dir: [p.os, p.architecture, p.variant].filter(Boolean).join('_'), id: m.ImageID }];
  });
}

/** Copies every member of a tar stream into `pack` under `prefix/`. */
async function repack(body: Readable, pack: Pack, prefix: string): Promise<void> {
  const ex = tarExtract();
  const consume = (async () => {
    for await (const e of ex) {
      const name = posix.normalize('/' + e.header.name).slice(1);
      const header = { ...e.header, name: name === '' ? `${prefix}/` : `${prefix}/${name}` };
      await new Promise<void>((res, rej) => {
        const w = pack.entry(header, (err) => (err ? rej(err) : res()));
        e.pipe(w);
      });
    }
  })();
  await Promise.all([pipeline(body, ex), consume]);
}

async function writeFilesystem(client: EngineClient, imageId: string, out: OutputSpec & { dest: string }, sub?: string, pack?: Pack): Promise<void> {
  const { body, cleanup } = await exportFilesystem(client, imageId);
  try {
    if (pack) await repack(body, pack, sub!);
    else if (out.type === 'tar') await pipeline(body, destStream(out.dest));
    else {
      const dir = sub ? join(resolve(out.dest), sub) : resolve(out.dest);
      await mkdir(dir, { recursive: true });
      await unpackInto(body, dir);
    }
  } finally {
    await cleanup();
  }
}

export async function writeOutput(client: EngineClient, imageId: string, out: OutputSpec): Promise<void> {
  if (out.type === 'image' || out.dest === undefined) return;
  const dest = out.dest;
  if (out.type === 'docker' || out.type === 'oci') {
    await pipeline(await client.saveImages([imageId]), destStream(dest));
    return;
  }
  const platforms = await platformImages(client, imageId);
  if (!platforms) return writeFilesystem(client, imageId, { ...out, dest });
  if (out.type === 'local') {
    for (const p of platforms) await writeFilesystem(client, p.id, { ...out, dest }, p.dir);
    return;
  }
  // One tar holding a directory per platform.
  const pack = tarPack();
  const written = pipeline(pack, destStream(dest));
  try {
    for (const p of platforms) await writeFilesystem(client, p.id, { ...out, dest }, p.dir, pack);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    throw err;
  }
  await written;
}
