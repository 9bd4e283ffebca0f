import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBind, parseMountConfig, parseMountRequest, parseStoredMountSpecs, parseTmpfsEntry, type MountRequest } from './mount-spec.js';

const BAD_NAME = (n: string) =>
  `volume name "${n}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`;

const GOOD_BINDS: [string, Record<string, unknown>][] = [
  ['/host:/ctr', { type: 'bind', source: '/host', destination: '/ctr', readOnly: false, propagation: 'rprivate', createHostPath: true, mode: '' }],
  ['/host:/ctr:ro', { type: 'bind', readOnly: true, mode: 'ro' }],
  ['/host/:/ctr/sub/../x/:rw', { type: 'bind', source: '/host', destination: '/ctr/x', readOnly: false }],
  ['/host:/ctr:z', { type: 'bind', mode: 'z', readOnly: false }],
  ['/host:/ctr:ro,Z', { type: 'bind', readOnly: true }],
  ['/host:/ctr:rshared', { type: 'bind', propagation: 'rshared' }],
  ['/host:/ctr:ro,slave', { type: 'bind', propagation: 'slave', readOnly: true }],
  ['name:/ctr', { type: 'volume', name: 'name', anonymous: false, noCopy: false, readOnly: false, mode: 'z' }],
  ['name:/ctr:rw,nocopy', { type: 'volume', name: 'name', noCopy: true, readOnly: false, mode: 'rw,nocopy' }],
  ['my.vol_1-x:/data:ro', { type: 'volume', name: 'my.vol_1-x', readOnly: true }],
  ['/data', { type: 'volume', anonymous: true, destination: '/data' }],
];

const BAD_BINDS: [string, string][] = [
  ['', "invalid volume specification: ''"],
  [':/data', "invalid volume specification: ':/data'"],
  ['/a:/b:ro:extra', "invalid volume specification: '/a:/b:ro:extra'"],
  ['/host:ro', "invalid volume specification: '/host:ro'"],
  ['/host:/ctr:xyz', 'invalid mode: xyz'],
  ['/host:/ctr:ro,rw', 'invalid mode: ro,rw'],
  ['/host:/ctr:z,Z', 'invalid mode: z,Z'],
  ['/host:relative', `invalid volume specification: '/host:relative': invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute`],
  ['/host:/', `invalid volume specification: '/host:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`],
  ['/host:/ctr:nocopy', `invalid volume specification: '/host:/ctr:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified`],
  ['name:/ctr:shared', `invalid volume specification: 'name:/ctr:shared': invalid mount config for type "volume": field BindOptions must not be specified`],
  ['foo/bar:/data', BAD_NAME('foo/bar')],
  ['./data:/data', BAD_NAME('./data')],
  ['~/data:/data', BAD_NAME('~/data')],
];

test('Binds strings Docker accepts become mount specs', () => {
  for (const [raw, want] of GOOD_BINDS) {
    const got = parseBind(raw) as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `${raw}: ${k}`);
  }
});

test('anonymous volumes in Binds get a fresh 64-hex name', () => {
  const a = parseBind('/data');
  assert.equal(a.type, 'volume');
  assert.match((a as { name: string }).name, /^[0-9a-f]{64}$/);
});

test('Binds strings Docker rejects fail with dockerd\'s message', () => {
  for (const [raw, message] of BAD_BINDS) {
    assert.throws(
      () => parseBind(raw),
      (err: Error & { kind?: string }) => {
        assert.equal(err.message, message, raw);
        assert.equal(err.kind, 'invalid-argument');
        return true;
      },
    );
  }
});

test('HostConfig.VolumeDriver is recorded on volumes from Binds', () => {
  const v = parseBind('vol:/x', { volumeDriver: 'local' });
  assert.equal(v.type === 'volume' && v.driver, 'local');
});

