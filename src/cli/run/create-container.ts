// Creating a container the way `docker create`/`docker run` do: honour --pull (berth has no
// registry client, so a pull fails with the daemon's clear message), print the daemon's
// warnings, write --cidfile. Also the mapping of a failed start to docker's 126/127.
import type { FileHandle } from 'node:fs/promises';
import { ContainersApi, followProgress, type EngineClient } from '../../client/index.js';
import { errorKind, errorMessage } from '../../util/index.js';
import type { CommandContext } from '../context.js';
import { EXIT_CANNOT_INVOKE, EXIT_COMMAND_NOT_FOUND, EXIT_ENGINE, UsageError } from '../exit-codes.js';
import type { CreatePlan } from './create-request.js';

/** `busybox` → `busybox:latest`, as docker names the image it could not find. */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const slash = image.lastIndexOf('/');
  return image.indexOf(':', slash + 1) >= 0 ? image : `${image}:latest`;
}

async function pull(client: EngineClient, image: string): Promise<void> {
  const ref = withDefaultTag(image);
  const at = ref.indexOf('@');
  const colon = at >= 0 ? at : ref.lastIndexOf(':');
  const res = await client.stream('POST', '/images/create', {
    query: { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) },
    longLived: true,
  });
  await followProgress(res.body);
}

async function imageExists(client: EngineClient, image: string): Promise<boolean> {
  try {
    await client.inspectImage(image);
    return true;
  } catch (err) {
    if (errorKind(err) === 'not-found') return false;
    throw err;
  }
}

export async function createContainer(ctx: CommandContext, plan: CreatePlan): Promise<string> {
  let cidHandle: FileHandle | undefined;
  // node:fs/promises (and the node:readline it brings) only for --cidfile: ~1 ms of every run.
  const fsp = plan.cidfile ? await import('node:fs/promises') : undefined;
  if (plan.cidfile) {
    try {
      cidHandle = await fsp!.open(plan.cidfile, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new UsageError(`container ID file found, make sure the other container isn't running or delete ${plan.cidfile}`);
      }
      throw err;
    }
  }
  try {
    const client = await ctx.client();
    const api = new ContainersApi(client);
    if (plan.pull === 'always') await pull(client, plan.image);
    const create = () => api.create(plan.body, { name: plan.name, platform: plan.platform });
    let res;
    try {
      res = await create();
    } catch (err) {
      // A 404 from create is a missing image or a missing network: only the first is pulled.
      if (errorKind(err) !== 'not-found' || plan.pull !== 'missing' || (await imageExists(client, plan.image))) throw err;
      ctx.warn(`Unable to find image '${withDefaultTag(plan.image)}' locally`);
      await pull(client, plan.image);
      res = await create();
    }
    for (const w of res.Warnings ?? []) ctx.warn(`WARNING: ${w}`);
    if (cidHandle) await cidHandle.writeFile(res.Id);
    return res.Id;
  } catch (err) {
    if (cidHandle) {
      await cidHandle.close();
      cidHandle = undefined;
      await fsp!.rm(plan.cidfile!, { force: true });
    }
    throw err;
  } finally {
    await cidHandle?.close();
  }
}

/**
 * The exit status of a `run`/`start` whose start failed. The Engine API carries only the
 * OCI runtime's message, so — exactly like the docker CLI — the message decides: a
 * command not found is 127, one that cannot be invoked is 126, anything else 125.
 */
export function startFailureStatus(err: unknown): number {
  if (errorKind(err) === 'cancelled') return 130;
  const msg = errorMessage(err);
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(msg)) return EXIT_COMMAND_NOT_FOUND;
  if (/permission denied|is a directory/.test(msg)) return EXIT_CANNOT_INVOKE;
  return EXIT_ENGINE;
}
