// run()'s `netns` option on both of its paths: the berth-sys addon (setns(2) in its vfork-style
// child before the exec) and child_process (`nsenter --net=<file>` in front). The bridge driver
// runs `ip -batch -` inside each container's namespace this way. Each test makes its own
// namespace file and leaves nothing mounted.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError, run } from '../../../src/util/index.js';
import { createNetnsFile, removeNetnsFile } from '../../../src/runtime/netns-file.js';
import { nativePaths, useNativePath } from '../../helpers/native-path.js';

const PATHS = nativePaths('enter a network namespace', 'child_process and nsenter');

/** A new network namespace on a file, released (unmounted, removed) after the test. */
async function netnsFile(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-run-netns-'));
  const file = join(dir, 'ns');
  t.after(async () => {
    await removeNetnsFile(file);
    await rm(dir, { recursive: true, force: true });
  });
  await createNetnsFile(file);
  return file;
}

for (const p of PATHS) {
  test(`a command run with netns is in that file's network namespace, and the daemon stays in its own (${p.name})`, { skip: p.skip }, async (t) => {
    useNativePath(t, p.native);
    const file = await netnsFile(t);
    const { stdout } = await run('readlink', ['/proc/self/ns/net'], { timeoutMs: 10_000, netns: file });
    assert.equal(stdout.trim(), `net:[${(await stat(file)).ino}]`);
    assert.notEqual(await readlink('/proc/self/ns/net'), stdout.trim());
  });

  test(`ip -batch - with netns changes links inside the namespace only (${p.name})`, { skip: p.skip }, async (t) => {
    useNativePath(t, p.native);
    const file = await netnsFile(t);
    await run('ip', ['-batch', '-'], { timeoutMs: 10_000, netns: file, input: 'link set lo up\nlink add bt-inside0 type veth peer name bt-inside1\n' });
    const inside = await run('ip', ['-o', 'link', 'show'], { timeoutMs: 10_000, netns: file });
    assert.match(inside.stdout, /: lo: <LOOPBACK,UP,LOWER_UP>/);
    assert.match(inside.stdout, /: bt-inside0@bt-inside1: /);
    const outside = await run('ip', ['-o', 'link', 'show'], { timeoutMs: 10_000 });
    assert.doesNotMatch(outside.stdout, /bt-inside0/);
  });

  test(`a command run with a netns file that does not exist fails without running (${p.name})`, { skip: p.skip }, async (t) => {
    useNativePath(t, p.native);
    const dir = await mkdtemp(join(tmpdir(), 'berth-run-netns-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await assert.rejects(run('touch', [join(dir, 'ran')], { timeoutMs: 10_000, netns: join(dir, 'missing') }), (e: unknown) => {
      assert.ok(e instanceof BerthError);
      assert.equal(e.kind, 'internal');
      return true;
    });
    assert.equal(existsSync(join(dir, 'ran')), false);
  });
}
