import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unpinnedBaseImage } from './unpinned-base-image.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('UnpinnedBaseImage flags latest and untagged images but not stages, scratch or digests', () => {
  assert.deepEqual(lines(unpinnedBaseImage, 'FROM node:latest AS a\nFROM python\nFROM a\nFROM scratch\nFROM alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nFROM localhost:5000/app\nFROM node:20.9.0\n'), [1, 2, 6]);
});
