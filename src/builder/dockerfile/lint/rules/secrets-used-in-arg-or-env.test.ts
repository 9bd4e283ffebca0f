import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secretsUsedInArgOrEnv } from './secrets-used-in-arg-or-env.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('SecretsUsedInArgOrEnv flags secret-looking ARG and ENV names', () => {
  assert.deepEqual(findings(secretsUsedInArgOrEnv, 'ARG GITHUB_TOKEN\nFROM a\nENV DB_PASSWORD=x API_KEY=y PUBLIC_KEY=z KEYBOARD=q\nARG PASSWORD_FILE\n'), [
    [1, 'Do not use ARG or ENV instructions for sensitive data (ARG "GITHUB_TOKEN")'],
    [3, 'Do not use ARG or ENV instructions for sensitive data (ENV "DB_PASSWORD")'],
    [3, 'Do not use ARG or ENV instructions for sensitive data (ENV "API_KEY")'],
  ]);
});
