import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cdInsteadOfWorkdir } from './cd-instead-of-workdir.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('CdInsteadOfWorkdir flags cd inside RUN', () => {
  assert.deepEqual(findings(cdInsteadOfWorkdir, 'FROM a\nRUN cd /app && make\nRUN make -C /app\n'), [[2, '"cd /app" inside RUN only lasts for that RUN; use WORKDIR /app']]);
});
