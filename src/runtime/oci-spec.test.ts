import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilitiesFromMask, computeCapabilities, DEFAULT_CAPABILITIES } from './capabilities.js';
import { defaultContainerSpec, type ContainerSpec } from './container-spec.js';
import { commandFor, generateOciSpec, MASKED_PATHS, parseProcLimits, processEnv, type OciSpecInput } from './oci-spec.js';
import { resolveInRoot } from './rootfs-path.js';
import { resolveUser, resolveUserFrom, parsePasswd, parseGroup } from './user.js';

const ID = 'abcdef0123456789'.repeat(4);
const HOST_BND = capabilitiesFromMask('1fffeffffff');

function input(mut: (s: ContainerSpec) => void = () => {}, extra: Partial<OciSpecInput> = {}): OciSpecInput {
  const spec = defaultContainerSpec('busybox');
  mut(spec);
  return {
    id: ID,
    spec,
    image: { Env: ['PATH=/usr/bin:/bin', 'A=1'], Cmd: ['sh'] },
    rootfs: '/r',
    userdataDir: '/u',
    user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
    args: ['sh'],
    bounding: HOST_BND,
    hostHardLimits: { RLIMIT_NOFILE: 20000 },
    cgroupsPath: '/berth/' + ID,
    network: { mode: 'new' },
    extraMounts: [],
    swapAccounting: false,
    ...extra,
  };
}

test('a default container gets Docker default capabilities, masked paths and the short-id hostname', () => {
  const s = generateOciSpec(input());
  assert.deepEqual([...s.process.capabilities.bounding].sort(), [...DEFAULT_CAPABILITIES].sort());
  assert.equal(s.hostname, ID.slice(0, 12));
  assert.deepEqual(s.linux.maskedPaths, MASKED_PATHS);
  assert.ok(s.linux.readonlyPaths.includes('/proc/sys'));
  const dests = s.mounts.map((m) => m.destination);
  for (const d of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname']) {
    assert.ok(dests.includes(d), d);
  }
  assert.equal(s.mounts.find((m) => m.destination === '/etc/hosts')!.source, '/u/hosts');
  assert.ok(s.mounts.find((m) => m.destination === '/sys')!.options.includes('ro'));
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.root.readonly, false);
  assert.deepEqual(s.linux.namespaces.map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
});

