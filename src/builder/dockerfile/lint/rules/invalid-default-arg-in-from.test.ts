import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invalidDefaultArgInFrom } from './invalid-default-arg-in-from.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('InvalidDefaultArgInFrom flags a FROM that is empty or invalid with default ARGs', () => {
  assert.deepEqual(findings(invalidDefaultArgInFrom, 'ARG IMAGE\nARG TAG=3\nFROM $IMAGE\nFROM alpine:$TAG\nFROM ${IMAGE:-busybox}\n'), [[3, 'Default value for ARG $IMAGE results in empty or invalid base image name']]);
});
