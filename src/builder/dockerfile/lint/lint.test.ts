import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFinding, lintDockerfile } from './lint.js';
import { ALL_RULES } from './rules/index.js';

const BAD = `FROM python:latest
ENV DB_PASSWORD=secret123
RUN apt-get update
RUN apt-get install -y curl
COPY . .
RUN pip install -r requirements.txt
CMD python app.py
`;

test('a Dockerfile with the classic mistakes gets one finding per mistake, sorted by line', () => {
  const { findings } = lintDockerfile(BAD);
  assert.deepEqual(findings.map((f) => `${f.line}:${f.rule}`), [
    '1:RunsAsRoot',
    '1:UnpinnedBaseImage',
    '2:SecretsUsedInArgOrEnv',
    '3:AptGetUpdateAlone',
    '4:AptGetInstallRecommends',
    '4:AptListsNotCleaned',
    '5:CopyAllBeforeInstall',
    '6:PipNoCacheDir',
    '7:JSONArgsRecommended',
  ]);
  assert.ok(findings.every((f) => f.severity === 'warning' && f.url !== ''));
});

test('a clean Dockerfile has no findings', () => {
  const good = `# syntax=docker/dockerfile:1
FROM python:3.12-slim AS base
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home appuser
USER appuser
EXPOSE 8000
HEALTHCHECK --interval=30s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/health')"]
CMD ["python", "app.py"]
`;
  assert.deepEqual(lintDockerfile(good).findings, []);
});

test('the check directive skips rules and turns warnings into errors', () => {
  const { findings } = lintDockerfile(`# check=skip=RunsAsRoot,UnpinnedBaseImage;error=true\n${BAD}`);
  assert.ok(!findings.some((f) => f.rule === 'RunsAsRoot' || f.rule === 'UnpinnedBaseImage'));
  assert.ok(findings.every((f) => f.severity === 'error'));
  assert.deepEqual(lintDockerfile(`# check=skip=all\n${BAD}`).findings, []);
});

test('options skip or select rules', () => {
  assert.deepEqual(lintDockerfile(BAD, { only: ['PipNoCacheDir'] }).findings.map((f) => f.rule), ['PipNoCacheDir']);
  assert.ok(!lintDockerfile(BAD, { skip: ['pipnocachedir'] }).findings.some((f) => f.rule === 'PipNoCacheDir'));
});

test('a syntax error is one InvalidSyntax finding with its line', () => {
  const r = lintDockerfile('FROM a\nRUNN x\n', { file: 'x.Dockerfile' });
  assert.equal(r.dockerfile, undefined);
  assert.deepEqual(r.findings.map((f) => [f.rule, f.line, f.message, f.severity]), [['InvalidSyntax', 2, 'unknown instruction: RUNN (did you mean RUN?)', 'error']]);
});

test('every rule has a unique id, a description, a docs link and a message', () => {
  const ids = ALL_RULES.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const r of ALL_RULES) {
    assert.ok(r.description.length > 10 && r.url.length > 0, r.id);
    assert.equal(typeof r.message('x', 'y'), 'string');
  }
});

test('findings format as file:line: severity: message [rule]', () => {
  const [f] = lintDockerfile('FROM a\nMAINTAINER me\n', { only: ['MaintainerDeprecated'] }).findings;
  assert.equal(formatFinding(f!, 'app/Dockerfile'), 'app/Dockerfile:2: warning: Maintainer instruction is deprecated in favor of using label [MaintainerDeprecated]');
});
