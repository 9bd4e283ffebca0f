// Host devices for containers: every device under the host's /dev for --privileged (as
// dockerd does), and `--device host[:container[:rwm]]` entries.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument } from '../util/index.js';

export interface OciDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface DeviceRequest {
  pathOnHost: string;
  pathInContainer: string;
  cgroupPermissions: string;
}

/** Linux dev_t split (glibc's gnu_dev_major/minor). */
export function splitDev(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return { major, minor };
}

async function deviceAt(hostPath: string, containerPath: string): Promise<OciDevice | undefined> {
  const st = await stat(hostPath).catch(() => undefined);
  if (!st || !(st.isCharacterDevice() || st.isBlockDevice())) return undefined;
  const { major, minor } = splitDev(st.rdev);
  return { path: containerPath, type: st.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Subtrees of /dev that the container gets its own instances of. */
const SKIP = new Set(['pts', 'shm', 'mqueue', 'fd', 'console', 'ptmx', 'stdin', 'stdout', 'stderr']);

export async function hostDevices(root = '/dev'): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 4) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (depth === 0 && SKIP.has(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p, depth + 1);
      else if (e.isCharacterDevice() || e.isBlockDevice()) {
        const d = await deviceAt(p, p);
        if (d) out.push(d);
      }
    }
  };
  await walk(root, 0);
  return out;
}

/** `--device` entries; a missing or non-device path is Docker's error. */
export async function requestedDevices(reqs: DeviceRequest[]): Promise<{ devices: OciDevice[]; rules: Array<{ allow: true; type: 'c' | 'b'; major: number; minor: number; access: string }> }> {
  const devices: OciDevice[] = [];
  const rules: Array<{ allow: true; type: 'c' | 'b'; major: number; minor: number; access: string }> = [];
  for (const r of reqs) {
    const d = await deviceAt(r.pathOnHost, r.pathInContainer || r.pathOnHost);
    if (!d) throw invalidArgument(`error gathering device information while adding custom device "${r.pathOnHost}": no such file or directory`);
    devices.push(d);
    rules.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: r.cgroupPermissions || 'rwm' });
  }
  return { devices, rules };
}
