// The common frame of a compat test file: one harness berthd with a `busybox:latest` image for
// the whole file, every container removed and the daemon stopped (with its leak check) at the
// end, and the reason to skip when the machine cannot run it.
import { after } from 'node:test';
import { existsSync } from 'node:fs';
import { importBusyboxImage } from '../integration/runtime/fixtures.js';
import { DOCKER_CLI, isRoot, startTestDaemon, type TestDaemon } from './daemon.js';

export interface BusyboxSuite {
  /** Why the file's tests skip, or undefined when they can run. */
  skip: string | undefined;
  /** Starts the suite's daemon on first call (call it from the file's `before`). */
  ready(): Promise<TestDaemon>;
}

export function busyboxSuite(): BusyboxSuite {
  const skip = !isRoot()
    ? 'needs root'
    : !existsSync(DOCKER_CLI)
      ? `needs the docker CLI at ${DOCKER_CLI}`
      : !existsSync('/bin/busybox')
        ? 'needs busybox-static'
        : undefined;
  let started: Promise<TestDaemon> | undefined;
  after(async () => {
    if (!started) return;
    const d = await started;
    const ids = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await d.docker(['rm', '-f', ...ids]);
    await d.stop();
  });
  return {
    skip,
    ready: () =>
      (started ??= (async () => {
        const d = (await startTestDaemon())!;
        await importBusyboxImage(d, 'busybox:latest');
        return d;
      })()),
  };
}
