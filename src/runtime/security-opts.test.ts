import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorKind } from '../util/index.js';
import { appArmorProfileFor, probeAppArmor } from './apparmor.js';
import { parseSecurityOpts, probeHostSecurity, securityOptionsFor } from './security-opts.js';

test('security options parse like dockerd: key=value, the deprecated key:value, and the bare forms', () => {
  const o = parseSecurityOpts(['no-new-privileges', 'seccomp=unconfined', 'apparmor:my-prof', 'label=level:s0:c1', 'disable', 'systempaths=unconfined', 'writable-cgroups=true']);
  assert.deepEqual(o, {
    noNewPrivileges: true,
    seccomp: { mode: 'unconfined' },
    appArmorProfile: 'my-prof',
    labels: ['level:s0:c1', 'disable'],
    unconfinedSystemPaths: true,
    writableCgroups: true,
  });
  assert.equal(parseSecurityOpts(['no-new-privileges=false']).noNewPrivileges, false);
  assert.equal(parseSecurityOpts(['no-new-privileges=1']).noNewPrivileges, true);
  assert.deepEqual(parseSecurityOpts(['seccomp=builtin']).seccomp, { mode: 'builtin' });
  assert.deepEqual(parseSecurityOpts([]).seccomp, { mode: 'builtin' });
  const custom = parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']).seccomp;
  assert.equal(custom.mode, 'custom');
});

test('unknown keys, bad booleans and bad profiles are invalid arguments', () => {
  for (const [opt, re] of [
    ['foo=bar', /invalid --security-opt: "foo=bar"/],
    ['nonsense', /invalid --security-opt: "nonsense"/],
    ['no-new-privileges=maybe', /"maybe" is not a boolean/],
    ['systempaths=confined', /systempaths takes only "unconfined"/],
    ['seccomp=./profile.json', /--security-opt seccomp: the profile is not valid JSON/],
    [`seccomp={"defaultAction":"X"${' '.repeat(100)}}`, /defaultAction: unknown action/],
  ] as const) {
    assert.throws(
      () => parseSecurityOpts([opt]),
      (err: unknown) => errorKind(err) === 'invalid-argument' && re.test((err as Error).message),
      opt,
    );
  }
  // A long option is cut in the message, not quoted whole.
  assert.throws(() => parseSecurityOpts([`x=${'a'.repeat(500)}`]), (err: unknown) => (err as Error).message.length < 120);
});

test('AppArmor counts as enabled only with the module on and apparmor_parser present', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-aa-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const enabled = join(dir, 'enabled');
  const parser = join(dir, 'apparmor_parser');
  assert.equal(await probeAppArmor({ enabled, parsers: [parser] }), false);
  await writeFile(enabled, 'Y\n');
  assert.equal(await probeAppArmor({ enabled, parsers: [parser] }), false);
  await writeFile(parser, '');
  assert.equal(await probeAppArmor({ enabled, parsers: [parser] }), true);
  await writeFile(enabled, 'N\n');
  assert.equal(await probeAppArmor({ enabled, parsers: [parser] }), false);
  assert.equal(appArmorProfileFor({ profile: 'p', privileged: false, hostEnabled: false }), undefined);
  assert.equal(appArmorProfileFor({ profile: 'p', privileged: false, hostEnabled: true }), 'p');
  assert.equal(appArmorProfileFor({ profile: 'p', privileged: true, hostEnabled: true }), 'unconfined');
  assert.equal(appArmorProfileFor({ profile: undefined, privileged: false, hostEnabled: true }), undefined);
});

test('docker info lists seccomp with the built-in profile, and apparmor first where it is enabled', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-sec-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const status = join(dir, 'status');
  await writeFile(status, 'Name:\tnode\nSeccomp:\t0\nSeccomp_filters:\t0\n');
  const host = await probeHostSecurity({ status, appArmorEnabled: join(dir, 'none'), appArmorParsers: [], x32: { arch: 'arm64' } });
  assert.deepEqual(host, { seccomp: true, appArmor: false, x32Abi: false });
  assert.deepEqual(securityOptionsFor(host), ['name=seccomp,profile=builtin']);
  assert.deepEqual(securityOptionsFor({ seccomp: true, appArmor: true }), ['name=apparmor', 'name=seccomp,profile=builtin']);
  assert.deepEqual(securityOptionsFor({ seccomp: false, appArmor: false }), []);
});
