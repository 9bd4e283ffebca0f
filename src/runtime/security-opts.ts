// `--security-opt` values (HostConfig.SecurityOpt) read the way dockerd reads them: `key=value`
// (or the deprecated `key:value`), `no-new-privileges` and `disable` alone. Inspect shows the
// list as the client sent it; this is parsed again wherever it is used, and once at create so a
// bad value is a 400 before anything exists.
import { readFile } from 'node:fs/promises';
import { invalidArgument } from '../util/index.js';
import { probeAppArmor } from './apparmor.js';
import { parseSeccompProfile, type SeccompChoice } from './seccomp.js';
import { probeX32Abi, type X32Sources } from './x32-abi.js';

export interface SecurityOptions {
  noNewPrivileges: boolean;
  seccomp: SeccompChoice;
  /** `apparmor=<profile>`; applied only where the host enforces AppArmor (as dockerd). */
  appArmorProfile?: string;
  /** `label=…` (SELinux). Accepted and not applied: berth sets no SELinux labels. */
  labels: string[];
  /** `systempaths=unconfined`: no masked and no read-only /proc and /sys paths. */
  unconfinedSystemPaths: boolean;
  /** `writable-cgroups=true`: /sys/fs/cgroup mounted read-write. */
  writableCgroups: boolean;
}

const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** Go's strconv.ParseBool, which dockerd uses for these values. */
function parseBool(opt: string, v: string): boolean {
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw invalidArgument(`invalid --security-opt: "${opt}": "${v}" is not a boolean`);
}

/** Short enough to quote in an error (a seccomp option carries a whole profile). */
function shown(opt: string): string {
  return opt.length > 80 ? `${opt.slice(0, 77)}...` : opt;
}

export function parseSecurityOpts(opts: readonly string[]): SecurityOptions {
  const out: SecurityOptions = {
    noNewPrivileges: false,
    seccomp: { mode: 'builtin' },
    labels: [],
    unconfinedSystemPaths: false,
    writableCgroups: false,
  };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') {
      out.labels.push('disable');
      continue;
    }
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    if (!sep) throw invalidArgument(`invalid --security-opt: "${shown(opt)}"`);
    const i = opt.indexOf(sep);
    const key = opt.slice(0, i);
    const value = opt.slice(i + 1);
    switch (key) {
      case 'no-new-privileges':
        out.noNewPrivileges = parseBool(opt, value);
        break;
      case 'seccomp':
        if (value === 'unconfined') out.seccomp = { mode: 'unconfined' };
        else if (value === 'builtin') out.seccomp = { mode: 'builtin' };
        else out.seccomp = { mode: 'custom', profile: parseSeccompProfile(value) };
        break;
      case 'apparmor':
        out.appArmorProfile = value;
        break;
      case 'label':
        out.labels.push(value);
        break;
      case 'systempaths':
        // The docker CLI turns this into empty MaskedPaths/ReadonlyPaths; API clients may send it.
        if (value !== 'unconfined') throw invalidArgument(`invalid --security-opt: "${shown(opt)}": systempaths takes only "unconfined"`);
        out.unconfinedSystemPaths = true;
        break;
      case 'writable-cgroups':
        out.writableCgroups = parseBool(opt, value);
        break;
      default:
        throw invalidArgument(`invalid --security-opt: "${shown(opt)}"`);
    }
  }
  return out;
}

/** What the kernel offers; probed once per process. */
export interface HostSecurity {
  seccomp: boolean;
  /** The AppArmor LSM is enabled and apparmor_parser is installed (profiles can exist). */
  appArmor: boolean;
  /** The kernel runs x32 binaries (x32-abi.ts); absent means it may. */
  x32Abi?: boolean;
}

/** Reads the facts from /proc and /sys (paths overridable for tests). */
export async function probeHostSecurity(paths: { status?: string; appArmorEnabled?: string; appArmorParsers?: string[]; x32?: X32Sources } = {}): Promise<HostSecurity> {
  const [status, appArmor, x32Abi] = await Promise.all([
    // Without /proc there is nothing to report; the answer is "no seccomp", not an error.
    readFile(paths.status ?? '/proc/self/status', 'utf8').catch(() => ''),
    probeAppArmor({ enabled: paths.appArmorEnabled, parsers: paths.appArmorParsers }),
    probeX32Abi(paths.x32 ?? {}),
  ]);
  return { seccomp: /^Seccomp:/m.test(status), appArmor, x32Abi };
}

let cached: Promise<HostSecurity> | undefined;

/** The host's facts, probed on first use. */
export function hostSecurity(): Promise<HostSecurity> {
  cached ??= probeHostSecurity();
  return cached;
}

/**
 * `docker info`'s SecurityOptions, in dockerd's order and spelling. berth makes no cgroup
 * namespaces and sets no SELinux labels, so those entries never appear.
 */
export function securityOptionsFor(host: HostSecurity): string[] {
  const out: string[] = [];
  if (host.appArmor) out.push('name=apparmor');
  if (host.seccomp) out.push('name=seccomp,profile=builtin');
  return out;
}

export async function hostSecurityOptions(): Promise<string[]> {
  return securityOptionsFor(await hostSecurity());
}
