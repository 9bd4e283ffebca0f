import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secretFileCopied } from './secret-file-copied.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('SecretFileCopied flags .env files and private keys copied into the image', () => {
  assert.deepEqual(lines(secretFileCopied, 'FROM a\nCOPY .env .\nCOPY .env.example .\nCOPY certs/server.key /etc/ssl/\nCOPY id_rsa.pub /root/.ssh/\nCOPY app.py .\n'), [2, 4]);
});
