import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPlatform, hostPlatform } from '../image/index.js';
import { errorKind } from '../util/index.js';
import { foreignPlatformWarning } from './container-create.js';
import { checkPlatform } from './container-service.js';
import { elfHeaderFor } from './emulation.js';

test('--platform matches the image config by os, architecture and variant; an unknown image platform passes', () => {
  const amd64 = { os: 'linux', architecture: 'amd64' };
  checkPlatform('busybox', 'linux/amd64', amd64);
  checkPlatform('busybox', 'linux/x86_64', amd64);
  checkPlatform('busybox', 'linux/arm64', undefined);
  assert.throws(() => checkPlatform('busybox', 'linux/arm64', amd64), {
    kind: 'not-found',
    message: 'image with reference busybox:latest was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64',
  });
  assert.throws(() => checkPlatform('busybox:1', 'linux/arm/v6', { os: 'linux', architecture: 'arm', variant: 'v7' }), /busybox:1 .*wanted linux\/arm\/v6, actual: linux\/arm\/v7/);
});

/** A binfmt_misc directory; with `foreign`, one F-flagged entry that runs that architecture's ELF files. */
async function binfmtDir(t: TestContext, foreign?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-binfmt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'status'), 'enabled\n');
  if (foreign) {
    const magic = elfHeaderFor(foreign)!.toString('hex');
    await writeFile(join(dir, `qemu-${foreign}`), `enabled\ninterpreter ${process.execPath}\nflags: F\noffset 0\nmagic ${magic}\nmask ${'ff'.repeat(magic.length / 2)}\n`);
  }
  return dir;
}

const FOREIGN = process.arch === 'arm64' ? 'amd64' : 'arm64';

test('an image of the host platform (or of none recorded) creates without warning or emulation', async (t) => {
  const none = await binfmtDir(t);
  const host = hostPlatform();
  assert.equal(await foreignPlatformWarning('busybox', { os: host.os, architecture: host.architecture }, undefined, { binfmtDir: none }), undefined);
  assert.equal(await foreignPlatformWarning('busybox', undefined, undefined, { binfmtDir: none }), undefined);
});

test('a foreign image that emulation runs warns like docker unless --platform asked for it', async (t) => {
  const dir = await binfmtDir(t, FOREIGN);
  const warning = await foreignPlatformWarning('arm:1', { os: 'linux', architecture: FOREIGN }, undefined, { binfmtDir: dir });
  assert.equal(
    warning,
    `The requested image's platform (linux/${FOREIGN}) does not match the detected host platform (${formatPlatform(hostPlatform())}) and no specific platform was requested`,
  );
  assert.equal(await foreignPlatformWarning('arm:1', { os: 'linux', architecture: FOREIGN }, `linux/${FOREIGN}`, { binfmtDir: dir }), undefined);
});

test('a foreign image without emulation fails create with one line naming the image, the platform and the fix', async (t) => {
  const dir = await binfmtDir(t);
  await assert.rejects(foreignPlatformWarning('arm:1', { os: 'linux', architecture: FOREIGN }, `linux/${FOREIGN}`, { binfmtDir: dir }), (err: Error) => {
    assert.equal(errorKind(err), 'unavailable');
    assert.ok(!err.message.includes('\n'), err.message);
    assert.match(err.message, new RegExp(`^image arm:1 is linux/${FOREIGN}: cannot run linux/${FOREIGN} binaries on this ${formatPlatform(hostPlatform())} host: .*exec format error.*qemu-user-static.*binfmt_misc`));
    return true;
  });
});
