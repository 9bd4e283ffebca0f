// The rootfs of `busybox:latest`, generated as a tar stream (no temp files): Debian's
// static busybox, one symlink per applet, and the small /etc a shell user expects.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pack as tarPack, type Header } from 'tar-stream';
import { BerthError, run } from '../../util/index.js';

export const BUSYBOX_BINARY = '/bin/busybox';
const LIST_TIMEOUT_MS = 10_000;

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;

const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`;

const SHADOW = 'root:*:10933:0:99999:7:::\nnobody:*:10933:0:99999:7:::\n';
const NSSWITCH = 'hosts: files dns\nnetworks: files\npasswd: files\ngroup: files\nshadow: files\n';

/** Directories with their modes, parents first. */
const DIRS: [string, number][] = [
  ['bin', 0o755],
  ['dev', 0o755],
  ['etc', 0o755],
  ['home', 0o755],
  ['proc', 0o555],
  ['root', 0o700],
  ['sys', 0o555],
  ['tmp', 0o1777],
  ['usr', 0o755],
  ['usr/bin', 0o755],
  ['usr/sbin', 0o755],
  ['var', 0o755],
  ['var/spool', 0o755],
  ['var/spool/mail', 0o755],
  ['var/www', 0o755],
];

/** The applet names the binary provides (`busybox --list`), without `busybox` itself. */
export async function listApplets(binary = BUSYBOX_BINARY, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
  const { stdout } = await run(binary, ['--list'], { timeoutMs: LIST_TIMEOUT_MS, signal: opts.signal });
  return stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'busybox' && /^[\w.[\]-]+$/.test(s) && !s.includes('..'));
}

function write(pack: ReturnType<typeof tarPack>, header: Partial<Header> & { name: string }, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) pack.entry(header, body, cb);
    else pack.entry(header, cb);
  });
}

/**
 * A tar stream of the busybox rootfs. Entries carry the binary's mtime, so the same
 * busybox always yields the same layer (and the same diffID).
 */
export async function busyboxRootfs(binary = BUSYBOX_BINARY, opts: { signal?: AbortSignal; applets?: string[] } = {}): Promise<Readable> {
  const st = await stat(binary).catch((err: unknown) => {
    throw new BerthError('not-found', `read ${binary}: install Debian's busybox-static (apt-get install busybox-static)`, { cause: err });
  });
  // A foreign binary may not run here: its applet list is then the host busybox's.
  const applets = opts.applets ?? (await listApplets(binary, opts));
  const mtime = st.mtime;
  const pack = tarPack();
  const base = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime };
  const fill = async () => {
    for (const [name, mode] of DIRS) await write(pack, { ...base, name: `${name}/`, type: 'directory', mode });
    // The binary is streamed into its entry; the callback fires once the entry is complete.
    await new Promise<void>((resolve, reject) => {
      const src = createReadStream(binary);
      const entry = pack.entry({ ...base, name: 'bin/busybox', type: 'file', mode: 0o755, size: st.size }, (err) =>
        err ? reject(err) : resolve(),
      );
      src.on('error', (err) => {
        entry.destroy(err);
        reject(err);
      });
      src.pipe(entry as unknown as NodeJS.WritableStream);
    });
    for (const applet of applets) {
      await write(pack, { ...base, name: `bin/${applet}`, type: 'symlink', linkname: 'busybox', mode: 0o777 });
    }
    // Scripts start with `#!/usr/bin/env sh`; keep that path working.
    if (applets.includes('env')) await write(pack, { ...base, name: 'usr/bin/env', type: 'symlink', linkname: '../../bin/busybox', mode: 0o777 });
    const files: [string, string, number][] = [
      ['etc/passwd', PASSWD, 0o644],
      ['etc/group', GROUP, 0o644],
      ['etc/shadow', SHADOW, 0o640],
      ['etc/nsswitch.conf', NSSWITCH, 0o644],
      ['etc/hostname', '', 0o644],
      ['etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n', 0o644],
      ['etc/resolv.conf', '', 0o644],
    ];
    for (const [name, text, mode] of files) {
      const buf = Buffer.from(text);
      await write(pack, { ...base, name, type: 'file', mode, size: buf.length }, buf);
    }
    pack.finalize();
  };
  fill().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return Readable.from(pack as AsyncIterable<Buffer>);
}
