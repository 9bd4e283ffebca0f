import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorKind } from '../util/index.js';
import { DEFAULT_CAPABILITIES } from './capabilities.js';
import { parseSeccompProfile, seccompFor, toOciSeccomp, type OciSeccomp, type SeccompHost } from './seccomp.js';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp-profile.js';

const X64: SeccompHost = { arch: 'x64', kernel: '6.1.0-18-amd64' };
const ARM64: SeccompHost = { arch: 'arm64', kernel: '6.1.0' };

function builtin(caps: string[] = DEFAULT_CAPABILITIES, host: SeccompHost = X64): OciSeccomp {
  return seccompFor({ mode: 'builtin' }, caps, { privileged: false, host })!;
}

/** Rules of the filter that name the call. */
function rulesFor(s: OciSeccomp, name: string) {
  return (s.syscalls ?? []).filter((r) => r.names.includes(name));
}

function allowedPlain(s: OciSeccomp, name: string): boolean {
  return rulesFor(s, name).some((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args);
}

test('the built-in profile denies with EPERM by default and allows the everyday calls', () => {
  const s = builtin();
  assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.defaultErrnoRet, 1);
  for (const n of ['read', 'write', 'openat', 'execve', 'mmap', 'futex', 'rt_sigaction', 'exit_group', 'getdents64', 'statx', 'rseq', 'chroot', 'pipe', 'pipe2', 'wait4', 'name_to_handle_at']) {
    assert.ok(allowedPlain(s, n), `${n} should be allowed`);
  }
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'keyctl', 'add_key', 'request_key', 'init_module', 'kexec_load', 'bpf', 'perf_event_open', 'userfaultfd', 'open_by_handle_at', 'settimeofday', 'reboot', 'swapon', 'acct', 'io_uring_setup', 'pivot_root', 'syslog', 'vhangup']) {
    assert.ok(!allowedPlain(s, n), `${n} should be denied`);
  }
});

