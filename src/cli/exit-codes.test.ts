import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../util/index.js';
import { EXIT_ENGINE, EXIT_FAILURE, EXIT_INTERRUPTED, ExitStatus, UsageError, exitCodeFor } from './exit-codes.js';
import { errorLine } from './report-error.js';
import { EngineApiError, DaemonUnreachableError, EngineStreamError } from '../client/index.js';

test('image and system commands exit 1 on any failure, like the docker CLI', () => {
  assert.equal(exitCodeFor(new EngineApiError(404, 'No such image: x')), EXIT_FAILURE);
  assert.equal(exitCodeFor(new EngineApiError(400, 'invalid reference format')), EXIT_FAILURE);
  assert.equal(exitCodeFor(new BerthError('invalid-argument', 'bad')), EXIT_FAILURE);
  assert.equal(exitCodeFor(new Error('boom')), EXIT_FAILURE);
});

test('run-style commands report engine failures as 125', () => {
  assert.equal(exitCodeFor(new EngineApiError(404, 'No such image: x'), 'run'), EXIT_ENGINE);
  assert.equal(exitCodeFor(new ExitStatus(127), 'run'), 127);
});

test('a bad flag exits 125 and an interrupted command 130', () => {
  assert.equal(exitCodeFor(new UsageError('unknown flag: --x')), EXIT_ENGINE);
  const abort = new Error('aborted');
  abort.name = 'AbortError';
  assert.equal(exitCodeFor(abort), EXIT_INTERRUPTED);
});

test('errors print as one line in docker wording', () => {
  assert.equal(errorLine(new EngineApiError(404, 'No such image: x:latest')), 'Error response from daemon: No such image: x:latest');
  assert.equal(errorLine(new EngineStreamError('unexpected EOF')), 'unexpected EOF');
  assert.match(errorLine(new DaemonUnreachableError('unix:///x.sock', null)), /^Cannot connect to the berth daemon at unix:\/\/\/x\.sock/);
  assert.equal(errorLine(new BerthError('invalid-argument', 'invalid --only "x"')), 'berth: invalid --only "x"');
});
