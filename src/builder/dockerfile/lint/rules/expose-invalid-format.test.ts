import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exposeInvalidFormat } from './expose-invalid-format.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('ExposeInvalidFormat flags host ports and IPs in EXPOSE', () => {
  assert.deepEqual(findings(exposeInvalidFormat, 'FROM a\nEXPOSE 8080:80 443\n'), [[2, "EXPOSE instruction should not define an IP address or host-port mapping, found '8080:80'"]]);
});
