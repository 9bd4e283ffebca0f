// testcontainers-node against berthd: it probes the engine (/info, /version), reuses a local
// image, creates a labelled container, waits for a log line, execs into it and stops it. The
// reaper (ryuk) is disabled because it is an image from a public registry.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type TestDaemon } from '../helpers/daemon.js';
import { busyboxSuite } from '../helpers/busybox-suite.js';

const suite = busyboxSuite();
const { skip } = suite;

let d: TestDaemon;

before(async () => {
  if (skip) return;
  d = await suite.ready();
  // testcontainers reads its engine from the environment once, when first imported.
  process.env.DOCKER_HOST = `unix://${d.socketPath}`;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
});

test('testcontainers starts a container from a local image, waits for its log and execs into it', { skip }, async () => {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('busybox:latest')
    .withCommand(['sh', '-c', 'echo service ready; sleep 300'])
    .withWaitStrategy(Wait.forLogMessage('service ready'))
    .withStartupTimeout(30_000)
    .start();
  try {
    const r = await container.exec(['echo', 'from exec']);
    assert.equal(r.exitCode, 0);
    assert.equal(r.output.trim(), 'from exec');
    const labels = (await d.request('GET', `/containers/${container.getId()}/json`)).json<{ Config: { Labels: Record<string, string> } }>().Config.Labels;
    assert.equal(labels['org.testcontainers'], 'true');
  } finally {
    await container.stop({ timeout: 1 });
  }
});
