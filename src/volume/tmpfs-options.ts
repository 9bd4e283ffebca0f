// tmpfs mount options as Docker builds them: defaults first (noexec, nosuid, nodev,
// rprivate), the user's options after, and for each flag pair or `key=` the last one wins
// (moby `mount.MergeTmpfsOptions`).
import { invalidArgument } from '../util/index.js';

/** Each flag and the group it collides with (its opposite). */
const FLAG_GROUPS: Record<string, string> = {
  ro: 'rdonly', rw: 'rdonly',
  suid: 'nosuid', nosuid: 'nosuid',
  dev: 'nodev', nodev: 'nodev',
  exec: 'noexec', noexec: 'noexec',
  sync: 'sync', async: 'sync',
  dirsync: 'dirsync',
  remount: 'remount',
  mand: 'mand', nomand: 'mand',
  atime: 'noatime', noatime: 'noatime',
  diratime: 'nodiratime', nodiratime: 'nodiratime',
  relatime: 'relatime', norelatime: 'relatime',
  strictatime: 'strictatime', nostrictatime: 'strictatime',
  // Only one propagation mode survives.
  private: 'propagation', rprivate: 'propagation',
  shared: 'propagation', rshared: 'propagation',
  slave: 'propagation', rslave: 'propagation',
  unbindable: 'propagation', runbindable: 'propagation',
};

/** `key=value` options tmpfs takes. */
const DATA_KEYS = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

export const DEFAULT_TMPFS_OPTIONS: readonly string[] = ['noexec', 'nosuid', 'nodev', 'rprivate'];

/** Throws invalid-argument (Docker's wording) for an option tmpfs does not take. */
export function validateTmpfsOption(option: string): void {
  if (option === 'defaults' || option in FLAG_GROUPS) return;
  const eq = option.indexOf('=');
  if (eq < 0 || !DATA_KEYS.has(option.slice(0, eq))) {
    const parts = eq < 0 ? [option] : [option.slice(0, eq), option.slice(eq + 1)];
    throw invalidArgument(`invalid tmpfs option [${parts.map((p) => JSON.stringify(p)).join(' ')}]`);
  }
}

/** Merges options (later ones win), keeping their order; drops `defaults`. */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seenFlags = new Set<string>();
  const seenKeys = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i]!;
    if (o === 'defaults' || o === '') continue;
    validateTmpfsOption(o);
    const group = FLAG_GROUPS[o];
    if (group !== undefined) {
      if (!seenFlags.has(group)) {
        seenFlags.add(group);
        out.unshift(o);
      }
      continue;
    }
    const key = o.slice(0, o.indexOf('='));
    if (!seenKeys.has(key)) {
      seenKeys.add(key);
      out.unshift(o);
    }
  }
  return out;
}

/** Docker's suffix choice for `TmpfsOptions.SizeBytes`: the largest of g/m/k that divides evenly. */
export function formatTmpfsSize(bytes: number): string {
  for (const [suffix, div] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
    if (bytes % div === 0) return `${bytes / div}${suffix}`;
  }
  return String(bytes);
}
