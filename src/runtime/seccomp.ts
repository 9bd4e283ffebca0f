// Seccomp for a container, the way dockerd does it: a profile in Docker's format (the built-in
// one from `seccomp-profile.ts`, or the JSON the client sent inline with `seccomp=<json>`) is
// narrowed to this host and this container — the native architecture and its compat ones,
// rules whose includes/excludes match the container's capabilities, the architecture and the
// kernel — and written as the OCI `linux.seccomp` object runc loads.
// `--privileged` and `seccomp=unconfined` run without a filter.
import { release } from 'node:os';
import { z } from 'zod';
import { invalidArgument } from '../util/index.js';
import {
  DEFAULT_SECCOMP_PROFILE,
  SECCOMP_ACTIONS,
  SECCOMP_ARCHES,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  type DockerSeccompProfile,
  type SeccompAction,
  type SeccompArg,
  type SeccompFilter,
} from './seccomp-profile.js';

export interface OciSeccompSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: OciSeccompSyscall[];
}

/** The `seccomp=` choice of a container. */
export type SeccompChoice = { mode: 'builtin' } | { mode: 'unconfined' } | { mode: 'custom'; profile: DockerSeccompProfile };

/** The host a profile is narrowed to. */
export interface SeccompHost {
  /** Node's `process.arch`. */
  arch: string;
  /** `uname -r`, for `minKernel`. */
  kernel: string;
  /** false when the kernel cannot run x32 binaries (x32-abi.ts): SCMP_ARCH_X32 is left out then. */
  x32?: boolean;
}

/** Node's arch → the native SCMP_ARCH and libseccomp's short name (what `arches` filters name). */
const NATIVE: Record<string, { scmp: string; name: string }> = {
  x64: { scmp: 'SCMP_ARCH_X86_64', name: 'amd64' },
  ia32: { scmp: 'SCMP_ARCH_X86', name: 'x86' },
  arm64: { scmp: 'SCMP_ARCH_AARCH64', name: 'arm64' },
  arm: { scmp: 'SCMP_ARCH_ARM', name: 'arm' },
  ppc64: { scmp: 'SCMP_ARCH_PPC64LE', name: 'ppc64le' },
  s390x: { scmp: 'SCMP_ARCH_S390X', name: 's390x' },
  riscv64: { scmp: 'SCMP_ARCH_RISCV64', name: 'riscv64' },
  mips64el: { scmp: 'SCMP_ARCH_MIPSEL64', name: 'mips64le' },
  loong64: { scmp: 'SCMP_ARCH_LOONGARCH64', name: 'loong64' },
};

export function thisHost(): SeccompHost {
  return { arch: process.arch, kernel: release() };
}

const OPTION = '--security-opt seccomp';

function oneOf<T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (iss) => (iss.input === undefined ? `${what} is missing` : `unknown ${what} ${JSON.stringify(iss.input)}`),
  });
}

const action = oneOf(SECCOMP_ACTIONS, 'action');
// JSON numbers above 2^53 lose precision in JS, and runc would then refuse the rounded value.
const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER, 'values above 2^53-1 are not supported');
const filterSchema = z
  .object({ caps: z.array(z.string()).nullish(), arches: z.array(z.string()).nullish(), minKernel: z.string().nullish() })
  .passthrough()
  .nullish();
const argSchema = z
  .object({ index: uint.max(5), value: uint, valueTwo: uint.nullish(), op: oneOf(SECCOMP_OPERATORS, 'operator') })
  .passthrough();
const syscallSchema = z
  .object({
    name: z.string().nullish(),
    names: z.array(z.string()).nullish(),
    action,
    errnoRet: uint.nullish(),
    args: z.array(argSchema).max(6).nullish(),
    comment: z.string().nullish(),
    includes: filterSchema,
    excludes: filterSchema,
  })
  .passthrough();
