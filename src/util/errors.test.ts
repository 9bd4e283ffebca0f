import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError, SourceError, errorKind } from './errors.js';

test('errorKind follows the cause chain to the first BerthError', () => {
  const inner = new BerthError('not-found', 'no such image');
  const outer = new Error('wrapped', { cause: inner });
  assert.equal(errorKind(outer), 'not-found');
});

test('errorKind counts an AbortError as cancelled', () => {
  const abort = new DOMException('stop', 'AbortError');
  assert.equal(errorKind(new Error('x', { cause: abort })), 'cancelled');
});

test('errorKind falls back to internal for plain errors', () => {
  assert.equal(errorKind(new Error('boom')), 'internal');
});

test('SourceError prints file and line before the detail', () => {
  const e = new SourceError('Dockerfile', 7, 'unknown instruction "RUNN"');
  assert.equal(e.message, 'Dockerfile:7: unknown instruction "RUNN"');
  assert.equal(e.kind, 'invalid-argument');
});
