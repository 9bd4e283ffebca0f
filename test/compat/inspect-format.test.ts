// `inspect --format '{{json …}}'` through the docker CLI and berth against one berthd: docker
// renders the template against its typed structs (Go field order, maps sorted, no HTML
// escaping), so berthd must send the fields in that order and berth's `json` must keep it.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestDaemon } from '../helpers/daemon.js';
import { busyboxSuite } from '../helpers/busybox-suite.js';
import { berth } from '../integration/cli/berth-cli.js';

const suite = busyboxSuite();
const { skip } = suite;

let d: TestDaemon;

before(async () => {
  if (!skip) d = await suite.ready();
});

async function both(args: string[]): Promise<{ docker: string; berth: string }> {
  const a = await d.docker(args);
  assert.equal(a.code, 0, `docker ${args.join(' ')}: ${a.stderr}`);
  const b = await berth(d.socketPath, args, { timeoutMs: 60_000 });
  assert.equal(b.code, 0, `berth ${args.join(' ')}: ${b.stderr}`);
  return { docker: a.stdout, berth: b.stdout };
}

/** Go's container.Config fields in declaration order (api/types/container/config.go). */
const CONFIG_FIELDS = [
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin',
  'StdinOnce', 'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint',
  'NetworkDisabled', 'MacAddress', 'OnBuild', 'Labels', 'StopSignal', 'StopTimeout', 'Shell',
];

test('inspect --format json of Config, HostConfig, State, ports, mounts and GraphDriver is the same through docker and berth, in Go field order', { skip }, async () => {
  const run = await d.docker([
    'run', '-d', '--name', 'fmt', '-p', '8080:80', '-p', '9090:90', '-l', 'zeta=1', '-l', 'alpha=2', '-e', 'X=1',
    '--health-cmd', 'true', '--health-interval', '30s', '--stop-signal', 'SIGINT', '--stop-timeout', '3', '--init',
    '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', '-v', '/data', 'busybox', 'sh', '-c', 'echo "<a&b>" > /f; sleep 300',
  ]);
  assert.equal(run.code, 0, run.stderr);
  try {
    for (const f of ['{{json .Config}}', '{{json .HostConfig}}', '{{json .State}}', '{{json .HostConfig.LogConfig}}', '{{json .NetworkSettings.Ports}}', '{{json .Mounts}}', '{{json .GraphDriver}}', '{{.Config.Labels | json}}']) {
      const r = await both(['inspect', '-f', f, 'fmt']);
      assert.equal(r.berth, r.docker, f);
    }
    const config = JSON.parse((await both(['inspect', '-f', '{{json .Config}}', 'fmt'])).berth) as Record<string, unknown>;
    const keys = Object.keys(config);
    assert.deepEqual(keys, CONFIG_FIELDS.filter((k) => keys.includes(k)));
    assert.deepEqual(Object.keys(config['ExposedPorts'] as object), ['80/tcp', '90/tcp']);
    // docker's json function leaves <, > and & as they are.
    assert.equal((await both(['inspect', '-f', '{{json .Config.Cmd}}', 'fmt'])).berth, '["sh","-c","echo \\"<a&b>\\" > /f; sleep 300"]\n');
  } finally {
    await d.docker(['rm', '-f', '-v', 'fmt']);
  }
});

test('ps -s shows SIZE as "<writable> (virtual <image + writable>)" in the same table through docker and berth', { skip }, async () => {
  const run = await d.docker(['run', '-d', '--name', 'sized', 'busybox', 'sh', '-c', 'echo hi > /f; sleep 300']);
  assert.equal(run.code, 0, run.stderr);
  try {
    for (let i = 0; i < 50 && (await d.docker(['exec', 'sized', 'test', '-e', '/f'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    const r = await both(['ps', '-s', '--filter', 'name=sized', '--format', 'table {{.Names}}\t{{.Size}}']);
    assert.equal(r.berth, r.docker);
    assert.match(r.docker, /^NAMES\s+SIZE\nsized\s+3B \(virtual [\d.]+[kM]B\)\n$/);
  } finally {
    await d.docker(['rm', '-f', 'sized']);
  }
});
