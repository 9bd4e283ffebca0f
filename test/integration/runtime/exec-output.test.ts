// docker exec output comes from the session's conmon socket: all of it, streams apart, the exit
// code right after, and nothing of it on disk (a detached session's output is dropped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dockerOk, type DockerResult } from '../../helpers/daemon.js';
import { skipReason, startDaemonWithBusybox } from './fixtures.js';

async function sizeOfTree(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await sizeOfTree(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

test('an exec streams all of a large output with stdout and stderr apart and keeps none of it on disk', { skip: skipReason }, async (t) => {
  const d = await startDaemonWithBusybox(t, 'busybox');
  if (!d) return;
  const id = (await dockerOk(d, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '300'])).trim();
  // 2.3 MB of numbered lines on stdout, one line on stderr, then exit 3.
  const r = await d.docker(['exec', id, 'sh', '-c', 'seq 1 300000; echo to-stderr >&2; exit 3'], { timeoutMs: 60_000 });
  assert.equal(r.code, 3);
  const lines = r.stdout.split('\n');
  assert.equal(lines.length, 300001);
  assert.equal(lines[0], '1');
  assert.equal(lines[299999], '300000');
  assert.equal(r.stderr, 'to-stderr\n');

  await dockerOk(d, ['exec', '-d', id, 'sh', '-c', 'seq 1 300000']);
  const execDir = join(d.dataRoot, 'containers', id, 'exec');
  // Both sessions' directories hold their records only: far less than the 2.3 MB they wrote.
  assert.ok((await sizeOfTree(execDir)) < 64 * 1024, 'no exec output is written to disk');
  await dockerOk(d, ['rm', '-f', id]);
});

test('exec -i passes piped input and its end, so a command reading to the end of its input finishes every time', { skip: skipReason }, async (t) => {
  const d = await startDaemonWithBusybox(t, 'busybox');
  if (!d) return;
  const id = (await dockerOk(d, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '300'])).trim();
  // cat echoes its input at once: conmon writes that output to every attach connection, ours
  // for stdin included. When berthd closed that connection right after the input's end, conmon
  // 2.1.6 now and then never closed cat's stdin (1-5 runs in 30 hung): repeated to catch it.
  for (let i = 0; i < 20; i++) {
    const r: DockerResult = await d.docker(['exec', '-i', id, 'cat'], { input: `line ${i}\n`, timeoutMs: 10_000 });
    assert.deepEqual([r.code, r.stdout], [0, `line ${i}\n`], `run ${i}`);
  }
  await dockerOk(d, ['rm', '-f', id]);
});