test('Mounts objects become mount specs and bad ones fail with dockerd\'s message', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-mountspec-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const good: [MountRequest, Record<string, unknown>][] = [
    [{ type: 'bind', source: dir, target: '/x', readOnly: true }, { type: 'bind', source: dir, readOnly: true, propagation: 'rprivate', createHostPath: false }],
    [{ type: 'bind', source: dir, target: '/x', bindOptions: { propagation: 'rslave', nonRecursive: true } }, { propagation: 'rslave', nonRecursive: true }],
    [{ type: 'bind', source: join(dir, 'missing'), target: '/x', bindOptions: { createMountpoint: true } }, { createHostPath: true }],
    [{ type: 'volume', source: 'v1', target: '/v', volumeOptions: { noCopy: true, labels: { a: 'b' }, driverConfig: { name: 'local', options: { type: 'tmpfs', device: 'tmpfs' } } } },
      { type: 'volume', name: 'v1', noCopy: true, labels: { a: 'b' }, driver: 'local', driverOpts: { type: 'tmpfs', device: 'tmpfs' } }],
    [{ type: 'volume', target: '/anon' }, { type: 'volume', anonymous: true }],
    [{ type: 'volume', source: 'v1', target: '/v', volumeOptions: { subpath: 'a/b' } }, { subpath: 'a/b' }],
    [{ type: 'tmpfs', target: '/t', tmpfsOptions: { sizeBytes: 64 * 2 ** 20, mode: 0o1777 } }, { type: 'tmpfs', options: ['mode=1777', 'size=64m'], fromTmpfsMap: false }],
    [{ type: 'tmpfs', target: '/t', readOnly: true, tmpfsOptions: { options: [['exec']] } }, { readOnly: true, options: ['ro', 'exec'] }],
  ];
  for (const [req, want] of good) {
    const got = (await parseMountRequest(req)) as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `${JSON.stringify(req)}: ${k}`);
  }
  const bad: [MountRequest, string][] = [
    [{ type: 'bind', source: '/x-berth-missing', target: '/x' }, 'invalid mount config for type "bind": bind source path does not exist: /x-berth-missing'],
    [{ type: 'bind', target: '/x' }, 'invalid mount config for type "bind": field Source must not be empty'],
    [{ type: 'bind', source: 'rel', target: '/x' }, `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`],
    [{ type: 'bind', source: dir, target: '/x', bindOptions: { propagation: 'weird' } }, 'invalid mount config for type "bind": invalid propagation mode: weird'],
    [{ type: 'bind', source: dir, target: '/x', volumeOptions: {} }, 'invalid mount config for type "bind": field VolumeOptions must not be specified'],
    [{ type: 'bind', source: dir }, 'invalid mount config for type "bind": field Target must not be empty'],
    [{ type: 'bind', source: dir, target: 'x' }, `invalid mount config for type "bind": invalid mount path: 'x' mount path must be absolute`],
    [{ type: 'volume', target: '/' }, `invalid mount config for type "volume": invalid specification: destination can't be '/'`],
    [{ type: 'volume', target: '/v', readOnly: true }, 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes'],
    [{ type: 'volume', source: 'v', target: '/v', tmpfsOptions: {} }, 'invalid mount config for type "volume": field TmpfsOptions must not be specified'],
    [{ type: 'volume', source: 'vv', target: '/v', volumeOptions: { subpath: '../up' } }, 'invalid mount config for type "volume": subpath must be a relative path within the volume'],
    [{ type: 'volume', source: 'a/b', target: '/v' }, BAD_NAME('a/b')],
    [{ type: 'tmpfs', source: 'x', target: '/t' }, 'invalid mount config for type "tmpfs": field Source must not be specified'],
    [{ type: 'tmpfs', target: '/t', tmpfsOptions: { options: [['bogus']] } }, 'invalid mount config for type "tmpfs": invalid tmpfs option ["bogus"]'],
    [{ type: 'npipe', target: '/t' }, 'invalid mount config for type "npipe": mount type unknown'],
    [{ target: '/t' }, 'invalid mount config for type "": mount type unknown'],
  ];
  for (const [req, message] of bad) {
    await assert.rejects(parseMountRequest(req), (err: Error & { kind?: string }) => {
      assert.equal(err.message, message, JSON.stringify(req));
      assert.equal(err.kind, 'invalid-argument');
      return true;
    });
  }
});

test('Tmpfs map entries keep their options and reject bad ones', () => {
  assert.deepEqual(parseTmpfsEntry('/run', 'rw,size=64m,mode=1777'), {
    type: 'tmpfs',
    destination: '/run',
    readOnly: false,
    options: ['rw', 'size=64m', 'mode=1777'],
    fromTmpfsMap: true,
  });
  assert.equal(parseTmpfsEntry('/ro', 'ro').readOnly, true);
  assert.deepEqual(parseTmpfsEntry('/run/', '').options, []);
  assert.throws(() => parseTmpfsEntry('run', ''), { message: "invalid mount path: 'run' mount path must be absolute" });
  assert.throws(() => parseTmpfsEntry('/run', 'size=1m,wat'), { message: 'invalid tmpfs option ["wat"]' });
});

test('a destination used twice by Binds and Mounts is a duplicate mount point', async () => {
  await assert.rejects(parseMountConfig({ binds: ['a1:/data', 'b1:/data/'] }), { message: 'Duplicate mount point: /data' });
  await assert.rejects(
    parseMountConfig({ binds: ['a1:/data'], mounts: [{ type: 'tmpfs', target: '/data' }] }),
    { message: 'Duplicate mount point: /data' },
  );
  await assert.rejects(parseMountConfig({ binds: ['a1:/data'], tmpfs: { '/data': '' } }), { message: 'Duplicate mount point: /data' });
});

test('image volumes become anonymous volumes unless something else is mounted there', async () => {
  const specs = await parseMountConfig({ binds: ['named:/data'], tmpfs: { '/run': 'size=1m' }, volumes: ['/data', '/run', '/cache/', '/logs'] });
  assert.deepEqual(
    specs.map((s) => [s.type, s.destination, s.type === 'volume' ? s.anonymous : null]),
    [
      ['volume', '/data', false],
      ['tmpfs', '/run', null],
      ['volume', '/cache', true],
      ['volume', '/logs', true],
    ],
  );
});

test('mount specs survive a JSON round trip through the stored form', async () => {
  const specs = await parseMountConfig({ binds: ['/h:/c:ro', 'n1:/n'], tmpfs: { '/t': 'size=1m' }, volumes: ['/v'] });
  assert.deepEqual(parseStoredMountSpecs(JSON.parse(JSON.stringify(specs))), specs);
  assert.throws(() => parseStoredMountSpecs([{ type: 'bind' }]), /stored mount specs are invalid/);
});
