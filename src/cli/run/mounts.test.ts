import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMountFlag, parseMountFlags } from './mounts.js';

test('-v with one path is an anonymous volume; with a source it is a bind or named volume', () => {
  const m = parseMountFlags(['/data', 'named:/v:ro', '/host:/c', './rel:/r'], [], [], '/work');
  assert.deepEqual(m.volumes, { '/data': {} });
  assert.deepEqual(m.binds, ['named:/v:ro', '/host:/c', '/work/rel:/r']);
});

test('--mount reads docker keys, aliases and options', () => {
  assert.deepEqual(parseMountFlag('type=bind,src=/a,dst=/b,readonly,bind-propagation=rslave'), {
    Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rslave' },
  });
  assert.deepEqual(parseMountFlag('source=v,target=/d,volume-nocopy,volume-label=a=b,volume-opt=type=tmpfs'), {
    Type: 'volume', Source: 'v', Target: '/d',
    VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: undefined, Options: { type: 'tmpfs' } } },
  });
  assert.deepEqual(parseMountFlag('type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770'), {
    Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024 * 1024, Mode: 0o1770 },
  });
  assert.equal(parseMountFlag('type=bind,src=./x,dst=/x,ro=false', '/base').Source, '/base/x');
});

test('bad --mount values name the problem', () => {
  const cases: [string, string][] = [
    ['type=bind,src=/a', 'invalid argument "type=bind,src=/a" for "--mount" flag: target is required'],
    ['type=bind,dst=/a,foo=bar', `invalid argument "type=bind,dst=/a,foo=bar" for "--mount" flag: unexpected key 'foo' in 'foo=bar'`],
    ['type=weird,dst=/a', 'invalid argument "type=weird,dst=/a" for "--mount" flag: invalid mount type: weird'],
    ['dst', `invalid argument "dst" for "--mount" flag: invalid field 'dst' must be a key=value pair`],
    ['type=bind,dst=/a,volume-nocopy', `invalid argument "type=bind,dst=/a,volume-nocopy" for "--mount" flag: cannot mix 'volume-*' options with mount type 'bind'`],
  ];
  for (const [spec, message] of cases) assert.throws(() => parseMountFlag(spec), (e: Error) => e.message === message, spec);
});

test('--tmpfs keeps the options and wants an absolute path', () => {
  assert.deepEqual(parseMountFlags([], [], ['/run:rw,size=64m', '/tmp'], '/').tmpfs, { '/run': 'rw,size=64m', '/tmp': '' });
  assert.throws(() => parseMountFlags([], [], ['run'], '/'), /mount path must be absolute/);
});
