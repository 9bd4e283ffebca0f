import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../util/index.js';
import { execStartFailureCode, translateExecError } from './exec.js';

test('runc exec failures read as dockerd words them, without repeating the start prefix', () => {
  const cases: Array<[string, string]> = [
    ['OCI runtime create failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown'],
    ['OCI runtime create failed: chdir to cwd ("/nope") set in config.json failed: no such file or directory', 'OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nope") set in config.json failed: no such file or directory: unknown'],
  ];
  for (const [runc, docker] of cases) assert.equal(translateExecError(new BerthError('internal', runc)).message, docker);
  const other = new BerthError('invalid-argument', 'unable to find user appuser: no matching entries in passwd file');
  assert.equal(translateExecError(other), other);
});

test('an exec that cannot start ends with 127 when its command or directory is missing and 126 otherwise', () => {
  assert.equal(execStartFailureCode('exec: "nosuch": executable file not found in $PATH'), 127);
  assert.equal(execStartFailureCode('stat /bin/bash: no such file or directory'), 127);
  assert.equal(execStartFailureCode('exec: "/etc/passwd": permission denied'), 126);
  assert.equal(execStartFailureCode('unable to find user appuser: no matching entries in passwd file'), 126);
});
