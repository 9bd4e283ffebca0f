import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { extract, type Header } from 'tar-stream';
import { BUSYBOX_BINARY, busyboxRootfs } from './busybox-rootfs.js';

async function entries(): Promise<Map<string, { header: Header; text: string }>> {
  const out = new Map<string, { header: Header; text: string }>();
  const ex = extract();
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.set(e.header.name, { header: e.header, text: e.header.name.startsWith('etc/') ? Buffer.concat(chunks).toString() : '' });
    }
  })();
  const tar = await busyboxRootfs();
  for await (const c of tar) ex.write(c);
  (ex as unknown as NodeJS.WritableStream).end();
  await done;
  return out;
}

test('the busybox rootfs has the binary, an applet symlink each, and the usual /etc', { skip: existsSync(BUSYBOX_BINARY) ? false : `${BUSYBOX_BINARY} is absent (apt-get install busybox-static)` }, async () => {
  const e = await entries();
  assert.equal(e.get('bin/busybox')?.header.type, 'file');
  assert.equal(e.get('bin/busybox')?.header.mode, 0o755);
  for (const applet of ['sh', 'ls', 'cat', 'echo', 'env']) {
    assert.equal(e.get(`bin/${applet}`)?.header.type, 'symlink', applet);
    assert.equal(e.get(`bin/${applet}`)?.header.linkname, 'busybox');
  }
  assert.equal(e.get('tmp/')?.header.mode, 0o1777);
  assert.equal(e.get('root/')?.header.mode, 0o700);
  for (const dir of ['dev/', 'proc/', 'sys/', 'home/', 'var/', 'etc/']) assert.equal(e.get(dir)?.header.type, 'directory', dir);
  assert.match(e.get('etc/passwd')!.text, /^root:x:0:0:root:\/root:\/bin\/sh$/m);
  assert.match(e.get('etc/passwd')!.text, /^nobody:x:65534:65534:/m);
  assert.match(e.get('etc/group')!.text, /^nogroup:x:65534:$/m);
  assert.ok([...e.values()].every((v) => v.header.uid === 0 && v.header.gid === 0));
});
