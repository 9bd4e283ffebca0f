import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aptGetUpdateAlone } from './apt-get-update-alone.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('AptGetUpdateAlone flags apt-get update in a RUN without an install', () => {
  assert.deepEqual(lines(aptGetUpdateAlone, 'FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\nRUN apt-get update && apt-get install -y git\n'), [2]);
});
