// The common frame of a compat test file: one harness berthd with a `busybox:latest` image for
// the whole file, every container removed and the daemon stopped (with its leak check) at the
// end, and the reason to skip when the machine cannot run it.
import { after, before } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { importBusyboxImage } from '../integration/runtime/fixtures.js';
import { DOCKER_CLI, isRoot, startTestDaemon, type TestDaemon } from './daemon.js';

export interface BusyboxSuite {
  /** Why the file's tests skip, or undefined when they can run. */
  skip: string | undefined;
  /** Starts the suite's daemon on first call (call it from the file's `before`). */
  ready(): Promise<TestDaemon>;
  /** Runs the docker CLI against the suite's daemon and returns its stdout; a non-zero exit fails the test. */
  ok(args: string[], input?: string): Promise<string>;
}

/** Why a test driving the docker CLI against a busybox image cannot run here, if it cannot. */
export function dockerCliSkipReason(): string | undefined {
  return !isRoot()
    ? 'needs root'
    : !existsSync(DOCKER_CLI)
      ? `needs the docker CLI at ${DOCKER_CLI}`
      : !existsSync('/bin/busybox')
        ? 'needs busybox-static'
        : undefined;
}

export function busyboxSuite(): BusyboxSuite {
  const skip = dockerCliSkipReason();
  let started: Promise<TestDaemon> | undefined;
  after(async () => {
    if (!started) return;
    const d = await started;
    const ids = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await d.docker(['rm', '-f', ...ids]);
    await d.stop();
  });
  const ready = (): Promise<TestDaemon> =>
    (started ??= (async () => {
      const d = (await startTestDaemon())!;
      await importBusyboxImage(d, 'busybox:latest');
      return d;
    })());
  return {
    skip,
    ready,
    ok: async (args, input) => {
      const r = await (await ready()).docker(args, { input });
      assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
  };
}

/** A host directory holding `files` for a whole file's tests: made before the first, removed after the last. */
export function hostDirectory(files: Record<string, string>): { readonly path: string } {
  let dir: string | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-host-'));
    for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get path(): string {
      if (!dir) throw new Error('the host directory is made in before()');
      return dir;
    },
  };
}
