import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipNoCacheDir } from './pip-no-cache-dir.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('PipNoCacheDir flags pip install without --no-cache-dir', () => {
  assert.deepEqual(lines(pipNoCacheDir, 'FROM python\nRUN pip install -r requirements.txt\nRUN pip3 install --no-cache-dir flask\nRUN python -m pip install x\nRUN --mount=type=cache,target=/root/.cache/pip pip install y\n'), [2, 4]);
  assert.deepEqual(lines(pipNoCacheDir, 'FROM python\nENV PIP_NO_CACHE_DIR=1\nRUN pip install z\n'), []);
});
