import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildToolsInFinalImage } from './build-tools-in-final-image.js';
import { ruleFindings as findings, ruleLines as lines } from '../lint.js';

test('BuildToolsInFinalImage flags compiling in a toolchain image that is also the final image', () => {
  assert.deepEqual(lines(buildToolsInFinalImage, 'FROM golang:1.20\nCOPY . .\nRUN go build -o app\nCMD ["./app"]\n'), [1]);
  assert.deepEqual(lines(buildToolsInFinalImage, 'FROM golang:1.20 AS builder\nRUN go build -o /app\nFROM alpine:3.20\nCOPY --from=builder /app /app\n'), []);
  assert.deepEqual(lines(buildToolsInFinalImage, 'FROM golang:1.20\nRUN go test ./...\n'), []);
});
