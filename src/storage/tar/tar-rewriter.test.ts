import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { errorKind } from '../../util/index.js';
import { buildTar, listTar } from './tar-builder.js';
import { encodeHeader, TarRewriter, type TarHeader } from './tar-rewriter.js';
import { LayerExtractPolicy } from './layer-policy.js';
import { OverlayExportPolicy } from './diff.js';

function header(over: Partial<TarHeader>): TarHeader {
  return {
    name: 'f',
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 1_700_000_000,
    linkname: '',
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
    ...over,
  };
}

/** A raw header block with a chosen type flag and name, checksum fixed. */
function rawBlock(name: string, flag: string, size = 0, extra?: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'latin1');
  b.write('0000644\0', 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  b.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  b.write('14000000000\0', 136, 'latin1');
  b.write(flag, 156, 'latin1');
  b.write('ustar\u000000', 257, 'latin1');
  extra?.(b);
  b.write('        ', 148, 'latin1');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

function pad(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

test('headers round-trip long and non-UTF-8 names, big ids, fractional mtimes and binary xattrs', async () => {
  const binary = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0x80, 0x0a, 0x3d, 0x20]);
  const weird = Buffer.from([0x66, 0xe9, 0x6f]).toString('latin1'); // "féo" in latin1: not UTF-8
  const members: TarHeader[] = [
    header({ name: 'a/'.repeat(80) + 'deep', size: 3 }),
    header({ name: weird, size: 0 }),
    header({ name: 'big', uid: 70_000_000, gid: 2 ** 31, size: 0 }),
    header({ name: 'frac', mtimeText: '1700000000.123456789', size: 0 }),
    header({ name: 'caps', xattrs: new Map([['security.capability', binary], ['user.a', Buffer.from('b')]]) }),
    header({ name: 'link-long', type: 'symlink', linkname: 'x'.repeat(300) }),
  ];
  const parts: Buffer[] = [];
  for (const m of members) {
    parts.push(encodeHeader(m));
    if (m.size > 0) parts.push(pad(Buffer.from('abc')));
  }
  parts.push(Buffer.alloc(1024));
  const out = await listTar(Buffer.concat(parts));
  assert.equal(out.length, members.length);
  assert.equal(out[0]!.name, members[0]!.name);
  assert.equal(out[0]!.data.toString(), 'abc');
  assert.equal(out[1]!.name, weird);
  assert.deepEqual([out[2]!.uid, out[2]!.gid], [70_000_000, 2 ** 31]);
  assert.equal(out[3]!.mtimeText, '1700000000.123456789');
  assert.equal(out[3]!.mtime, 1_700_000_000);
  assert.deepEqual(out[4]!.xattrs.get('security.capability'), binary);
  assert.deepEqual(out[4]!.xattrs.get('user.a'), Buffer.from('b'));
  assert.equal(out[5]!.linkname, 'x'.repeat(300));
});

test('the reader understands GNU long names, ustar prefixes, global PAX headers and base-256 numbers', async () => {
  const long = 'gnu/' + 'n'.repeat(200);
  const gnuName = Buffer.from(long + '\0');
  const paxG = Buffer.from('16 uname=global\n');
  const tar = Buffer.concat([
    rawBlock('././@LongLink', 'L', gnuName.length),
    pad(gnuName),
    rawBlock('ignored', '0'),
    rawBlock('file', '0', 0, (b) => b.write('some/prefix', 345, 'latin1')),
    rawBlock('pax_global_header', 'g', paxG.length),
    pad(paxG),
    rawBlock('bigsize', '0', 0, (b) => {
      b.fill(0, 108, 116);
      b[108] = 0x80;
      b.writeUInt32BE(5_000_000, 112);
    }),
    Buffer.alloc(1024),
  ]);
  const out = await listTar(tar);
  assert.deepEqual(out.map((h) => h.name), [long, 'some/prefix/file', 'bigsize']);
  assert.equal(out[2]!.uid, 5_000_000);
  assert.equal(out[2]!.uname, 'global');
});

