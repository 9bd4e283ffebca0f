import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile, parseOnbuildTrigger, stagesNeededFor } from './stages.js';
import { SourceError } from '../../util/index.js';

const MULTI = `# syntax=docker/dockerfile:1
ARG BASE=alpine:3.20
FROM golang:1.22 AS deps
RUN go mod download

FROM deps AS build
RUN --mount=type=cache,target=/root/.cache go build -o /out/app

FROM node:20 AS docs
RUN npm run docs

FROM \${BASE} AS test
COPY --from=build /out/app /app
RUN /app -test

FROM scratch AS release
COPY --from=1 /out/app /app
COPY --from=busybox:1.36 /bin/busybox /bin/busybox
`;

test('parseDockerfile splits global ARGs and stages with names, bases and instructions', () => {
  const df = parseDockerfile(MULTI);
  assert.equal(df.metaArgs.length, 1);
  assert.deepEqual(df.stages.map((s) => [s.index, s.name, s.base, s.instructions.length]), [
    [0, 'deps', 'golang:1.22', 1],
    [1, 'build', 'deps', 1],
    [2, 'docs', 'node:20', 1],
    [3, 'test', '${BASE}', 2],
    [4, 'release', 'scratch', 2],
  ]);
  assert.equal(df.directives[0]?.value, 'docker/dockerfile:1');
});

test('stagesNeededFor drops stages the target does not reach', () => {
  const df = parseDockerfile(MULTI);
  assert.deepEqual(stagesNeededFor(df).map((s) => s.name), ['deps', 'build', 'release']);
  assert.deepEqual(stagesNeededFor(df, 'TEST').map((s) => s.name), ['deps', 'build', 'test']);
  assert.deepEqual(stagesNeededFor(df, 'docs').map((s) => s.name), ['docs']);
  assert.deepEqual(stagesNeededFor(df, 'test', { buildArgs: { BASE: 'deps' } }).map((s) => s.name), ['deps', 'build', 'test']);
});

test('RUN --mount from= is a stage dependency', () => {
  const df = parseDockerfile('FROM a AS one\nRUN x\nFROM b AS two\nFROM c\nRUN --mount=type=bind,from=one,target=/m true\n');
  assert.deepEqual(stagesNeededFor(df).map((s) => s.index), [0, 2]);
});

test('an unknown target is an error with a suggestion', () => {
  const df = parseDockerfile(MULTI);
  assert.throws(() => stagesNeededFor(df, 'relase'), /target stage "relase" could not be found \(did you mean release\?\)/);
});

test('copying from a later stage or with a variable is an error at its line', () => {
  const later = parseDockerfile('FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two\n');
  assert.throws(() => stagesNeededFor(later, 'one'), /Dockerfile:2: cannot copy from stage "two", it needs to be defined before current stage "one"/);
  const vars = parseDockerfile('FROM a\nCOPY --from=$X /x /x\n');
  assert.throws(() => stagesNeededFor(vars), /variable expansion is not supported for --from/);
});

test('instructions before FROM and files without FROM are rejected', () => {
  assert.throws(() => parseDockerfile('RUN x\nFROM a\n'), (e: unknown) => e instanceof SourceError && e.message === 'Dockerfile:1: no build stage in current context');
  assert.throws(() => parseDockerfile('ARG A=1\n'), /dockerfile contains no stages to build/);
  assert.throws(() => parseDockerfile('# only a comment\n'), /file with no instructions/);
});

test('a FROM whose variables expand to nothing is an error at its line', () => {
  const df = parseDockerfile('ARG IMAGE\nFROM $IMAGE\n');
  assert.throws(() => stagesNeededFor(df), (e: unknown) => e instanceof SourceError && e.message === 'Dockerfile:2: base name ($IMAGE) should not be blank');
  assert.deepEqual(stagesNeededFor(df, undefined, { buildArgs: { IMAGE: 'alpine' } }).length, 1);
});

test('ONBUILD triggers round-trip from the stored expression, heredocs included', () => {
  const df = parseDockerfile('FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\nONBUILD COPY . /app\n');
  const exprs = df.stages[0]!.instructions.map((i) => (i.kind === 'onbuild' ? i.expression : ''));
  assert.deepEqual(exprs, ['RUN <<EOF\necho hi\nEOF', 'COPY . /app']);
  const run = parseOnbuildTrigger(exprs[0]!);
  assert.ok(run.kind === 'run' && run.files[0]?.data === 'echo hi\n');
  assert.equal(parseOnbuildTrigger(exprs[1]!).kind, 'copy');
  assert.throws(() => parseOnbuildTrigger('RUN a\nRUN b'), /onbuild trigger should be a single expression/);
});
