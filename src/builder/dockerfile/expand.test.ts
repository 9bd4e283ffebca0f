import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './stages.js';
import { expandInstruction, expandWord, expandWords, predefinedArgs, proxyEnv, resolveMetaArgs, StageScope } from './expand.js';
import { SourceError } from '../../util/index.js';

test('expandWord and expandWords follow shell quoting rules', () => {
  const env = new Map([['A', 'x y'], ['E', '']]);
  assert.equal(expandWord('"$A"-${E:-d}-${A:+set}', env), 'x y-d-set');
  assert.deepEqual(expandWords('a $A "$A"', env), ['a', 'x', 'y', 'x y']);
  assert.equal(expandWord('`$A', env, { escapeToken: '`' }), '$A');
});

test('predefined args describe the build and target platforms; build args override them', () => {
  const p = predefinedArgs({ buildPlatform: { os: 'linux', architecture: 'amd64' }, targetPlatform: { os: 'linux', architecture: 'arm', variant: 'v7' }, buildArgs: { TARGETOS: 'freebsd' } });
  assert.equal(p.get('BUILDPLATFORM'), 'linux/amd64');
  assert.equal(p.get('TARGETPLATFORM'), 'linux/arm/v7');
  assert.equal(p.get('TARGETVARIANT'), 'v7');
  assert.equal(p.get('TARGETOS'), 'freebsd');
  assert.equal(p.get('TARGETSTAGE'), 'default');
});

test('proxy build args are picked up without ARG declarations', () => {
  assert.deepEqual([...proxyEnv({ HTTP_PROXY: 'http://p', FOO: 'x', no_proxy: 'l' })], [['HTTP_PROXY', 'http://p'], ['no_proxy', 'l']]);
});

test('global ARGs resolve build args first, then defaults expanded in order', () => {
  const df = parseDockerfile('ARG REG=docker.io\nARG IMG=${REG}/lib/alpine\nARG TAG\nFROM ${IMG}:${TAG:-3.20}\n');
  const g = resolveMetaArgs(df.metaArgs, { REG: 'local:5000' });
  assert.equal(g.get('IMG'), 'local:5000/lib/alpine');
  assert.equal(g.has('TAG'), false);
  assert.equal(expandWord(df.stages[0]!.base, g), 'local:5000/lib/alpine:3.20');
});

test('a stage scope applies ENV and ARG in order and inherits global ARG values on re-declaration', () => {
  const df = parseDockerfile('ARG VERSION=1.0\nFROM alpine\nARG VERSION\nARG TARGETARCH\nENV APP=/opt/app-$VERSION PATH=$PATH:/opt/bin\nWORKDIR $APP\nUSER ${NOPE:-app}\nCOPY --chown=$VERSION src/ $APP/\nEXPOSE $PORTS\nRUN --mount=type=cache,target=$APP/cache echo $APP\nARG OVER=default\n');
  const globals = resolveMetaArgs(df.metaArgs, {}, predefinedArgs({ buildPlatform: { os: 'linux', architecture: 'amd64' }, targetPlatform: { os: 'linux', architecture: 'arm64' } }));
  const scope = new StageScope({ imageEnv: ['PATH=/usr/bin'], globals, buildArgs: { OVER: 'cli', PORTS: 'ignored' } });
  const out = df.stages[0]!.instructions.map((i) => scope.apply(i));
  const env = scope.env();
  assert.equal(env.get('VERSION'), '1.0');
  assert.equal(env.get('TARGETARCH'), 'arm64');
  assert.equal(env.get('APP'), '/opt/app-1.0');
  assert.equal(env.get('PATH'), '/usr/bin:/opt/bin');
  assert.equal(env.get('OVER'), 'cli');
  const [, , , wd, user, copy, expose, run] = out.map((r) => r.instruction);
  assert.ok(wd?.kind === 'workdir' && wd.path === '/opt/app-1.0');
  assert.ok(user?.kind === 'user' && user.user === 'app');
  assert.ok(copy?.kind === 'copy' && copy.chown === '1.0' && copy.dest === '/opt/app-1.0/');
  assert.ok(expose?.kind === 'expose' && expose.ports.length === 0);
  assert.deepEqual([...out[6]!.unmatched], ['PORTS']);
  assert.ok(run?.kind === 'run' && run.mounts?.[0]?.target === '/opt/app-1.0/cache');
  assert.ok(run?.kind === 'run' && run.cmdLine[0] === 'echo $APP', 'the RUN command itself is not expanded');
});

test('heredoc COPY sources expand only when the name is unquoted', () => {
  const df = parseDockerfile("FROM a\nCOPY <<EOF <<'RAW' /d/\n\"$X\"\nEOF\n$X\nRAW\n");
  const r = expandInstruction(df.stages[0]!.instructions[0]!, { X: 'v' });
  assert.ok(r.instruction.kind === 'copy');
  assert.deepEqual(r.instruction.sourceContents.map((c) => c.data), ['"v"\n', '$X\n']);
});

test('an expansion error is reported at the instruction line', () => {
  const df = parseDockerfile('FROM a\n\nWORKDIR ${X:?must be set}\n');
  assert.throws(() => expandInstruction(df.stages[0]!.instructions[0]!, {}), (e: unknown) => e instanceof SourceError && e.line === 3 && /X: must be set/.test(e.message));
});

test('a bad --chmod or a misplaced ADD --checksum is reported when the instruction is expanded', () => {
  const df = parseDockerfile('FROM a\nARG MODE=888\nCOPY --chmod=$MODE x /y\nADD --checksum=sha256:0 a b /d/\nADD --checksum=sha256:0 local /d\nCOPY --chmod=u+x x /y\n');
  const [, copy, add2, addLocal, sym] = df.stages[0]!.instructions;
  assert.throws(() => expandInstruction(copy!, { MODE: '888' }), /Dockerfile:3: invalid chmod parameter: '888'. it should be octal string and between 0 and 07777/);
  assert.throws(() => expandInstruction(add2!, {}), /checksum can't be specified for multiple sources/);
  assert.throws(() => expandInstruction(addLocal!, {}), /checksum requires HTTP\(S\) or Git sources/);
  assert.doesNotThrow(() => expandInstruction(sym!, {}));
});
