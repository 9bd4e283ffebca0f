import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Container, ZERO_TIME, type ContainerConfigFile, type ContainerStateFile } from '../../runtime/index.js';
import { Filters } from '../filters.js';
import { matchesListFilters } from './containers.js';
import { createBodySchema, inspectWire, specFromCreateBody, summaryWire } from './containers-wire.js';

const spec = (body: unknown) => specFromCreateBody(createBodySchema.parse(body));

test('create bodies become specs with dockerd defaults: bridge network, entrypoint reset, restart policy', () => {
  const s = spec({ Image: 'busybox', Cmd: ['echo', 'hi'], Entrypoint: [''], HostConfig: { NetworkMode: 'default', RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }, NetworkingConfig: { EndpointsConfig: { default: { Aliases: ['a'] } } } });
  assert.deepEqual(s.cmd, ['echo', 'hi']);
  assert.deepEqual(s.entrypoint, []);
  assert.equal(s.host.networkMode, 'bridge');
  assert.deepEqual(Object.keys(s.endpoints), ['bridge']);
  assert.deepEqual(s.host.restartPolicy, { name: 'on-failure', maximumRetryCount: 3 });
  assert.equal(spec({ Image: 'x' }).host.networkMode, 'bridge');
});

test('bad values are rejected with dockerd wording', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ Image: 'x', HostConfig: { Memory: -1 } }, /Minimum memory limit allowed is 6MB/],
    [{ Image: 'x', HostConfig: { Memory: 1024 } }, /Minimum memory limit allowed is 6MB/],
    [{ Image: 'x', HostConfig: { PortBindings: { '99999/tcp': [{ HostPort: '80' }] } } }, /invalid port specification: "99999"/],
    [{ Image: 'x', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '99999' }] } } }, /invalid port specification: "99999"/],
    [{ Image: 'x', HostConfig: { RestartPolicy: { Name: 'sometimes' } } }, /invalid restart policy: unknown policy 'sometimes'/],
    [{ Image: 'x', HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } } }, /maximum retry count can only be used with 'on-failure'/],
    [{ Image: 'x', HostConfig: { NanoCpus: 1e15 } }, /Range of CPUs is from 0.01 to/],
    [{ Image: 'x', WorkingDir: 'rel' }, /needs to be an absolute path/],
    [{ Image: 'x', HostConfig: { Mounts: [{ Type: 'bogus', Target: '/x' }] } }, /mount type unknown/],
    [{}, /Config cannot be empty/],
  ];
  for (const [body, re] of cases) assert.throws(() => spec(body), re, JSON.stringify(body));
});

function container(over: { name: string; status: ContainerStateFile['status']; exitCode?: number; labels?: Record<string, string>; created: string }): Container {
  const s = spec({ Image: 'busybox', Cmd: ['sh'], Labels: over.labels ?? {} });
  const id = (over.name + '0'.repeat(64)).replace(/[^a-f0-9]/g, 'a').slice(0, 64);
  const config: ContainerConfigFile = {
    version: 1, id, name: over.name, created: over.created, spec: s,
    image: { id: 'sha256:' + 'b'.repeat(64), ref: 'busybox', config: { Cmd: ['sh'] } },
    path: 'sh', args: [], rootfsKey: id, mountPoints: [],
  };
  const state: ContainerStateFile = {
    version: 1, status: over.status, pid: 0, conmonPid: 0, exitCode: over.exitCode ?? 0, error: '', oomKilled: false,
    startedAt: ZERO_TIME, finishedAt: ZERO_TIME, restartCount: 0, manuallyStopped: false, hasBeenStarted: false, mounted: false,
  };
  return new Container(config, state, '/nonexistent/' + id);
}

test('list filters match status, name, label, exited, ancestor, before and since', () => {
  const a = container({ name: 'web', status: 'running', labels: { app: 'x' }, created: '2024-01-01T00:00:01Z' });
  const b = container({ name: 'db', status: 'exited', exitCode: 3, created: '2024-01-01T00:00:02Z' });
  const all = [a, b];
  const pick = (f: Record<string, string[]>) =>
    all.filter((c) => matchesListFilters(c, Filters.parse(JSON.stringify(f)), (r) => all.find((x) => x.name === r))).map((c) => c.name);
  assert.deepEqual(pick({ status: ['exited'] }), ['db']);
  assert.deepEqual(pick({ name: ['we'] }), ['web']);
  assert.deepEqual(pick({ label: ['app=x'] }), ['web']);
  assert.deepEqual(pick({ exited: ['3'] }), ['db']);
  assert.deepEqual(pick({ ancestor: ['busybox'] }), ['web', 'db']);
  assert.deepEqual(pick({ before: ['db'] }), ['web']);
  assert.deepEqual(pick({ since: ['web'] }), ['db']);
  assert.throws(() => pick({ status: ['sleeping'] }), /invalid filter 'status=sleeping'/);
});

test('inspect and summary have Docker shapes for a stopped container', () => {
  const c = container({ name: 'db', status: 'exited', exitCode: 3, created: '2024-01-01T00:00:02Z' });
  const i = inspectWire(c);
  assert.equal(i.Name, '/db');
  assert.equal(i.State.Status, 'exited');
  assert.equal(i.State.ExitCode, 3);
  assert.equal(i.State.Running, false);
  assert.equal(i.HostConfig.NetworkMode, 'bridge');
  assert.deepEqual(i.Config.Cmd, ['sh']);
  assert.ok('bridge' in i.NetworkSettings.Networks);
  const s = summaryWire(c);
  assert.deepEqual(s.Names, ['/db']);
  assert.match(s.Status, /^Exited \(3\) /);
  assert.equal(s.Command, 'sh');
});