test('privileged grants the daemon bounding set, which lacks SYS_RESOURCE here', () => {
  const s = generateOciSpec(input((sp) => (sp.host.privileged = true)));
  assert.deepEqual(s.process.capabilities.bounding, HOST_BND);
  assert.ok(!s.process.capabilities.bounding.includes('CAP_SYS_RESOURCE'));
  assert.ok(s.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
});

test('cap-drop ALL with cap-add keeps only the added capability', () => {
  assert.deepEqual(computeCapabilities({ privileged: false, capAdd: ['net_admin'], capDrop: ['ALL'], bounding: HOST_BND }), ['CAP_NET_ADMIN']);
  const all = computeCapabilities({ privileged: false, capAdd: ['ALL'], capDrop: ['CAP_CHOWN'], bounding: HOST_BND });
  assert.ok(!all.includes('CAP_CHOWN') && all.includes('CAP_SYS_ADMIN'));
  assert.throws(() => computeCapabilities({ privileged: false, capAdd: ['BOGUS'], capDrop: [], bounding: HOST_BND }), /invalid capability/);
});

test('the environment has PATH, HOSTNAME and TERM only with a tty, user values override the image', () => {
  const s = generateOciSpec(input((sp) => { sp.env = ['A=2', 'B=3']; sp.tty = true; }));
  assert.deepEqual(s.process.env, ['HOSTNAME=' + ID.slice(0, 12), 'TERM=xterm', 'PATH=/usr/bin:/bin', 'A=2', 'B=3']);
  assert.ok(processEnv([], 'h', false).includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
  assert.ok(!processEnv([], 'h', false).some((e) => e.startsWith('TERM=')));
});

test('a name without a value (`-e VAR` with VAR unset where the CLI runs) unsets it, the image’s value too', () => {
  const s = generateOciSpec(input((sp) => { sp.env = ['NOPE', 'A', 'B=3']; }));
  assert.deepEqual(s.process.env, ['HOSTNAME=' + ID.slice(0, 12), 'PATH=/usr/bin:/bin', 'B=3']);
});

test('resources map memory, cpus and pids; ulimits are clamped to the host hard limit', () => {
  const s = generateOciSpec(
    input((sp) => {
      sp.host.memory = 64 << 20;
      sp.host.nanoCpus = 1.5e9;
      sp.host.pidsLimit = 50;
      sp.host.ulimits = [{ name: 'nofile', soft: 1048576, hard: 1048576 }];
      sp.host.readonlyRootfs = true;
      sp.host.securityOpt = ['no-new-privileges'];
      sp.host.sysctls = { 'net.ipv4.ip_forward': '1' };
    }),
  );
  assert.deepEqual(s.linux.resources.memory, { limit: 64 << 20 });
  assert.deepEqual(s.linux.resources.cpu, { period: 100000, quota: 150000 });
  assert.deepEqual(s.linux.resources.pids, { limit: 50 });
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
  assert.equal(s.root.readonly, true);
  assert.equal(s.process.noNewPrivileges, true);
  assert.deepEqual(s.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
});

test('host network drops the network namespace and uses the host name; container: joins a path', () => {
  const s = generateOciSpec(input(() => {}, { network: { mode: 'host' }, hostHostname: 'myhost' }));
  assert.ok(!s.linux.namespaces.some((n) => n.type === 'network'));
  assert.equal(s.hostname, 'myhost');
  const j = generateOciSpec(input(() => {}, { network: { mode: 'path', path: '/proc/42/ns/net' } }));
  assert.deepEqual(j.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/proc/42/ns/net' });
});

test('a user mount at /etc/hosts replaces the generated one', () => {
  const s = generateOciSpec(input(() => {}, { extraMounts: [{ destination: '/etc/hosts', type: 'bind', source: '/x', options: ['rbind'] }] }));
  assert.deepEqual(s.mounts.filter((m) => m.destination === '/etc/hosts').map((m) => m.source), ['/x']);
});

test('entrypoint override drops the image CMD; no command at all is an error', () => {
  assert.deepEqual(commandFor({ entrypoint: ['/bin/echo'] }, { Cmd: ['sh'] }), ['/bin/echo']);
  assert.deepEqual(commandFor({ cmd: ['ls'] }, { Entrypoint: ['/e'], Cmd: ['sh'] }), ['/e', 'ls']);
  assert.deepEqual(commandFor({}, { Entrypoint: ['/e'], Cmd: ['sh'] }), ['/e', 'sh']);
  assert.throws(() => commandFor({}, {}), /No command specified/);
});

test('user names and groups resolve from passwd and group files, the primary group first among the supplementary ones', () => {
  const pw = parsePasswd('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n');
  const gr = parseGroup('root:x:0:\nnogroup:x:65534:\napp:x:1000:\nwheel:x:10:app\n');
  assert.deepEqual(resolveUserFrom('nobody', [], pw, gr), { uid: 65534, gid: 65534, additionalGids: [65534], home: '/nonexistent' });
  assert.deepEqual(resolveUserFrom('app', [], pw, gr).additionalGids, [1000, 10]);
  assert.deepEqual(resolveUserFrom('1000:10', [], pw, gr), { uid: 1000, gid: 10, additionalGids: [10], home: '/home/app' });
  assert.deepEqual(resolveUserFrom('4242', ['wheel'], pw, gr), { uid: 4242, gid: 0, additionalGids: [0, 10], home: '/' });
  assert.throws(() => resolveUserFrom('ghost', [], pw, gr), /unable to find user ghost/);
});

test('paths and users resolve inside the rootfs through absolute symlinks', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'usr/etc'), { recursive: true });
  await symlink('/usr/etc', join(root, 'etc'));
  await writeFile(join(root, 'usr/etc/passwd'), 'nobody:x:65534:65534::/:/bin/false\n');
  assert.equal(await resolveInRoot(root, '/etc/passwd'), join(root, 'usr/etc/passwd'));
  await symlink('/../../../etc', join(root, 'escape'));
  assert.equal(await resolveInRoot(root, '/escape/shadow'), join(root, 'usr/etc/shadow'));
  assert.equal((await resolveUser(root, 'nobody', [])).uid, 65534);
});

test('proc limits parse into hard limits', () => {
  const l = parseProcLimits('Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 20000                files\nMax processes             unlimited            unlimited            processes\n');
  assert.deepEqual(l, { RLIMIT_NOFILE: 20000, RLIMIT_NPROC: -1 });
});

/** Whether an OCI filter allows the call unconditionally (a rule without argument filters). */
function allows(s: ReturnType<typeof generateOciSpec>, name: string): boolean {
  return (s.linux.seccomp?.syscalls ?? []).some((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args && r.names.includes(name));
}

test('a default container runs under an EPERM allowlist that widens with the capabilities it holds', () => {
  const s = generateOciSpec(input());
  assert.equal(s.linux.seccomp!.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.linux.seccomp!.defaultErrnoRet, 1);
  assert.ok(allows(s, 'read') && allows(s, 'execve') && allows(s, 'chroot'));
  assert.ok(!allows(s, 'mount') && !allows(s, 'unshare') && !allows(s, 'keyctl') && !allows(s, 'clone'));
  const admin = generateOciSpec(input((sp) => (sp.host.capAdd = ['SYS_ADMIN'])));
  assert.ok(allows(admin, 'mount') && allows(admin, 'unshare') && allows(admin, 'clone'));
  assert.ok(!allows(admin, 'keyctl'));
  assert.equal(generateOciSpec(input((sp) => (sp.host.privileged = true))).linux.seccomp, undefined);
  assert.equal(generateOciSpec(input((sp) => (sp.host.securityOpt = ['seccomp=unconfined']))).linux.seccomp, undefined);
});

test('a custom profile sent inline replaces the default one and privileged still runs without a filter', () => {
  const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] });
  const s = generateOciSpec(input((sp) => (sp.host.securityOpt = [`seccomp=${profile}`])));
  assert.deepEqual(s.linux.seccomp, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] });
  const priv = generateOciSpec(input((sp) => ((sp.host.securityOpt = [`seccomp=${profile}`]), (sp.host.privileged = true))));
  assert.equal(priv.linux.seccomp, undefined);
  assert.throws(() => generateOciSpec(input((sp) => (sp.host.securityOpt = ['seccomp=/x.json']))), /not valid JSON/);
});

