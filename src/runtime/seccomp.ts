// A default seccomp filter. Docker ships an allowlist; berth uses the equivalent denylist of
// the calls that allowlist withholds from unprivileged containers (kernel keyring, module and
// kexec loading, clock and swap changes, bpf/perf/userfaultfd, handle-based opens, …). A call
// stays allowed when the container holds the capability that Docker's profile ties it to.
// `--privileged` and `--security-opt seccomp=unconfined` run without a filter.
import { BerthError } from '../util/index.js';

interface Rule {
  names: string[];
  /** The call is allowed when the container has this capability. */
  unlessCap?: string;
}

const RULES: Rule[] = [
  { names: ['add_key', 'keyctl', 'request_key'] },
  { names: ['userfaultfd', 'perf_event_open', 'lookup_dcookie', 'nfsservctl', 'uselib', 'vm86', 'vm86old', 'create_module', 'get_kernel_syms', 'query_module'] },
  { names: ['bpf', 'fanotify_init', 'mount', 'umount', 'umount2', 'pivot_root', 'name_to_handle_at', 'open_by_handle_at', 'quotactl', 'setns', 'unshare'], unlessCap: 'CAP_SYS_ADMIN' },
  { names: ['syslog'], unlessCap: 'CAP_SYSLOG' },
  { names: ['init_module', 'finit_module', 'delete_module'], unlessCap: 'CAP_SYS_MODULE' },
  { names: ['kexec_load', 'kexec_file_load', 'reboot'], unlessCap: 'CAP_SYS_BOOT' },
  { names: ['settimeofday', 'stime', 'clock_settime', 'clock_adjtime'], unlessCap: 'CAP_SYS_TIME' },
  { names: ['swapon', 'swapoff'], unlessCap: 'CAP_SYS_ADMIN' },
  { names: ['acct'], unlessCap: 'CAP_SYS_PACCT' },
  { names: ['iopl', 'ioperm'], unlessCap: 'CAP_SYS_RAWIO' },
  { names: ['kcmp', 'process_vm_readv', 'process_vm_writev'], unlessCap: 'CAP_SYS_PTRACE' },
];

export interface OciSeccomp {
  defaultAction: 'SCMP_ACT_ALLOW';
  architectures: string[];
  syscalls: Array<{ names: string[]; action: 'SCMP_ACT_ERRNO'; errnoRet: number }>;
}

const EPERM = 1;

/** The native architecture and the compat ones its kernel can run. */
const ARCHES: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

/** The `--security-opt seccomp=…` choice: default, unconfined; a custom profile is refused. */
export function seccompMode(securityOpt: string[]): 'default' | 'unconfined' {
  for (const o of securityOpt) {
    const m = /^seccomp[:=](.*)$/.exec(o.trim());
    if (!m) continue;
    if (m[1] === 'unconfined') return 'unconfined';
    if (m[1] === 'default' || m[1] === 'builtin') return 'default';
    throw new BerthError('not-implemented', `custom seccomp profiles are not supported yet: "${m[1]}"`);
  }
  return 'default';
}

/** The filter for a container holding `caps`; undefined when it runs unconfined. */
export function defaultSeccomp(caps: readonly string[], opts: { privileged: boolean; securityOpt: string[] }): OciSeccomp | undefined {
  if (opts.privileged || seccompMode(opts.securityOpt) === 'unconfined') return undefined;
  const have = new Set(caps);
  const names = RULES.filter((r) => !r.unlessCap || !have.has(r.unlessCap)).flatMap((r) => r.names);
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ARCHES[process.arch] ?? [],
    syscalls: [{ names, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }],
  };
}
