import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseModeChange } from './chmod-mode.js';

const cases: Array<{ spec: string; from: number; dir?: boolean; want: number }> = [
  { spec: '755', from: 0o600, want: 0o755 },
  { spec: '0644', from: 0o777, dir: true, want: 0o644 },
  { spec: '4755', from: 0o600, want: 0o4755 },
  { spec: '+x', from: 0o644, want: 0o755 },
  { spec: '+x', from: 0o755, dir: true, want: 0o755 },
  { spec: 'u+x', from: 0o644, want: 0o744 },
  { spec: 'go-w', from: 0o666, want: 0o644 },
  { spec: 'go-w', from: 0o777, dir: true, want: 0o755 },
  { spec: 'a=r,u+w', from: 0o777, want: 0o644 },
  { spec: 'a=r,u+w', from: 0o700, dir: true, want: 0o644 },
  { spec: 'u=rwX,go=rX', from: 0o600, dir: true, want: 0o755 },
  { spec: 'u=rwX,go=rX', from: 0o600, want: 0o644 },
  { spec: 'u=rwX,go=rX', from: 0o700, want: 0o755 },
  { spec: 'u=rwX,go=rX', from: 0o610, want: 0o755 },
  { spec: 'a+X', from: 0o644, want: 0o644 },
  { spec: 'a+X', from: 0o644, dir: true, want: 0o755 },
  { spec: 'g=u', from: 0o640, want: 0o660 },
  { spec: 'go=u', from: 0o750, want: 0o777 },
  { spec: 'o=', from: 0o777, want: 0o770 },
  { spec: '=r', from: 0o777, want: 0o444 },
  { spec: 'u+s', from: 0o755, want: 0o4755 },
  { spec: 'g+s', from: 0o755, dir: true, want: 0o2755 },
  { spec: '+t', from: 0o777, dir: true, want: 0o1777 },
  { spec: 'o+t', from: 0o777, dir: true, want: 0o1777 },
  { spec: 'u+t', from: 0o777, dir: true, want: 0o777 },
  { spec: 'u-s', from: 0o4755, want: 0o755 },
  { spec: 'u=rw', from: 0o4755, want: 0o655 },
  { spec: 'u+x-w', from: 0o644, want: 0o544 },
  { spec: 'ug+rw,o-rwx', from: 0o604, want: 0o660 },
  { spec: '-w', from: 0o666, want: 0o444 },
  { spec: 'ugo+w', from: 0o444, want: 0o666 },
];

test('symbolic and octal --chmod values change modes as chmod(1) does with a umask of 0', () => {
  for (const c of cases) {
    const got = parseModeChange(c.spec)(c.from, c.dir ?? false);
    assert.equal(got.toString(8), c.want.toString(8), `${c.spec} on ${c.from.toString(8)}${c.dir ? ' (dir)' : ''}`);
  }
});

test('an invalid --chmod value is refused with BuildKit message', () => {
  for (const bad of ['', '8', '17777', 'u+y', 'x+u', 'u', 'u+x,', ',u+x', 'u+ug']) {
    assert.throws(() => parseModeChange(bad), /invalid chmod parameter: '.*'\. it should be octal string and between 0 and 07777/, bad);
  }
});
