// --security-opt through the real docker CLI against berthd, observed from inside busybox
// containers: the default seccomp profile's EPERM, unconfined, a custom profile file, bad
// profiles refused at create, systempaths=unconfined, AppArmor on a host without it, docker info.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDaemon } from '../../helpers/daemon.js';
import { busyboxSuite } from '../../helpers/busybox-suite.js';
import { berth } from '../cli/berth-cli.js';

const suite = busyboxSuite();
const { skip } = suite;
let d: TestDaemon;
let dir: string;

before(async () => {
  if (skip) return;
  d = await suite.ready();
  dir = await mkdtemp(join(tmpdir(), 'berth-secopt-'));
});
test.after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

// A user namespace needs no capability, so only seccomp stands between busybox's
// `unshare -U` and success: the test fails if the default filter is off.
test('the default profile refuses unshare with EPERM; unconfined, CAP_SYS_ADMIN and privileged lift it', { skip }, async () => {
  const denied = await d.docker(['run', '--rm', 'busybox', 'unshare', '-U', 'true']);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /Operation not permitted/);
  await ok(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'unshare', '-U', 'true']);
  await ok(['run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', 'unshare', '-U', 'true']);
  await ok(['run', '--rm', '--privileged', 'busybox', 'unshare', '-U', 'true']);
  // personality is filtered by argument: the Linux32 persona is one of the allowed ones.
  assert.equal((await ok(['run', '--rm', 'busybox', 'linux32', 'uname', '-m'])).trim(), 'i686');
  // The everyday calls of a shell and its tools still work under the filter.
  const everyday = 'mkdir /x && echo hi > /x/f && cat /x/f | tr a-z A-Z && echo "$(ls /x)" && sleep 0.1 & wait';
  assert.equal(await ok(['run', '--rm', 'busybox', 'sh', '-c', everyday]), 'HI\nf\n');
});

test('a custom profile file sent by the docker CLI makes mkdir fail with its errno and shows in inspect', { skip }, async () => {
  const profile = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 }],
  };
  const file = join(dir, 'no-mkdir.json');
  await writeFile(file, JSON.stringify(profile, null, 2));
  const r = await d.docker(['run', '--name', 'nomkdir', '--security-opt', `seccomp=${file}`, 'busybox', 'sh', '-c', 'mkdir /x; touch /y && echo touched']);
  assert.match(r.stderr, /No space left on device/);
  assert.equal(r.stdout, 'touched\n');
  const opts = JSON.parse(await ok(['inspect', '--format', '{{json .HostConfig.SecurityOpt}}', 'nomkdir'])) as string[];
  assert.equal(opts.length, 1);
  assert.deepEqual(JSON.parse(opts[0]!.replace(/^seccomp=/, '')), profile);
  await ok(['rm', 'nomkdir']);
});

test('berth run sends a profile file like the docker CLI and systempaths=unconfined as empty path lists', { skip }, async () => {
  const file = join(dir, 'eacces-mkdir.json');
  await writeFile(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }, null, 2));
  const r = await berth(d.socketPath, ['run', '--rm', '--security-opt', `seccomp=${file}`, '--security-opt', 'systempaths=unconfined', 'busybox', 'sh', '-c', "mkdir /x; grep -cE ' /proc/(keys|sys) ' /proc/self/mountinfo"]);
  assert.match(r.stderr, /Permission denied/);
  assert.equal(r.stdout.trim(), '0');
  const missing = await berth(d.socketPath, ['run', '--rm', '--security-opt', `seccomp=${join(dir, 'absent.json')}`, 'busybox', 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /opening seccomp profile .* no such file or directory/);
});

test('a bad profile or option is refused at create with a message naming it, and nothing is created', { skip }, async () => {
  const badAction = join(dir, 'bad-action.json');
  await writeFile(badAction, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_DENY' }] }));
  const r = await d.docker(['run', '--name', 'badprof', '--security-opt', `seccomp=${badAction}`, 'busybox', 'true']);
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /invalid --security-opt seccomp: syscalls\[0\]\.action: unknown action \\?"SCMP_ACT_DENY\\?"/);
  const badJson = join(dir, 'bad.json');
  await writeFile(badJson, '{"defaultAction": ');
  const j = await d.docker(['run', '--security-opt', `seccomp=${badJson}`, 'busybox', 'true']);
  assert.equal(j.code, 125);
  assert.match(j.stderr, /compacting json for seccomp profile/);
  const raw = await d.request('POST', '/containers/create?name=badraw', { Image: 'busybox', HostConfig: { SecurityOpt: ['seccomp=/etc/profile.json'] } });
  assert.equal(raw.status, 400);
  assert.match(raw.json<{ message: string }>().message, /^invalid --security-opt seccomp: the profile is not valid JSON/);
  const unknown = await d.docker(['run', '--security-opt', 'bogus=1', 'busybox', 'true']);
  assert.equal(unknown.code, 125);
  assert.match(unknown.stderr, /invalid --security-opt: \\?"bogus=1\\?"/);
  assert.equal((await ok(['ps', '-aq'])).trim(), '');
});

test('systempaths=unconfined leaves /proc without masked and read-only paths', { skip }, async () => {
  // /proc/keys (masked) and /proc/sys (read-only) exist on every kernel berth runs on.
  const count = (extra: string[]) =>
    ok(['run', '--rm', ...extra, 'busybox', 'sh', '-c', "grep -cE ' /proc/(keys|sys) ' /proc/self/mountinfo || true"]);
  assert.equal((await count([])).trim(), '2');
  assert.equal((await count(['--security-opt', 'systempaths=unconfined'])).trim(), '0');
  await ok(['create', '--name', 'sysp', '--security-opt', 'systempaths=unconfined', 'busybox', 'true']);
  assert.equal((await ok(['inspect', '--format', '{{json .HostConfig.MaskedPaths}} {{json .HostConfig.ReadonlyPaths}}', 'sysp'])).trim(), '[] []');
  await ok(['rm', 'sysp']);
});

test('apparmor and label options are accepted with no effect on a host without AppArmor or SELinux', { skip }, async () => {
  assert.equal(await ok(['run', '--rm', '--security-opt', 'apparmor=some-profile', '--security-opt', 'label=disable', 'busybox', 'echo', 'ran']), 'ran\n');
});

test('docker info lists seccomp with the built-in profile', { skip }, async () => {
  const opts = JSON.parse(await ok(['info', '--format', '{{json .SecurityOptions}}'])) as string[];
  assert.ok(opts.includes('name=seccomp,profile=builtin'), JSON.stringify(opts));
});
