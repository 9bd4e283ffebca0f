// Shared set-up for builder integration tests: a harness daemon with busybox:latest
// imported (the same rootfs `berth bootstrap` makes), temp build contexts, and helpers
// that run `docker build` with the legacy builder.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { busyboxRootfs } from '../../../src/cli/bootstrap/busybox-rootfs.js';
import { startTestDaemon, type DockerResult, type TestDaemon } from '../../helpers/daemon.js';

export async function startBuildDaemon(t: TestContext): Promise<TestDaemon | undefined> {
  const d = await startTestDaemon(t);
  if (!d) return undefined;
  await importBusybox(d);
  return d;
}

/**
 * Imports busybox:latest the way `berth bootstrap` does (docker import + changes); `tag` and
 * `withPath: false` (no ENV PATH in its config) make another image of the same files.
 */
export async function importBusybox(d: TestDaemon, opts: { tag?: string; withPath?: boolean } = {}): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of await busyboxRootfs()) chunks.push(c as Buffer);
  const path = opts.withPath === false ? [] : ['--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  const r = await d.docker(['import', ...path, '--change', 'CMD ["sh"]', '-', opts.tag ?? 'busybox:latest'], {
    input: Buffer.concat(chunks),
  });
  if (r.code !== 0) throw new Error(`docker import failed: ${r.stderr}`);
}

/** A temp context dir with the given files (paths relative, content strings). */
export async function makeContext(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-build-ctx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFiles(dir, files);
  return dir;
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [p, c] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), c);
  }
}

/** `docker build` with the legacy builder (POST /build). */
export function dockerBuild(d: TestDaemon, dir: string, args: string[], opts: { buildkit?: boolean } = {}): Promise<DockerResult> {
  const env = { ...d.env, DOCKER_BUILDKIT: opts.buildkit === undefined ? '0' : opts.buildkit ? '1' : '0' };
  if (opts.buildkit === true) delete (env as Record<string, string | undefined>).DOCKER_BUILDKIT;
  return d.docker(['build', ...args, dir], { env, timeoutMs: 120_000 });
}
