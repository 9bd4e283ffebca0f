import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addInsteadOfCopy } from './add-instead-of-copy.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('AddInsteadOfCopy flags ADD of local non-archive files', () => {
  assert.deepEqual(lines(addInsteadOfCopy, 'FROM a\nADD app.py /app/\nADD https://example.com/x.tgz /x\nADD rootfs.tar.gz /\nADD git@github.com:a/b.git /src\n'), [2]);
});
