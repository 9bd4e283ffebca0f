import { readFile } from 'node:fs/promises';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string;
}

/** Undoes the octal escapes (`\040` for a space) the kernel uses in mountinfo fields. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The mounts of this process's mount namespace, from /proc/self/mountinfo. */
export async function readMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const l = left.split(' ');
    const r = right.split(' ');
    out.push({ mountPoint: unescape(l[4] ?? ''), fsType: r[0] ?? '', source: unescape(r[1] ?? ''), superOptions: r[2] ?? '' });
  }
  return out;
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await readMounts()).some((m) => m.mountPoint === path);
}
