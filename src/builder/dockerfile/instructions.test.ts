import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAst } from './parser.js';
import { exposedPortKeys, parseChmod, parseExposePort, parseInstruction, type Instruction } from './instructions.js';
import { SourceError } from '../../util/index.js';

function one(line: string): Instruction {
  const ast = parseAst(`FROM scratch\n${line}\n`);
  return parseInstruction(ast.children[1]!);
}
function err(line: string): string {
  try {
    one(line);
  } catch (e) {
    assert.ok(e instanceof SourceError, String(e));
    return e.message;
  }
  return assert.fail(`no error for ${line}`);
}

test('FROM reads image, lower-cased stage name and platform', () => {
  const f = parseInstruction(parseAst('FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n').children[0]!);
  assert.deepEqual([f.kind, f.kind === 'from' && f.image, f.kind === 'from' && f.stageName, f.kind === 'from' && f.platform], ['from', 'golang:1.22', 'build', '$BUILDPLATFORM']);
  assert.equal(err('FROM a b'), 'Dockerfile:2: FROM requires either one or three arguments');
  assert.match(err('FROM a AS 1x'), /invalid name for build stage: "1x", name can't start with a number/);
});

test('RUN parses mounts of every type with BuildKit defaults, network and security', () => {
  const r = one('RUN --mount=type=cache,target=/root/.cache,id=pip,sharing=locked --mount=type=secret,id=tok,env=TOKEN,required --mount=type=bind,from=build,source=/out,target=/in --mount=type=tmpfs,target=/t,size=64m --mount=type=ssh --network=none --security=insecure make');
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  assert.deepEqual(r.cmdLine, ['make']);
  assert.equal(r.prependShell, true);
  assert.equal(r.network, 'none');
  assert.equal(r.security, 'insecure');
  const [cache, secret, bind, tmpfs, ssh] = r.mounts!;
  assert.deepEqual(cache, { type: 'cache', readOnly: false, sizeLimit: 0, required: false, target: '/root/.cache', id: 'pip', sharing: 'locked' });
  assert.deepEqual([secret!.type, secret!.id, secret!.env, secret!.required, secret!.readOnly], ['secret', 'tok', 'TOKEN', true, true]);
  assert.deepEqual([bind!.from, bind!.source, bind!.target, bind!.readOnly], ['build', '/out', '/in', true]);
  assert.deepEqual([tmpfs!.sizeLimit, tmpfs!.readOnly], [64 * 1024 * 1024, false]);
  assert.equal(ssh!.type, 'ssh');
});

test('RUN rejects bad mounts, networks and flags with BuildKit messages', () => {
  assert.match(err('RUN --mount=type=cahce,target=/x true'), /unsupported mount type "cahce" \(did you mean cache\?\)/);
  assert.match(err('RUN --mount=type=secret true'), /invalid secret mount. one of source, target required/);
  assert.match(err('RUN --mount=type=bind,target=/x,mode=0700 true'), /mode not allowed for "bind" type mounts/);
  assert.match(err('RUN --mount=type=bind,from=$X,target=/x true'), /'from' doesn't support variable expansion/);
  assert.match(err('RUN --network=bridge true'), /invalid network mode "bridge"/);
  assert.match(err('RUN --mnt=x true'), /unknown flag: --mnt/);
  assert.match(err('RUN --mount=type=bind,target=/x,uid=1 true'), /uid not allowed/);
});

test('RUN exec form and heredoc files', () => {
  const r = one('RUN ["echo", "hi"]');
  assert.ok(r.kind === 'run' && r.prependShell === false && r.cmdLine.join(',') === 'echo,hi');
  const ast = parseAst('FROM a\nRUN <<-EOF bash\n\techo hi\nEOF\n');
  const h = parseInstruction(ast.children[1]!);
  assert.ok(h.kind === 'run');
  assert.deepEqual(h.files, [{ name: 'EOF', data: '\techo hi\n', chomp: true }]);
});

test('CMD, ENTRYPOINT and SHELL forms', () => {
  const c = one('CMD ["a", "b"]');
  assert.ok(c.kind === 'cmd' && !c.prependShell && c.cmdLine.length === 2);
  const e = one('ENTRYPOINT exec  app');
  assert.ok(e.kind === 'entrypoint' && e.prependShell && e.cmdLine[0] === 'exec  app');
  const s = one('SHELL ["/bin/bash", "-c"]');
  assert.ok(s.kind === 'shell' && s.shell.join(' ') === '/bin/bash -c');
  assert.match(err('SHELL /bin/bash -c'), /SHELL requires the arguments to be in JSON form/);
});

test('ENV and LABEL accept the key=value and legacy forms', () => {
  const e = one('ENV A=1 B="two words"');
  assert.ok(e.kind === 'env');
  assert.deepEqual(e.env, [{ key: 'A', value: '1', noDelim: false }, { key: 'B', value: '"two words"', noDelim: false }]);
  const legacy = one('ENV PATH /usr/bin:/bin');
  assert.ok(legacy.kind === 'env' && legacy.env[0]!.noDelim && legacy.env[0]!.value === '/usr/bin:/bin');
  const l = one('LABEL a=b c=d');
  assert.ok(l.kind === 'label' && l.labels.length === 2);
  assert.match(err('ENV'), /ENV requires at least one argument/);
  assert.match(err('ENV A=1 B'), /Syntax error - can't find = in "B"/);
  assert.match(err('LABEL =x'), /LABEL names can not be blank/);
});

test('ARG declares several names with optional defaults', () => {
  const a = one('ARG A B=2 C=');
  assert.ok(a.kind === 'arg');
  assert.deepEqual(a.args, [{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '' }]);
  assert.match(err('ARG =x'), /ARG names can not be blank/);
});

test('EXPOSE keeps ports sorted and parses port specs', () => {
  const x = one('EXPOSE 8080/udp 80');
  assert.ok(x.kind === 'expose');
  assert.deepEqual(x.ports, ['80', '8080/udp']);
  assert.deepEqual(parseExposePort('8000-8002/UDP'), { start: 8000, end: 8002, proto: 'udp', hasHostPart: false });
  assert.deepEqual(parseExposePort('127.0.0.1:80:80'), { start: 80, end: 80, proto: 'tcp', hasHostPart: true });
  assert.throws(() => parseExposePort('80/xtp'), /invalid proto: xtp/);
  assert.throws(() => parseExposePort('99999'), /invalid containerPort: 99999/);
  assert.deepEqual(exposedPortKeys('8000-8002/UDP'), ['8000/udp', '8001/udp', '8002/udp']);
  assert.deepEqual(exposedPortKeys('80'), ['80/tcp']);
});

test('COPY and ADD read every flag, sources, destination and heredoc sources', () => {
  const c = one('COPY --from=build --chown=app:app --chmod=0755 --link --exclude=*.md --exclude=*.txt --parents a b /dst/');
  assert.ok(c.kind === 'copy');
  assert.deepEqual([c.from, c.chown, c.chmod, c.link, c.excludes, c.parents, c.sources, c.dest], ['build', 'app:app', '0755', true, ['*.md', '*.txt'], true, ['a', 'b'], '/dst/']);
  const j = one('COPY ["a b", "/c d/"]');
  assert.ok(j.kind === 'copy' && j.sources[0] === 'a b' && j.dest === '/c d/');
  const ad = one('ADD --keep-git-dir=false --checksum=sha256:abc --unpack https://x/y.tgz /y');
  assert.ok(ad.kind === 'add');
  assert.deepEqual([ad.keepGitDir, ad.checksum, ad.unpack], [false, 'sha256:abc', true]);
  const ast = parseAst("FROM a\nCOPY <<-EOF <<'RAW' /etc/\n\thello $X\nEOF\nraw $Y\nRAW\n");
  const h = parseInstruction(ast.children[1]!);
  assert.ok(h.kind === 'copy');
  assert.deepEqual(h.sourceContents, [{ path: 'EOF', data: 'hello $X\n', expand: true }, { path: 'RAW', data: 'raw $Y\n', expand: false }]);
  assert.match(err('COPY onlyone'), /COPY requires at least two arguments, but only one was provided/);
  assert.match(err('COPY --from=a --from=b x y'), /duplicate flag specified: --from/);
  assert.match(err('COPY --link=maybe x y'), /expecting boolean value for flag --link, not: maybe/);
  assert.match(err('COPY --chown x y'), /missing a value on flag: --chown/);
  assert.match(err('COPY --checksum=x a b'), /unknown flag: --checksum/);
});

test('--chmod accepts octal up to 07777 and symbolic modes', () => {
  assert.deepEqual(parseChmod('755'), { mode: 0o755 });
  assert.deepEqual(parseChmod('u+x,go-w'), { symbolic: 'u+x,go-w' });
  assert.throws(() => parseChmod('17777'), /invalid chmod parameter: '17777'. it should be octal string and between 0 and 07777/);
  assert.throws(() => parseChmod('999'), /invalid chmod parameter/);
});

test('HEALTHCHECK parses NONE, CMD forms and durations', () => {
  const h = one('HEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --start-interval=2s --retries=3 CMD curl -f http://localhost/');
  assert.ok(h.kind === 'healthcheck');
  assert.deepEqual(h.health, { test: ['CMD-SHELL', 'curl -f http://localhost/'], interval: 30e9, timeout: 90e9, startPeriod: 5e8, startInterval: 2e9, retries: 3 });
  const j = one('HEALTHCHECK CMD ["pg_isready"]');
  assert.ok(j.kind === 'healthcheck' && j.health.test.join(' ') === 'CMD pg_isready');
  const n = one('HEALTHCHECK NONE');
  assert.ok(n.kind === 'healthcheck' && n.health.test[0] === 'NONE');
  assert.match(err('HEALTHCHECK NONE x'), /HEALTHCHECK NONE takes no arguments/);
  assert.match(err('HEALTHCHECK CONNECT x'), /Unknown type "CONNECT" in HEALTHCHECK \(try CMD\)/);
  assert.match(err('HEALTHCHECK --interval=10us CMD x'), /Interval "interval" cannot be less than 1ms/);
  assert.match(err('HEALTHCHECK --retries=-1 CMD x'), /--retries cannot be negative \(-1\)/);
  assert.match(err('HEALTHCHECK --timeout=5 CMD x'), /time: missing unit in duration "5"/);
  assert.match(err('HEALTHCHECK CMD'), /Missing command after HEALTHCHECK CMD/);
});

test('ONBUILD stores the trigger and forbids ONBUILD, FROM and MAINTAINER triggers', () => {
  const o = one('ONBUILD RUN echo hi');
  assert.ok(o.kind === 'onbuild' && o.expression === 'RUN echo hi' && o.triggerKeyword === 'RUN');
  assert.match(err('ONBUILD ONBUILD RUN x'), /Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/);
  assert.match(err('ONBUILD FROM x'), /FROM isn't allowed as an ONBUILD trigger/);
  assert.match(err('ONBUILD MAINTAINER me'), /MAINTAINER isn't allowed as an ONBUILD trigger/);
  assert.match(err('ONBUILD'), /ONBUILD requires at least one argument/);
});

test('single-argument instructions and VOLUME', () => {
  assert.ok(one('WORKDIR /app').kind === 'workdir');
  assert.ok(one('USER app:app').kind === 'user');
  assert.ok(one('STOPSIGNAL SIGTERM').kind === 'stopsignal');
  assert.ok(one('MAINTAINER me <me@x>').kind === 'maintainer');
  const v = one('VOLUME ["/a", "/b"]');
  assert.ok(v.kind === 'volume' && v.volumes.length === 2);
  assert.match(err('VOLUME [""]'), /VOLUME specified can not be an empty string/);
  assert.match(err('WORKDIR'), /WORKDIR requires exactly one argument/);
});

test('instruction keywords are case-insensitive and unknown ones get a suggestion', () => {
  assert.equal(one('run echo').kind, 'run');
  assert.equal(one('Copy a b').kind, 'copy');
  assert.equal(err('RUNN echo'), 'Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)');
  assert.equal(err('frobnicate x'), 'Dockerfile:2: unknown instruction: frobnicate');
});
