import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../util/index.js';
import {
  familiarName,
  familiarString,
  isIdPrefix,
  parseImageRef,
  parseNormalizedNamed,
  refWithTag,
  repositoryOf,
  shortId,
} from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;

const good: Array<[string, string, string]> = [
  // input, normalised, familiar
  ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['index.docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['me/app:v1', 'docker.io/me/app:v1', 'me/app:v1'],
  ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
  ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
  ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
  ['127.0.0.1:5000/team/x:tag', '127.0.0.1:5000/team/x:tag', '127.0.0.1:5000/team/x:tag'],
  ['Registry.Example.com/x', 'Registry.Example.com/x:latest', 'Registry.Example.com/x:latest'],
  ['[::1]:5000/x', '[::1]:5000/x:latest', '[::1]:5000/x:latest'],
  [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
  [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`, `busybox:1@${D}`],
  ['a_b__c-d---e.f:T_1.x-y', 'docker.io/library/a_b__c-d---e.f:T_1.x-y', 'a_b__c-d---e.f:T_1.x-y'],
  [`x:${'t'.repeat(128)}`, `docker.io/library/x:${'t'.repeat(128)}`, `x:${'t'.repeat(128)}`],
];

const bad: Array<[string, RegExp]> = [
  ['', /^invalid reference format$/],
  ['BAD::NAME', /^invalid reference format: repository name \(library\/BAD\) must be lowercase$/],
  ['bad::name', /^invalid reference format$/],
  ['Busybox', /must be lowercase/],
  ['me/App', /must be lowercase/],
  ['busybox:', /^invalid reference format$/],
  ['busybox:-tag', /^invalid reference format$/],
  [`x:${'t'.repeat(129)}`, /^invalid reference format$/],
  ['-busybox', /^invalid reference format$/],
  ['busybox_', /^invalid reference format$/],
  ['a___b', /^invalid reference format$/],
  ['busybox@sha256:abc', /^invalid reference format$/],
  ['a'.repeat(64), /cannot specify 64-byte hexadecimal strings/],
  [`example.com/${'a'.repeat(250)}`, /must not be more than 255 characters/],
  ['http://x/y', /^invalid reference format$/],
  ['x y', /^invalid reference format$/],
];

for (const [input, norm, fam] of good) {
  test(`parseImageRef normalises "${input.slice(0, 40)}" like docker`, () => {
    const ref = parseImageRef(input);
    assert.equal(ref, norm);
    assert.equal(familiarString(ref), fam);
  });
}

for (const [input, msg] of bad) {
  test(`parseImageRef rejects "${input.slice(0, 40)}" as invalid-argument`, () => {
    assert.throws(
      () => parseImageRef(input),
      (e: unknown) => e instanceof BerthError && e.kind === 'invalid-argument' && msg.test(e.message),
    );
  });
}

test('parseNormalizedNamed keeps a missing tag missing', () => {
  const r = parseNormalizedNamed('busybox');
  assert.equal(r.tag, undefined);
  assert.equal(r.path, 'library/busybox');
});

test('familiarName strips docker.io and library only for official images', () => {
  assert.equal(familiarName('docker.io/library/busybox'), 'busybox');
  assert.equal(familiarName('docker.io/me/x'), 'me/x');
  assert.equal(familiarName('quay.io/library/x'), 'quay.io/library/x');
  assert.equal(repositoryOf(parseImageRef('busybox:1')), 'docker.io/library/busybox');
});

test('refWithTag combines a repository and a tag and validates the tag', () => {
  assert.equal(refWithTag('busybox', 'v2'), 'docker.io/library/busybox:v2');
  assert.equal(refWithTag('busybox', undefined), 'docker.io/library/busybox:latest');
  assert.equal(refWithTag('busybox:x', ''), 'docker.io/library/busybox:x');
  assert.throws(() => refWithTag('busybox', 'bad tag'), /invalid reference format/);
  assert.throws(() => refWithTag('busybox:x', 'y'), /invalid reference format/);
});

test('id prefixes are recognised and shortened to 12 characters', () => {
  assert.ok(isIdPrefix('abc123'));
  assert.ok(isIdPrefix(`sha256:${'f'.repeat(64)}`));
  assert.ok(!isIdPrefix('busybox'));
  assert.equal(shortId(`sha256:${'0123456789ab'.repeat(5)}abcd`), '0123456789ab');
});
