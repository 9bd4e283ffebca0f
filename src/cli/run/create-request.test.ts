import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCreatePlan } from './create-request.js';

test('run flags become docker\'s create request', () => {
  const plan = buildCreatePlan(
    {
      name: 'web', interactive: true, tty: true, env: ['A=1'], workdir: '/w', user: 'nobody', entrypoint: '/bin/sh',
      publish: ['8080:80'], restart: 'on-failure:2', memory: '64m', cpus: '0.5', pidsLimit: '20', label: ['a=b'],
      healthCmd: 'true', healthInterval: '2s', healthRetries: '3', stopSignal: 'SIGINT', stopTimeout: '5',
      network: ['mynet', 'other'], networkAlias: ['api'], ip: '10.1.0.5', capAdd: ['NET_ADMIN'], securityOpt: ['no-new-privileges'],
      init: true, readOnly: true, privileged: false, hostname: 'h1', addHost: ['db:10.0.0.2'], logOpt: ['max-size=1m'],
      pull: 'never',
    },
    ['busybox', 'echo', 'hi'],
    { run: true, env: {} },
  );
  const body = plan.body;
  assert.equal(plan.name, 'web');
  assert.equal(plan.pull, 'never');
  assert.deepEqual([body.Image, body.Cmd, body.Entrypoint], ['busybox', ['echo', 'hi'], ['/bin/sh']]);
  assert.deepEqual([body.Tty, body.OpenStdin, body.AttachStdin, body.StdinOnce, body.AttachStdout], [true, true, true, true, true]);
  assert.deepEqual([body.Env, body.WorkingDir, body.User, body.Hostname], [['A=1'], '/w', 'nobody', 'h1']);
  assert.deepEqual(body.ExposedPorts, { '80/tcp': {} });
  assert.deepEqual(body.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 2e9, Retries: 3 });
  assert.deepEqual([body.StopSignal, body.StopTimeout, body.Labels], ['SIGINT', 5, { a: 'b' }]);
  const h = body.HostConfig!;
  assert.deepEqual(h.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.deepEqual([h.Memory, h.NanoCpus, h.PidsLimit], [64 * 1024 * 1024, 5e8, 20]);
  assert.deepEqual([h.NetworkMode, h.Init, h.ReadonlyRootfs, h.CapAdd, h.SecurityOpt], ['mynet', true, true, ['NET_ADMIN'], ['no-new-privileges=true']]);
  assert.deepEqual(h.ExtraHosts, ['db:10.0.0.2']);
  assert.deepEqual(h.LogConfig, { Type: '', Config: { 'max-size': '1m' } });
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { mynet: { Aliases: ['api'], IPAMConfig: { IPv4Address: '10.1.0.5' } }, other: {} } });
});

test('run -d attaches nothing, create records docker\'s streams, -a picks streams', () => {
  const detached = buildCreatePlan({ detach: true, interactive: true }, ['busybox'], { run: true, env: {} }).body;
  assert.deepEqual([detached.AttachStdin, detached.AttachStdout, detached.OpenStdin, detached.StdinOnce, detached.Cmd], [false, false, true, false, null]);
  const created = buildCreatePlan({ interactive: true }, ['busybox'], { run: false, env: {} }).body;
  assert.deepEqual([created.AttachStdin, created.AttachStdout, created.AttachStderr, created.StdinOnce, created.HostConfig!.NetworkMode], [true, true, true, true, 'default']);
  const picked = buildCreatePlan({ attach: ['STDERR'] }, ['busybox'], { run: true, env: {} }).body;
  assert.deepEqual([picked.AttachStdin, picked.AttachStdout, picked.AttachStderr], [false, false, true]);
  assert.throws(() => buildCreatePlan({ attach: ['stdfoo'] }, ['busybox'], { run: true, env: {} }), /valid streams are STDIN, STDOUT and STDERR/);
  assert.throws(() => buildCreatePlan({ attach: ['stdout'], detach: true }, ['busybox'], { run: true, env: {} }), /Conflicting options: -a and -d/);
});

test('--no-healthcheck disables the image check and conflicts with --health-*', () => {
  assert.deepEqual(buildCreatePlan({ healthcheck: false }, ['busybox'], { run: true, env: {} }).body.Healthcheck, { Test: ['NONE'] });
  assert.throws(() => buildCreatePlan({ healthcheck: false, healthCmd: 'x' }, ['busybox'], { run: true, env: {} }), /--no-healthcheck conflicts with --health-\* options/);
  assert.throws(() => buildCreatePlan({ healthInterval: '-1s' }, ['busybox'], { run: true, env: {} }), /--health-interval cannot be negative/);
});

test('env files come before -e and labels files are read like env files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-create-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'e'), 'A=file\nB=2\n');
  await writeFile(join(dir, 'l'), 'team=x\n# no\n');
  const body = buildCreatePlan({ envFile: [join(dir, 'e')], env: ['A=flag'], labelFile: [join(dir, 'l')], label: ['k'] }, ['busybox'], { run: true, env: {} }).body;
  assert.deepEqual(body.Env, ['A=file', 'B=2', 'A=flag']);
  assert.deepEqual(body.Labels, { team: 'x', k: '' });
  assert.throws(() => buildCreatePlan({ envFile: [join(dir, 'missing')] }, ['busybox'], { run: true, env: {} }), /open .*missing: no such file or directory/);
});
