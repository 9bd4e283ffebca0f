import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactJson, parseSecurityOptFlags } from './security-opts.js';

const files: Record<string, string> = {
  '/p.json': '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [ { "names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "comment": "a b\\" c" } ]\n}\n',
  '/bad.json': '{ "defaultAction": ',
  '/big.json': '{"value": 18446744073709551615}',
};
const read = (p: string) => {
  const t = files[p];
  if (t === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return t;
};

test('a seccomp profile file is sent as its compacted content, like the docker CLI does', () => {
  const r = parseSecurityOptFlags(['seccomp=/p.json', 'seccomp=unconfined', 'seccomp:builtin', 'apparmor=x'], read);
  assert.deepEqual(r.securityOpt, [
    'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","comment":"a b\\" c"}]}',
    'seccomp=unconfined',
    'seccomp:builtin',
    'apparmor=x',
  ]);
  assert.equal(r.maskedPaths, undefined);
  // Integers beyond 2^53 are kept as written, not rounded through a JS number.
  assert.equal(compactJson(files['/big.json']!), '{"value":18446744073709551615}');
});

test('systempaths=unconfined is not sent but becomes empty MaskedPaths and ReadonlyPaths', () => {
  const r = parseSecurityOptFlags(['systempaths=unconfined', 'no-new-privileges'], read);
  assert.deepEqual(r, { securityOpt: ['no-new-privileges=true'], maskedPaths: [], readonlyPaths: [] });
});

test('a missing value, a missing file and bad JSON fail with the docker CLI wording', () => {
  assert.throws(() => parseSecurityOptFlags(['apparmor='], read), /^Error: Invalid --security-opt: "apparmor="$|Invalid --security-opt: "apparmor="/);
  assert.throws(() => parseSecurityOptFlags(['label'], read), /Invalid --security-opt: "label"/);
  assert.throws(() => parseSecurityOptFlags(['seccomp=/nope.json'], read), /opening seccomp profile \(\/nope.json\) failed: open \/nope.json: no such file or directory/);
  assert.throws(() => parseSecurityOptFlags(['seccomp=/bad.json'], read), /compacting json for seccomp profile \(\/bad.json\) failed/);
});