test('the reader rejects sparse files and unknown member types, naming the member', async () => {
  for (const flag of ['S', 'V', 'Z']) {
    const tar = Buffer.concat([rawBlock('sparse.img', flag), Buffer.alloc(1024)]);
    await assert.rejects(listTar(tar), (e: Error) => errorKind(e) === 'invalid-argument' && /sparse\.img/.test(e.message));
  }
  const pax = Buffer.from('27 GNU.sparse.major=1\n');
  const tar = Buffer.concat([rawBlock('PaxHeader', 'x', pax.length), pad(pax), rawBlock('s', '0'), Buffer.alloc(1024)]);
  await assert.rejects(listTar(tar), (e) => errorKind(e) === 'invalid-argument');
});

test('the reader ignores the size field of header-only members and what follows the end marker', async () => {
  const tar = Buffer.concat([rawBlock('dir/', '5', 4096), rawBlock('dir/f', '0', 1), pad(Buffer.from('z')), Buffer.alloc(1024), Buffer.from('junk after the end')]);
  const out = await listTar(tar);
  assert.deepEqual(out.map((h) => [h.name, h.type, h.size]), [['dir/', 'dir', 0], ['dir/f', 'file', 1]]);
});

test('a single end block at the end of the stream is accepted, no end block is truncation', async () => {
  const body = Buffer.concat([rawBlock('f', '0', 1), pad(Buffer.from('z'))]);
  assert.equal((await listTar(Buffer.concat([body, Buffer.alloc(512)]))).length, 1);
  await assert.rejects(listTar(body), (e: Error) => /truncated/.test(e.message));
});

async function policyOut(policy: LayerExtractPolicy | OverlayExportPolicy, tar: Buffer): Promise<Awaited<ReturnType<typeof listTar>>> {
  const chunks: Buffer[] = [];
  for await (const c of Readable.from([tar]).pipe(new TarRewriter(policy))) chunks.push(c as Buffer);
  return listTar(Buffer.concat(chunks));
}

test('the extract policy turns whiteouts into char 0:0 devices and opaque markers into the opaque xattr', async () => {
  const out = await policyOut(
    new LayerExtractPolicy(),
    buildTar([
      { name: './etc/', type: 'dir', mode: 0o700 },
      { name: './etc/.wh.passwd', data: '' },
      { name: 'etc/.wh..wh..opq', data: '' },
      { name: '.wh..wh.plnk/', type: 'dir' },
      { name: 'opq-first/.wh..wh..opq', data: '' },
      { name: 'opq-first/', type: 'dir', mode: 0o750 },
    ]),
  );
  const byName = out.map((h) => [h.name.replace(/\/$/, ''), h.type, h.mode, h.devmajor, h.devminor, h.xattrs.get('trusted.overlay.opaque')?.toString()]);
  assert.deepEqual(byName, [
    ['etc', 'dir', 0o700, 0, 0, undefined],
    ['etc/passwd', 'char', 0, 0, 0, undefined],
    ['etc', 'dir', 0o700, 0, 0, 'y'],
    ['opq-first', 'dir', 0o755, 0, 0, 'y'],
    ['opq-first', 'dir', 0o750, 0, 0, 'y'],
  ]);
});

test('the export policy writes .wh. members, opaque markers, and drops overlay xattrs and the root', async () => {
  const out = await policyOut(
    new OverlayExportPolicy(),
    buildTar([
      { name: './', type: 'dir' },
      { name: './etc/', type: 'dir', mode: 0o711, xattrs: { 'trusted.overlay.opaque': 'y', 'trusted.overlay.origin': 'x', 'user.k': 'v' } },
      { name: './etc/passwd', type: 'char', devmajor: 0, devminor: 0, uid: 3 },
      { name: './etc/tty', type: 'char', devmajor: 5, devminor: 0 },
      { name: './etc/hard', type: 'link', linkname: './etc/tty' },
    ]),
  );
  assert.deepEqual(
    out.map((h) => [h.name, h.type, [...h.xattrs.keys()].join(',')]),
    [
      ['etc/', 'dir', 'user.k'],
      ['etc/.wh..wh..opq', 'file', ''],
      ['etc/.wh.passwd', 'file', ''],
      ['etc/tty', 'char', ''],
      ['etc/hard', 'link', ''],
    ],
  );
  assert.equal(out[4]!.linkname, 'etc/tty');
});
