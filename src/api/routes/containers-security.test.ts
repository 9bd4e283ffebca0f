import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorKind } from '../../util/index.js';
import { defaultContainerSpec, MASKED_PATHS, READONLY_PATHS } from '../../runtime/index.js';
import { createBodySchema, hostConfigWire, specFromCreateBody } from './containers-wire.js';

const spec = (hostConfig: unknown) => specFromCreateBody(createBodySchema.parse({ Image: 'busybox', HostConfig: hostConfig }));

test('security options are kept as sent, and bad ones are a 400 that names the option', () => {
  const profile = '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}';
  const opts = ['no-new-privileges=true', `seccomp=${profile}`, 'apparmor=unconfined', 'label=disable'];
  const s = spec({ SecurityOpt: opts });
  assert.deepEqual(s.host.securityOpt, opts);
  assert.deepEqual(hostConfigWire(s).SecurityOpt, opts);
  for (const [opt, re] of [
    ['bogus=1', /invalid --security-opt: "bogus=1"/],
    ['seccomp={"defaultAction":"SCMP_ACT_ALLOW",', /invalid --security-opt seccomp: the profile is not valid JSON/],
    ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"DENY"}]}', /syscalls\[0\]\.action: unknown action/],
  ] as const) {
    assert.throws(() => spec({ SecurityOpt: [opt] }), (err: unknown) => errorKind(err) === 'invalid-argument' && re.test((err as Error).message), opt);
  }
});

test('MaskedPaths and ReadonlyPaths from the docker CLI (systempaths=unconfined) reach the spec and inspect', () => {
  const open = spec({ MaskedPaths: [], ReadonlyPaths: [] });
  assert.deepEqual([open.host.maskedPaths, open.host.readonlyPaths], [[], []]);
  assert.deepEqual([hostConfigWire(open).MaskedPaths, hostConfigWire(open).ReadonlyPaths], [[], []]);
  const viaOpt = spec({ SecurityOpt: ['systempaths=unconfined'] });
  assert.deepEqual([viaOpt.host.maskedPaths, viaOpt.host.readonlyPaths], [[], []]);
  const plain = hostConfigWire(defaultContainerSpec('busybox'));
  assert.deepEqual([plain.MaskedPaths, plain.ReadonlyPaths], [MASKED_PATHS, READONLY_PATHS]);
  const priv = spec({ Privileged: true });
  assert.deepEqual([hostConfigWire(priv).MaskedPaths, hostConfigWire(priv).ReadonlyPaths], [null, null]);
});
