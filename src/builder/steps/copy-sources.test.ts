import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globToRegExp, isTarArchive } from './copy-sources.js';

test('globToRegExp follows Go filepath.Match: * and ? stay within one path segment', () => {
  assert.ok(globToRegExp('*.md').test('a.md'));
  assert.ok(!globToRegExp('*.md').test('docs/a.md'));
  assert.ok(globToRegExp('docs/*.md').test('docs/a.md'));
  assert.ok(globToRegExp('file?.txt').test('file1.txt'));
  assert.ok(!globToRegExp('file?.txt').test('file12.txt'));
  assert.ok(globToRegExp('[ab]*.ts').test('b-x.ts'));
  assert.ok(!globToRegExp('[ab]*.ts').test('c.ts'));
  assert.ok(globToRegExp('a.b').test('a.b') && !globToRegExp('a.b').test('axb'));
});

test('isTarArchive recognises gzip and ustar headers and nothing else', () => {
  assert.equal(isTarArchive(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  const ustar = Buffer.alloc(512);
  ustar.write('ustar', 257, 'latin1');
  assert.equal(isTarArchive(ustar), 'tar');
  assert.equal(isTarArchive(Buffer.from('plain text file')), undefined);
});
