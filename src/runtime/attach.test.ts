import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './attach.js';

test('detach key specs parse like docker: ctrl- letters and plain characters', () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), DEFAULT_DETACH_KEYS);
  assert.deepEqual([...parseDetachKeys('a,ctrl-@,ctrl-[')], [97, 0, 27]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Unknown character/);
  assert.throws(() => parseDetachKeys('esc'), /Unknown character/);
});
