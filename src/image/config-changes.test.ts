import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfigChanges } from './config-changes.js';

test('CMD and ENTRYPOINT accept the JSON and the shell form', () => {
  const c = applyConfigChanges({}, ['CMD ["sh"]', 'ENTRYPOINT echo hi']);
  assert.deepEqual(c.Cmd, ['sh']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', 'echo hi']);
});

test('ENV and LABEL take key=value pairs with quotes and the legacy space form', () => {
  const c = applyConfigChanges({ Env: ['A=0', 'PATH=/bin'] }, ['ENV A=1 B="two words"', 'ENV C three four', "LABEL x=1 'y z'=2"]);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=1', 'B=two words', 'C=three four']);
  assert.deepEqual(c.Labels, { x: '1', 'y z': '2' });
});

test('EXPOSE, VOLUME, USER, WORKDIR and STOPSIGNAL set their fields', () => {
  const c = applyConfigChanges({ WorkingDir: '/app' }, ['EXPOSE 80 53/udp 8000-8001', 'VOLUME ["/data", "/logs"]', 'USER nobody', 'WORKDIR sub', 'STOPSIGNAL SIGINT']);
  assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
  assert.deepEqual(Object.keys(c.Volumes ?? {}), ['/data', '/logs']);
  assert.equal(c.User, 'nobody');
  assert.equal(c.WorkingDir, '/app/sub');
  assert.equal(c.StopSignal, 'SIGINT');
});

test('an instruction outside the allowed set is rejected with docker\'s wording', () => {
  assert.throws(() => applyConfigChanges({}, ['RUN echo']), /^Error: RUN is not a valid change command$|RUN is not a valid change command/);
  assert.throws(() => applyConfigChanges({}, ['EXPOSE 99999']), /invalid port range/);
  assert.throws(() => applyConfigChanges({}, ['ENV A="x']), /unterminated quote/);
});

test('the input config is not modified', () => {
  const orig = { Env: ['A=1'] };
  applyConfigChanges(orig, ['ENV A=2']);
  assert.deepEqual(orig, { Env: ['A=1'] });
});
