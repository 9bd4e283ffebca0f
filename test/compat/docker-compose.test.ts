// docker-compose 1.29 (docker-py 5) takes /version's ApiVersion as is and drives the engine
// with it: every version berth advertises must be fully served. This runs a small two-service
// app through it (up, ps, exec, service-name DNS, down) against a harness berthd.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, runCommand, startTestDaemon, type DockerResult, type TestDaemon } from '../helpers/daemon.js';
import { importBusyboxImage } from '../integration/runtime/fixtures.js';

const COMPOSE = '/usr/bin/docker-compose';
const skip = !isRoot()
  ? 'needs root'
  : !existsSync(COMPOSE)
    ? `needs docker-compose 1.29 at ${COMPOSE} (Debian package docker-compose)`
    : !existsSync('/bin/busybox')
      ? 'needs busybox-static'
      : undefined;

const COMPOSE_FILE = `version: "2.4"
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
  client:
    image: busybox:latest
    command: ["sh", "-c", "echo client up; sleep 300"]
    depends_on: [web]
`;

let d: TestDaemon;
let project: string;

function compose(args: string[]): Promise<DockerResult> {
  return runCommand(COMPOSE, ['-p', 'bertht', '-f', join(project, 'docker-compose.yml'), ...args], {
    timeoutMs: 120_000,
    env: { ...d.env, COMPOSE_INTERACTIVE_NO_CLI: '1' },
  });
}

before(async () => {
  if (skip) return;
  d = (await startTestDaemon())!;
  project = await mkdtemp(join(tmpdir(), 'berth-compose-'));
  await importBusyboxImage(d, 'busybox:latest');
  await writeFile(join(project, 'docker-compose.yml'), COMPOSE_FILE);
});

after(async () => {
  if (skip || !d) return;
  await compose(['down', '-v', '--remove-orphans']);
  const ids = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await d.docker(['rm', '-f', ...ids]);
  await d.stop();
  await rm(project, { recursive: true, force: true });
});

test('docker-compose 1.29 brings an app up, lists, execs into and tears it down', { skip }, async () => {
  const up = await compose(['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  const ps = await d.docker(['ps', '--filter', 'label=com.docker.compose.project=bertht', '--format', '{{.Names}}']);
  assert.deepEqual(ps.stdout.split('\n').filter(Boolean).sort(), ['bertht_client_1', 'bertht_web_1']);
  const listed = await compose(['ps', '--services', '--filter', 'status=running']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.stdout.split('\n').filter(Boolean).sort(), ['client', 'web']);
  const ex = await compose(['exec', '-T', 'client', 'echo', 'inside']);
  assert.equal(ex.code, 0, ex.stderr);
  assert.equal(ex.stdout.trim(), 'inside');
  // Service names resolve on the project network: the client reaches the web service as "web".
  const fetched = await compose(['exec', '-T', 'client', 'wget', '-qO-', 'http://web:8080/passwd']);
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.match(fetched.stdout, /^root:/m);
  const down = await compose(['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.equal((await d.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=bertht'])).stdout.trim(), '');
});
