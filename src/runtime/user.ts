// `--user` resolution from the image's own /etc/passwd and /etc/group, like Docker
// (moby/sys/user): "name", "uid", "name:group", "uid:gid"; additional groups from
// /etc/group membership and --group-add.
import { readFile } from 'node:fs/promises';
import { invalidArgument } from '../util/index.js';
import { resolveInRoot } from './rootfs-path.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    out.push({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

async function readEtc(root: string, file: string): Promise<string> {
  try {
    return await readFile(await resolveInRoot(root, file), 'utf8');
  } catch {
    // An image without /etc/passwd (scratch) only supports numeric users.
    return '';
  }
}

const isNumeric = (s: string) => /^\d+$/.test(s);

/** Pure part of the resolution, testable without a rootfs. */
export function resolveUserFrom(
  user: string,
  groupAdd: string[],
  passwd: PasswdEntry[],
  groups: GroupEntry[],
): ResolvedUser {
  const [u = '', g] = user.split(':', 2);
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  if (u === '') {
    const root = passwd.find((p) => p.uid === 0);
    name = root?.name;
    home = root?.home ?? '/';
  } else {
    const byName = passwd.find((p) => p.name === u);
    const entry = byName ?? (isNumeric(u) ? passwd.find((p) => p.uid === Number(u)) : undefined);
    if (entry) {
      uid = isNumeric(u) ? Number(u) : entry.uid;
      gid = entry.gid;
      home = entry.home;
      name = entry.name;
    } else if (isNumeric(u)) {
      uid = Number(u);
    } else {
      throw invalidArgument(`unable to find user ${u}: no matching entries in passwd file`);
    }
  }
  if (g !== undefined && g !== '') {
    const grp = groups.find((x) => x.name === g) ?? (isNumeric(g) ? { gid: Number(g) } : undefined);
    if (!grp) throw invalidArgument(`unable to find group ${g}: no matching entries in group file`);
    gid = grp.gid;
  }
  const extra = new Set<number>();
  if (name !== undefined && (g === undefined || g === '')) {
    for (const grp of groups) if (grp.members.includes(name) && grp.gid !== gid) extra.add(grp.gid);
  }
  for (const a of groupAdd) {
    const grp = groups.find((x) => x.name === a) ?? (isNumeric(a) ? { gid: Number(a) } : undefined);
    if (!grp) throw invalidArgument(`Unable to find group ${a}: no matching entries in group file`);
    extra.add(grp.gid);
  }
  // dockerd lists the primary gid first (moby's fix for CVE-2023-25173), so `id` shows it under groups=.
  extra.delete(gid);
  return { uid, gid, additionalGids: [gid, ...extra], home };
}

export async function resolveUser(rootfs: string, user: string, groupAdd: string[]): Promise<ResolvedUser> {
  const [passwd, group] = await Promise.all([readEtc(rootfs, '/etc/passwd'), readEtc(rootfs, '/etc/group')]);
  return resolveUserFrom(user, groupAdd, parsePasswd(passwd), parseGroup(group));
}
