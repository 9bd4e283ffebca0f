// dockerode (docker-modem) against berthd: the API calls a Node tool makes with it —
// version, image list and inspect, create/start/wait/logs/remove of a container, exec, and
// error bodies read from `message`.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { type TestDaemon } from '../helpers/daemon.js';
import { busyboxSuite } from '../helpers/busybox-suite.js';

const suite = busyboxSuite();
const { skip } = suite;

let d: TestDaemon;
let docker: Docker;

before(async () => {
  if (skip) return;
  d = await suite.ready();
  docker = new Docker({ socketPath: d.socketPath });
});

/** Splits a multiplexed stdout/stderr stream with docker-modem's own demuxer. */
function demultiplexed(stream: NodeJS.ReadableStream): { out: () => string; err: () => string } {
  const sinks = [new PassThrough(), new PassThrough()] as const;
  const chunks: [Buffer[], Buffer[]] = [[], []];
  sinks.forEach((s, i) => s.on('data', (c: Buffer) => chunks[i]!.push(c)));
  docker.modem.demuxStream(stream, sinks[0], sinks[1]);
  return { out: () => Buffer.concat(chunks[0]).toString('utf8'), err: () => Buffer.concat(chunks[1]).toString('utf8') };
}

test('dockerode reads version and lists and inspects images', { skip }, async () => {
  const v = await docker.version();
  assert.match(v.ApiVersion, /^1\.\d+$/);
  const images = await docker.listImages();
  assert.ok(images.some((i) => i.RepoTags?.includes('busybox:latest')));
  const info = await docker.getImage('busybox').inspect();
  assert.deepEqual(info.Config.Cmd, ['sh']);
});

test('dockerode runs a container: create, start, wait, logs, remove', { skip }, async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 7'] });
  await c.start();
  const res = (await c.wait()) as { StatusCode: number };
  assert.equal(res.StatusCode, 7);
  const logs = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  // Non-TTY logs are multiplexed: 8-byte headers, stream 1 then stream 2.
  assert.equal(logs[0], 1);
  assert.match(logs.toString('latin1'), /out\n[\s\S]*err\n/);
  await c.remove();
  await assert.rejects(c.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
});

test('dockerode execs into a running container and demultiplexes its output', { skip }, async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'] });
  await c.start();
  try {
    const exec = await c.exec({ Cmd: ['sh', '-c', 'echo hi; echo oops >&2'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const sink = demultiplexed(stream);
    await new Promise<void>((resolve) => stream.on('end', resolve));
    assert.equal(sink.out(), 'hi\n');
    assert.equal(sink.err(), 'oops\n');
    const inspected = await exec.inspect();
    assert.equal(inspected.ExitCode, 0);
  } finally {
    await c.remove({ force: true });
  }
});

test('dockerode surfaces the daemon message of a missing image with status 404', { skip }, async () => {
  await assert.rejects(docker.getImage('nosuch:latest').inspect(), (e: { statusCode?: number; json?: { message?: string } }) => {
    assert.equal(e.statusCode, 404);
    assert.match(e.json?.message ?? '', /No such image: nosuch:latest/);
    return true;
  });
});
