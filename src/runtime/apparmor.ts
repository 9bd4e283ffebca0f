// AppArmor, as dockerd applies it: only where the host enforces AppArmor does a container get a
// profile (`process.apparmorProfile`); elsewhere `--security-opt apparmor=…` is accepted and
// has no effect (dockerd's behaviour: the option is stored, inspect shows AppArmorProfile "").
// `--privileged` runs unconfined. berth ships no default profile of its own (dockerd loads its
// `docker-default`), so a container without the option runs under the runtime's default.
import { access, readFile } from 'node:fs/promises';

export const UNCONFINED_APPARMOR_PROFILE = 'unconfined';

/** The AppArmor LSM is on and apparmor_parser exists (so profiles can be loaded at all). */
export async function probeAppArmor(
  paths: { enabled?: string; parsers?: string[] } = {},
): Promise<boolean> {
  let enabled: string;
  try {
    enabled = await readFile(paths.enabled ?? '/sys/module/apparmor/parameters/enabled', 'utf8');
  } catch {
    // No apparmor module parameters: the kernel has no AppArmor.
    return false;
  }
  if (enabled.trim() !== 'Y') return false;
  for (const p of paths.parsers ?? ['/sbin/apparmor_parser', '/usr/sbin/apparmor_parser']) {
    if (await access(p).then(() => true, () => false)) return true;
  }
  return false;
}

/** The profile for the OCI spec, or undefined for none. */
export function appArmorProfileFor(opts: { profile: string | undefined; privileged: boolean; hostEnabled: boolean }): string | undefined {
  if (!opts.hostEnabled) return undefined;
  if (opts.privileged) return UNCONFINED_APPARMOR_PROFILE;
  return opts.profile || undefined;
}
