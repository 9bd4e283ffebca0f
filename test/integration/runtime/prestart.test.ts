// What create readies for a container's first start (src/runtime/container-prestart.ts): a
// conmon held on its start pipe, which the start takes, and which is killed when nobody takes
// it in time, when the container is removed or when the daemon closes; and lookups in the
// rootfs, which `docker cp` into the container makes the start look again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { defaultContainerSpec, type ContainerSpec } from '../../../src/runtime/index.js';
import { collectLogs, runtimeEnv, skipReason } from './fixtures.js';

function spec(cmd: string[]): ContainerSpec {
  const s = defaultContainerSpec('busybox');
  s.cmd = cmd;
  s.host.networkMode = 'none';
  return s;
}

/** pids of the live conmons monitoring container `id` (found by their `-c <id>` argument). */
async function conmonsOf(id: string): Promise<number[]> {
  const pids: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const [cmdline, stat] = await Promise.all([readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => ''), readFile(`/proc/${e}/stat`, 'utf8').catch(() => '')]);
    // A zombie (state Z) is gone already; its parent only has not reaped it.
    if (/\) Z /.test(stat)) continue;
    const argv = cmdline.split('\0');
    if (argv[0]?.endsWith('conmon') && argv[argv.indexOf('-c') + 1] === id) pids.push(Number(e));
  }
  return pids;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const oneConmon = (id: string) => () => conmonsOf(id).then((p) => (p.length === 1 ? p[0] : undefined));
const noConmon = (id: string) => () => conmonsOf(id).then((p) => (p.length === 0 ? true : undefined));

test('the first start runs in the conmon spawned at create; one nobody takes is killed after its wait, at removal and at close', { skip: skipReason }, async (t) => {
  const env = await runtimeEnv({ pendingConmonMs: 400 });
  t.after(() => env.cleanup());

  const { id: used } = await env.service.create(spec(['true']));
  const pending = await until('the conmon spawned at create', oneConmon(used));
  const exited = env.service.wait(used, 'next-exit');
  await env.service.start(used);
  assert.equal(env.service.get(used).state.conmonPid, pending);
  assert.deepEqual(await exited, { exitCode: 0, error: undefined });

  const { id: late } = await env.service.create(spec(['sh', '-c', 'echo late']));
  await until('the conmon spawned at create', oneConmon(late));
  await until('the unclaimed conmon to be killed', noConmon(late));
  const lateExit = env.service.wait(late, 'next-exit');
  await env.service.start(late);
  assert.deepEqual(await lateExit, { exitCode: 0, error: undefined });
  assert.equal((await collectLogs(env.service.logs(late, { follow: false }))).stdout, 'late\n');

  const { id: removed } = await env.service.create(spec(['true']));
  await until('the conmon spawned at create', oneConmon(removed));
  await env.service.remove(removed);
  assert.deepEqual(await conmonsOf(removed), []);

  const { id: closed } = await env.service.create(spec(['true']));
  await until('the conmon spawned at create', oneConmon(closed));
  await env.service.close();
  assert.deepEqual(await conmonsOf(closed), []);
});

test('a file copied into a created container, and a rename, before its first start are what the start sees', { skip: skipReason }, async (t) => {
  const env = await runtimeEnv();
  t.after(() => env.cleanup());
  // Looked up at create, /hello did not exist yet: the start must look again.
  const { id } = await env.service.create(spec(['/hello']));
  await until('the conmon spawned at create', oneConmon(id));
  const tar = pack();
  tar.entry({ name: 'hello', mode: 0o755 }, '#!/bin/sh\necho copied in\n');
  tar.finalize();
  await env.service.archivePut(id, '/', Readable.from(tar));
  await env.service.rename(id, 'renamed-before-start');
  const pending = await until('the conmon spawned at create', oneConmon(id));
  const exited = env.service.wait(id, 'next-exit');
  await env.service.start(id);
  assert.deepEqual(await exited, { exitCode: 0, error: undefined });
  assert.equal((await collectLogs(env.service.logs(id, { follow: false }))).stdout, 'copied in\n');
  // The conmon spawned under the old name was not the one that ran it.
  assert.notEqual(env.service.get(id).state.conmonPid, pending);
});