test('each capability Docker ties to calls allows them only when the container holds it', () => {
  const pairs: Array<[string, string[]]> = [
    ['CAP_SYS_ADMIN', ['mount', 'umount2', 'unshare', 'setns', 'sethostname', 'clone', 'clone3', 'fsopen', 'move_mount']],
    ['CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise']],
    ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
    ['CAP_SYS_TIME', ['settimeofday', 'clock_settime']],
    ['CAP_SYS_BOOT', ['reboot']],
    ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
    ['CAP_SYS_NICE', ['mbind', 'set_mempolicy', 'get_mempolicy']],
    ['CAP_SYSLOG', ['syslog']],
    ['CAP_SYS_PACCT', ['acct']],
    ['CAP_SYS_TTY_CONFIG', ['vhangup']],
    ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
    ['CAP_BPF', ['bpf']],
    ['CAP_PERFMON', ['perf_event_open']],
  ];
  for (const [cap, names] of pairs) {
    const without = builtin();
    const withCap = builtin([...DEFAULT_CAPABILITIES, cap]);
    for (const n of names) {
      assert.ok(!allowedPlain(without, n), `${n} denied without ${cap}`);
      assert.ok(allowedPlain(withCap, n), `${n} allowed with ${cap}`);
    }
  }
  // Dropping a default capability takes its calls away too.
  assert.ok(!allowedPlain(builtin(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT')), 'chroot'));
});

test('clone may not create namespaces without CAP_SYS_ADMIN and clone3 answers ENOSYS', () => {
  const s = builtin();
  const clone = rulesFor(s, 'clone');
  assert.deepEqual(clone, [
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
  ]);
  assert.deepEqual(rulesFor(s, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
  const admin = builtin([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
  assert.ok(rulesFor(admin, 'clone3').every((r) => r.action === 'SCMP_ACT_ALLOW'));
  assert.ok(rulesFor(admin, 'clone').every((r) => !r.args));
});

test('personality is allowed only for the Linux personas and socket for every family but AF_VSOCK', () => {
  const s = builtin();
  const personas = rulesFor(s, 'personality').map((r) => {
    assert.equal(r.args?.length, 1);
    assert.equal(r.args![0]!.op, 'SCMP_CMP_EQ');
    return r.args![0]!.value;
  });
  assert.deepEqual(personas, [0, 8, 0x20000, 0x20008, 0xffffffff]);
  assert.deepEqual(rulesFor(s, 'socket'), [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] }]);
});

test('the architectures are the native one and its compat ones, and arch-only calls follow the host', () => {
  const x = builtin();
  assert.deepEqual(x.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.ok(allowedPlain(x, 'arch_prctl') && allowedPlain(x, 'modify_ldt'));
  assert.ok(!allowedPlain(x, 'set_tls'));
  const a = builtin(DEFAULT_CAPABILITIES, ARM64);
  assert.deepEqual(a.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(allowedPlain(a, 'set_tls') && allowedPlain(a, 'cacheflush'));
  assert.ok(!allowedPlain(a, 'arch_prctl') && !allowedPlain(a, 'modify_ldt'));
  // An architecture the map does not know gets no list (runc then filters the native one).
  assert.equal(builtin(DEFAULT_CAPABILITIES, { arch: 'sparc', kernel: '6.1' }).architectures, undefined);
});

test('a kernel without the x32 ABI gets no x32 branch, and one that may have it keeps Docker\'s list', () => {
  const without = seccompFor({ mode: 'builtin' }, DEFAULT_CAPABILITIES, { privileged: false, host: X64, x32Abi: false })!;
  assert.deepEqual(without.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  const withIt = seccompFor({ mode: 'builtin' }, DEFAULT_CAPABILITIES, { privileged: false, host: X64, x32Abi: true })!;
  assert.deepEqual(withIt.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  // The rules are the same either way: only the architectures differ.
  assert.deepEqual(without.syscalls, withIt.syscalls);
  // A profile that lists x32 alone keeps it: an empty list would mean "native only" to runc.
  const only = toOciSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X32'] }, [], { ...X64, x32: false });
  assert.deepEqual(only.architectures, ['SCMP_ARCH_X32']);
});

test('minKernel keeps ptrace for kernels from 4.8 on only', () => {
  assert.ok(allowedPlain(builtin(), 'ptrace'));
  assert.ok(!allowedPlain(builtin(DEFAULT_CAPABILITIES, { arch: 'x64', kernel: '4.4.0-210-generic' }), 'ptrace'));
  assert.ok(allowedPlain(builtin([...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE'], { arch: 'x64', kernel: '4.4.0' }), 'ptrace'));
});

test('privileged and unconfined containers get no filter', () => {
  assert.equal(seccompFor({ mode: 'builtin' }, DEFAULT_CAPABILITIES, { privileged: true }), undefined);
  assert.equal(seccompFor({ mode: 'unconfined' }, DEFAULT_CAPABILITIES, { privileged: false }), undefined);
});

test('a Docker-format profile converts with name/names, archMap, includes and excludes, errnoRet and flags', () => {
  const profile = parseSeccompProfile(
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      archMap: [
        { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] },
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
      ],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        { name: 'read', action: 'SCMP_ACT_ALLOW', args: null },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 28, comment: 'no space' },
        { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
        { names: ['write'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_NET_RAW'] } },
        { names: ['kill'], action: 'SCMP_ACT_LOG', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      ],
    }),
  );
  const s = toOciSeccomp(profile, ['CAP_CHOWN'], X64);
  assert.deepEqual(s, {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    flags: ['SECCOMP_FILTER_FLAG_LOG'],
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW' },
      { names: ['write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['kill'], action: 'SCMP_ACT_LOG', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
    ],
  });
  const admin = toOciSeccomp(profile, ['CAP_SYS_ADMIN', 'CAP_NET_RAW'], ARM64);
  assert.deepEqual(admin.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.deepEqual(admin.syscalls!.map((r) => r.names[0]), ['read', 'mkdir', 'mount', 'kill']);
  // A plain "architectures" list is passed through as given.
  const plain = toOciSeccomp(parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"]}'), [], ARM64);
  assert.deepEqual(plain, { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [] });
});

test('bad profiles are refused as invalid arguments naming the option and the place', () => {
  const cases: Array<[string, RegExp]> = [
    ['/etc/profile.json', /--security-opt seccomp: the profile is not valid JSON.*sends its content/],
    ['{"defaultAction":', /not valid JSON/],
    ['{"syscalls":[]}', /defaultAction: /],
    ['{"defaultAction":"SCMP_ACT_NOPE"}', /defaultAction: unknown action/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"ALLOW"}]}', /syscalls\[0\]\.action: unknown action/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"EQ"}]}]}', /syscalls\[0\]\.args\[0\]\.op: unknown operator/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}', /args\[0\]\.index/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","architectures":["x86_64"]}', /architectures\[0\]: unknown architecture/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}', /both "architectures" and "archMap"/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}', /syscalls\[0\]: both "name" and "names"/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ERRNO"}]}', /syscalls\[0\]: no syscall name/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW","errnoRet":1}]}', /errnoRet is set but action SCMP_ACT_ALLOW/],
    ['{"defaultAction":"SCMP_ACT_KILL","defaultErrnoRet":1}', /defaultErrnoRet is set/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_NOPE"]}', /flags\[0\]: unknown flag/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_NOTIFY"}]}', /SCMP_ACT_NOTIFY needs listenerPath/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"new"}}]}', /minKernel: "new" is not a kernel version/],
  ];
  for (const [json, re] of cases) {
    assert.throws(
      () => parseSeccompProfile(json),
      (err: unknown) => {
        assert.equal(errorKind(err), 'invalid-argument', json);
        assert.match((err as Error).message, re, json);
        assert.match((err as Error).message, /^invalid --security-opt seccomp: /);
        return true;
      },
    );
  }
});

test('the built-in profile is itself a valid Docker-format profile', () => {
  const again = parseSeccompProfile(JSON.stringify(DEFAULT_SECCOMP_PROFILE));
  assert.deepEqual(toOciSeccomp(again, DEFAULT_CAPABILITIES, X64), builtin());
});