const profileSchema = z
  .object({
    defaultAction: action,
    defaultErrnoRet: uint.nullish(),
    architectures: z.array(oneOf(SECCOMP_ARCHES, 'architecture')).nullish(),
    archMap: z
      .array(z.object({ architecture: oneOf(SECCOMP_ARCHES, 'architecture'), subArchitectures: z.array(oneOf(SECCOMP_ARCHES, 'architecture')).nullish() }).passthrough())
      .nullish(),
    flags: z.array(oneOf(SECCOMP_FLAGS, 'flag')).nullish(),
    listenerPath: z.string().nullish(),
    listenerMetadata: z.string().nullish(),
    syscalls: z.array(syscallSchema).nullish(),
  })
  .passthrough();

const ERRNO_ACTIONS: readonly string[] = ['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE'];

function bad(detail: string): Error {
  return invalidArgument(`invalid ${OPTION}: ${detail}`);
}

function compactFilter(f: z.infer<typeof filterSchema>): SeccompFilter | undefined {
  if (!f) return undefined;
  const out: SeccompFilter = {};
  if (f.caps?.length) out.caps = f.caps;
  if (f.arches?.length) out.arches = f.arches;
  if (f.minKernel) out.minKernel = f.minKernel;
  return out;
}

/**
 * Reads a profile in Docker's format from the JSON the client sent. Everything runc would
 * refuse at start is refused here, so a bad profile is a 400 at create.
 */
export function parseSeccompProfile(json: string): DockerSeccompProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    const hint = /^\s*[{[]/.test(json) ? '' : ' (the option takes the profile itself; the docker CLI reads the file and sends its content)';
    throw bad(`the profile is not valid JSON: ${(err as Error).message}${hint}`);
  }
  const parsed = profileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    throw bad(`${at || 'profile'}: ${issue.message}`);
  }
  const p = parsed.data;
  if (p.architectures?.length && p.archMap?.length) {
    throw bad(`both "architectures" and "archMap" are set; use one of them`);
  }
  if (p.defaultAction === 'SCMP_ACT_NOTIFY') throw bad('defaultAction cannot be SCMP_ACT_NOTIFY');
  if (p.defaultErrnoRet != null && !ERRNO_ACTIONS.includes(p.defaultAction)) {
    throw bad(`defaultErrnoRet is set but defaultAction ${p.defaultAction} returns no errno`);
  }
  if (p.listenerMetadata && !p.listenerPath) throw bad('listenerMetadata is set without listenerPath');
  const out: DockerSeccompProfile = { defaultAction: p.defaultAction };
  if (p.defaultErrnoRet != null) out.defaultErrnoRet = p.defaultErrnoRet;
  if (p.architectures?.length) out.architectures = p.architectures;
  if (p.archMap?.length) out.archMap = p.archMap.map((a) => ({ architecture: a.architecture, subArchitectures: a.subArchitectures ?? [] }));
  if (p.flags?.length) out.flags = p.flags;
  if (p.listenerPath) out.listenerPath = p.listenerPath;
  if (p.listenerMetadata) out.listenerMetadata = p.listenerMetadata;
  out.syscalls = (p.syscalls ?? []).map((s, i) => {
    const at = `syscalls[${i}]`;
    if (s.name && s.names?.length) throw bad(`${at}: both "name" and "names" are set; use one of them`);
    const names = s.name ? [s.name] : (s.names ?? []);
    if (!names.length || names.some((n) => !n)) throw bad(`${at}: no syscall name`);
    if (s.errnoRet != null && !ERRNO_ACTIONS.includes(s.action)) throw bad(`${at}: errnoRet is set but action ${s.action} returns no errno`);
    if (s.action === 'SCMP_ACT_NOTIFY' && !p.listenerPath) throw bad(`${at}: SCMP_ACT_NOTIFY needs listenerPath`);
    for (const k of ['includes', 'excludes'] as const) {
      const mk = s[k]?.minKernel;
      if (mk && !parseKernel(mk)) throw bad(`${at}.${k}.minKernel: "${mk}" is not a kernel version`);
    }
    const r: NonNullable<DockerSeccompProfile['syscalls']>[number] = { names, action: s.action };
    if (s.errnoRet != null) r.errnoRet = s.errnoRet;
    if (s.args?.length) r.args = s.args.map((a) => ({ index: a.index, value: a.value, op: a.op, ...(a.valueTwo != null ? { valueTwo: a.valueTwo } : {}) }));
    const inc = compactFilter(s.includes);
    const exc = compactFilter(s.excludes);
    if (inc) r.includes = inc;
    if (exc) r.excludes = exc;
    return r;
  });
  return out;
}

