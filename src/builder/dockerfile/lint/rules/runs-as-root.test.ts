import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runsAsRoot } from './runs-as-root.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('RunsAsRoot flags a final stage without a non-root USER', () => {
  assert.deepEqual(findings(runsAsRoot, 'FROM python:3.12\nCMD ["python"]\n'), [[1, 'the image runs as root (no USER instruction): add a non-root user and switch to it with USER before CMD/ENTRYPOINT']]);
  assert.deepEqual(lines(runsAsRoot, 'FROM a\nUSER app\nUSER root\n'), [3]);
  assert.deepEqual(lines(runsAsRoot, 'FROM a AS base\nUSER 1000:1000\nFROM base\nCMD ["x"]\n'), []);
  assert.deepEqual(lines(runsAsRoot, 'FROM a AS build\nRUN make\nFROM scratch\nCOPY --from=build /app /app\n'), []);
  assert.deepEqual(lines(runsAsRoot, 'FROM gcr.io/distroless/static:nonroot\nCOPY app /app\nRUN x\n'), []);
});
