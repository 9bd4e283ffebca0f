// berth build --output: the built image written out by the client, through the Engine API.
// type=docker|oci (dest=FILE): `docker save` of the image (Docker 25+ archives are OCI
// layouts too); type=tar (dest=FILE|-) and type=local (dest=DIR): the image's filesystem,
// exported through a created (never started) container that is removed afterwards.
import { createWriteStream } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar-stream';
import type { EngineClient } from '../../client/index.js';
import { BerthError } from '../../util/index.js';

export interface OutputSpec {
  type: 'docker' | 'oci' | 'tar' | 'local';
  dest: string;
}

/** `type=local,dest=out` (or a bare path, which means type=local). */
export function parseOutput(spec: string): OutputSpec {
  if (!spec.includes('=')) return { type: 'local', dest: spec };
  const f = Object.fromEntries(spec.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const type = f['type'] ?? 'local';
  if (!['docker', 'oci', 'tar', 'local'].includes(type)) throw new BerthError('invalid-argument', `unsupported output type "${type}": expected local, tar, docker or oci`);
  const dest = f['dest'];
  if (!dest) throw new BerthError('invalid-argument', `output "${spec}" needs dest=`);
  return { type: type as OutputSpec['type'], dest };
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

export async function writeOutput(client: EngineClient, imageId: string, out: OutputSpec): Promise<void> {
  if (out.type === 'docker' || out.type === 'oci') {
    await pipeline(await client.saveImages([imageId]), destStream(out.dest));
    return;
  }
  const { body, cleanup } = await exportFilesystem(client, imageId);
  try {
    if (out.type === 'tar') await pipeline(body, destStream(out.dest));
    else {
      await mkdir(resolve(out.dest), { recursive: true });
      await unpackInto(body, resolve(out.dest));
    }
  } finally {
    await cleanup();
  }
}