test('on a kernel without seccomp the default profile is dropped and a custom one refused, as dockerd does', () => {
  const noSeccomp = { hostSecurity: { seccomp: false, appArmor: false } };
  assert.equal(generateOciSpec(input(undefined, noSeccomp)).linux.seccomp, undefined);
  const custom = (sp: ContainerSpec) => (sp.host.securityOpt = ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']);
  assert.throws(() => generateOciSpec(input(custom, noSeccomp)), /seccomp is not enabled in your kernel, cannot run a custom seccomp profile/);
});

test('systempaths=unconfined and empty MaskedPaths unmask /proc; writable-cgroups mounts cgroups read-write', () => {
  const open = generateOciSpec(input((sp) => (sp.host.securityOpt = ['systempaths=unconfined'])));
  assert.deepEqual([open.linux.maskedPaths, open.linux.readonlyPaths], [[], []]);
  const wire = generateOciSpec(input((sp) => ((sp.host.maskedPaths = []), (sp.host.readonlyPaths = ['/proc/sys']))));
  assert.deepEqual([wire.linux.maskedPaths, wire.linux.readonlyPaths], [[], ['/proc/sys']]);
  const cg = (s: ReturnType<typeof generateOciSpec>) => s.mounts.find((m) => m.destination === '/sys/fs/cgroup')!.options;
  assert.ok(cg(generateOciSpec(input())).includes('ro'));
  assert.ok(cg(generateOciSpec(input((sp) => (sp.host.securityOpt = ['writable-cgroups=true'])))).includes('rw'));
});

test('an AppArmor profile is set only where the host enforces AppArmor, and privileged runs unconfined', () => {
  const named = (sp: ContainerSpec) => (sp.host.securityOpt = ['apparmor=my-profile']);
  assert.equal(generateOciSpec(input(named)).process.apparmorProfile, undefined);
  const aa = { hostSecurity: { seccomp: true, appArmor: true } };
  assert.equal(generateOciSpec(input(named, aa)).process.apparmorProfile, 'my-profile');
  assert.equal(generateOciSpec(input(undefined, aa)).process.apparmorProfile, undefined);
  const priv = generateOciSpec(input((sp) => ((sp.host.privileged = true), named(sp)), aa));
  assert.equal(priv.process.apparmorProfile, 'unconfined');
});

test('signals normalize like docker kill -s and sizes parse like --log-opt max-size', async () => {
  const { normalizeSignal, signalNumber, parseSize } = await import('./signals.js');
  assert.equal(normalizeSignal('term'), 'SIGTERM');
  assert.equal(normalizeSignal('9'), 'SIGKILL');
  assert.equal(signalNumber('SIGUSR1'), 10);
  assert.throws(() => normalizeSignal('NOPE'), /Invalid signal: NOPE/);
  assert.equal(parseSize('10m'), 10 * 1024 * 1024);
  assert.equal(parseSize('512k'), 512 * 1024);
  assert.throws(() => parseSize('lots'), /invalid size/);
});

test('--domainname becomes the kernel.domainname sysctl, as dockerd sets it (runc 1.1 ignores the spec field); a --sysctl of it wins', () => {
  assert.deepEqual(generateOciSpec(input((sp) => { sp.domainname = 'ex.com'; })).linux.sysctl, { 'kernel.domainname': 'ex.com' });
  assert.deepEqual(generateOciSpec(input((sp) => { sp.domainname = 'ex.com'; sp.host.sysctls = { 'kernel.domainname': 'mine' }; })).linux.sysctl, { 'kernel.domainname': 'mine' });
  assert.equal(generateOciSpec(input()).linux.sysctl, undefined);
});

test('the network files and user mounts come after the system ones, parents first: a volume at /etc does not hide /etc/hosts', () => {
  const vol = { destination: '/etc', type: 'bind', source: '/v/_data', options: ['rbind', 'rw'] };
  const shm = { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] };
  const s = generateOciSpec({ ...input(), extraMounts: [vol, shm] });
  const order = s.mounts.map((m) => m.destination);
  assert.ok(order.indexOf('/etc') < order.indexOf('/etc/hosts') && order.indexOf('/etc') < order.indexOf('/etc/resolv.conf'), order.join(' '));
  assert.equal(order.filter((d) => d === '/dev/shm').length, 1, 'the user tmpfs replaces the system /dev/shm');
  assert.ok(order.indexOf('/dev') < order.indexOf('/dev/shm'));
});
