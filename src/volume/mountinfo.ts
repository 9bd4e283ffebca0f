// Reads /proc/self/mountinfo: the kernel's view decides whether a volume is mounted,
// and a directory with anything mounted under it is never removed recursively.
import { readFile } from 'node:fs/promises';

export interface MountInfoEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 3) continue;
    out.push({ mountPoint: unescapeOctal(fields[4]!), fsType: fields[sep + 1]!, source: unescapeOctal(fields[sep + 2]!) });
  }
  return out;
}

export async function readMountInfo(): Promise<MountInfoEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** Mount points equal to `dir` or below it, deepest first (the order to unmount them). */
export async function mountsAtOrUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  const found = (await readMountInfo())
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(prefix));
  return [...new Set(found)].sort((a, b) => b.length - a.length);
}

export async function isMountPoint(dir: string): Promise<boolean> {
  return (await readMountInfo()).some((m) => m.mountPoint === dir);
}
