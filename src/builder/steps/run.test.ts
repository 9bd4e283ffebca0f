import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerfile, type RunInstruction } from '../dockerfile/index.js';
import { runArgs } from './run.js';

function runOf(text: string): RunInstruction {
  return parseDockerfile(`FROM scratch\n${text}`).stages[0]!.instructions[0] as RunInstruction;
}

test('runArgs puts the shell form through SHELL and keeps the exec form as is', () => {
  assert.deepEqual(runArgs(runOf('RUN echo hi'), ['/bin/sh', '-c']), ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(runArgs(runOf('RUN ["echo", "hi"]'), ['/bin/sh', '-c']), ['echo', 'hi']);
  assert.deepEqual(runArgs(runOf('RUN echo hi'), ['/bin/bash', '-eo', 'pipefail', '-c']), ['/bin/bash', '-eo', 'pipefail', '-c', 'echo hi']);
});

test('runArgs runs a sole heredoc as the script and keeps heredocs of a command for the shell', () => {
  assert.deepEqual(runArgs(runOf('RUN <<EOF\necho a\necho b\nEOF'), ['/bin/sh', '-c']), ['/bin/sh', '-c', 'echo a\necho b\n']);
  assert.deepEqual(runArgs(runOf('RUN cat <<EOF\nx\nEOF'), ['/bin/sh', '-c']), ['/bin/sh', '-c', 'cat <<EOF\nx\nEOF\n']);
});