function parseKernel(v: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function kernelAtLeast(kernel: string, min: string): boolean {
  const k = parseKernel(kernel);
  const m = parseKernel(min);
  if (!k || !m) return false;
  return k[0] > m[0] || (k[0] === m[0] && k[1] >= m[1]);
}

/** Docker's rule: includes need every listed capability, excludes drop on any. */
function ruleApplies(r: { includes?: SeccompFilter; excludes?: SeccompFilter }, caps: ReadonlySet<string>, arch: string | undefined, host: SeccompHost): boolean {
  const inc = r.includes;
  const exc = r.excludes;
  if (inc?.arches?.length && (!arch || !inc.arches.includes(arch))) return false;
  if (inc?.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
  if (inc?.minKernel && !kernelAtLeast(host.kernel, inc.minKernel)) return false;
  if (exc?.arches?.length && arch && exc.arches.includes(arch)) return false;
  if (exc?.caps?.length && exc.caps.some((c) => caps.has(c))) return false;
  if (exc?.minKernel && kernelAtLeast(host.kernel, exc.minKernel)) return false;
  return true;
}

/** Narrows a Docker-format profile to a container holding `caps` on `host`. */
export function toOciSeccomp(profile: DockerSeccompProfile, caps: readonly string[], host: SeccompHost = thisHost()): OciSeccomp {
  const native = NATIVE[host.arch];
  const have = new Set(caps);
  const out: OciSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.architectures?.length) {
    out.architectures = [...profile.architectures];
  } else if (profile.archMap?.length && native) {
    const entry = profile.archMap.find((a) => a.architecture === native.scmp);
    if (entry) out.architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  }
  if (host.x32 === false && out.architectures?.includes('SCMP_ARCH_X32')) {
    // A branch for an ABI this kernel never runs filters nothing and costs runc ~9 ms per start.
    const kept = out.architectures.filter((a) => a !== 'SCMP_ARCH_X32');
    if (kept.length) out.architectures = kept;
  }
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  out.syscalls = [];
  for (const r of profile.syscalls ?? []) {
    if (!ruleApplies(r, have, native?.name, host)) continue;
    const s: OciSeccompSyscall = { names: r.names ?? (r.name ? [r.name] : []), action: r.action };
    if (r.errnoRet !== undefined) s.errnoRet = r.errnoRet;
    if (r.args?.length) s.args = r.args;
    out.syscalls.push(s);
  }
  return out;
}

/**
 * The OCI filter for a container, or undefined when it runs without one. Like dockerd, a kernel
 * without seccomp runs the default profile unconfined but refuses a custom one.
 */
export function seccompFor(
  choice: SeccompChoice,
  caps: readonly string[],
  opts: { privileged: boolean; host?: SeccompHost; kernelHasSeccomp?: boolean; x32Abi?: boolean },
): OciSeccomp | undefined {
  if (opts.privileged || choice.mode === 'unconfined') return undefined;
  if (opts.kernelHasSeccomp === false) {
    if (choice.mode === 'custom') throw invalidArgument('seccomp is not enabled in your kernel, cannot run a custom seccomp profile');
    return undefined;
  }
  const profile = choice.mode === 'custom' ? choice.profile : DEFAULT_SECCOMP_PROFILE;
  const host = opts.host ?? thisHost();
  return toOciSeccomp(profile, caps, opts.x32Abi === undefined ? host : { ...host, x32: opts.x32Abi });
}
