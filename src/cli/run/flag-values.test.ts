import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseAddHost,
  parseCpusFlag,
  parseDnsSearch,
  parseEnvFileText,
  parseGoDuration,
  parseRestartPolicy,
  parseSizeFlag,
  parseUlimit,
  resolveEnvFlag,
} from './flag-values.js';

const throwsWith = (fn: () => unknown, message: string) => assert.throws(fn, (e: Error) => e.message === message);

test('sizes accept docker units and reject anything else with the -m wording', () => {
  assert.equal(parseSizeFlag('-m, --memory', '512m'), 512 * 1024 * 1024);
  assert.equal(parseSizeFlag('-m, --memory', '1g'), 1024 ** 3);
  assert.equal(parseSizeFlag('-m, --memory', '1.5k'), 1536);
  assert.equal(parseSizeFlag('-m, --memory', '100'), 100);
  throwsWith(() => parseSizeFlag('-m, --memory', 'foo'), `invalid argument "foo" for "-m, --memory" flag: invalid size: 'foo'`);
});

test('durations follow Go: compound units, fractions, zero, and the invalid wording', () => {
  assert.equal(parseGoDuration('30s'), 30e9);
  assert.equal(parseGoDuration('1m30s'), 90e9);
  assert.equal(parseGoDuration('1.5h'), 5400e9);
  assert.equal(parseGoDuration('500ms'), 5e8);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('-2s'), -2e9);
  for (const bad of ['', '10', 's', '1x', '1s2']) throwsWith(() => parseGoDuration(bad), `time: invalid duration "${bad}"`);
});

test('--cpus becomes NanoCpus and refuses non-numbers', () => {
  assert.equal(parseCpusFlag('--cpus', '1.5'), 1_500_000_000);
  assert.equal(parseCpusFlag('--cpus', '.25'), 250_000_000);
  throwsWith(() => parseCpusFlag('--cpus', 'abc'), 'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number');
});

test('--ulimit reads name=soft[:hard] with go-units checks', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Soft: 1024, Hard: 2048 });
  assert.deepEqual(parseUlimit('nproc=10'), { Name: 'nproc', Soft: 10, Hard: 10 });
  throwsWith(() => parseUlimit('nofile'), 'invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile');
  throwsWith(() => parseUlimit('bogus=1'), 'invalid argument "bogus=1" for "--ulimit" flag: invalid ulimit type: bogus');
  throwsWith(() => parseUlimit('nofile=20:10'), 'invalid argument "nofile=20:10" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 20 > 10');
  throwsWith(() => parseUlimit('nofile=a'), 'invalid argument "nofile=a" for "--ulimit" flag: invalid ulimit soft value: a');
});

test('--restart splits the retry count and leaves the name check to the daemon', () => {
  assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(parseRestartPolicy('always'), { Name: 'always', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy(''), { Name: 'no', MaximumRetryCount: 0 });
  throwsWith(() => parseRestartPolicy('on-failure:x'), 'invalid restart policy format: maximum retry count must be an integer');
});

test('env files keep values literally, skip comments and blanks, and take bare names from the environment', () => {
  const text = '\uFEFF# comment\nA=1\n  B="two words"\n\nFROM_ENV\nMISSING\nEMPTY=\n';
  assert.deepEqual(parseEnvFileText(text, 'f', { FROM_ENV: 'x' }), ['A=1', 'B="two words"', 'FROM_ENV=x', 'EMPTY=']);
  throwsWith(() => parseEnvFileText('BAD NAME=1\n', 'f', {}), "variable 'BAD NAME' contains whitespaces");
  throwsWith(() => parseEnvFileText('=1\n', 'f', {}), "no variable name on line '=1' (f:1)");
});

test('-e KEY takes the value from the environment when set', () => {
  assert.equal(resolveEnvFlag('A=1', {}), 'A=1');
  assert.equal(resolveEnvFlag('HOMEY', { HOMEY: '/h' }), 'HOMEY=/h');
  assert.equal(resolveEnvFlag('UNSET', {}), 'UNSET');
});

test('--add-host accepts host:ip and host=ip and checks the address', () => {
  assert.equal(parseAddHost('db:10.0.0.2'), 'db:10.0.0.2');
  assert.equal(parseAddHost('db=10.0.0.2'), 'db:10.0.0.2');
  assert.equal(parseAddHost('gw:host-gateway'), 'gw:host-gateway');
  assert.equal(parseAddHost('v6:[::1]'), 'v6:::1');
  throwsWith(() => parseAddHost('db:nope'), 'invalid argument "db:nope" for "--add-host" flag: invalid IP address in add-host: "nope"');
  throwsWith(() => parseAddHost('justhost'), 'invalid argument "justhost" for "--add-host" flag: bad format for add-host: "justhost"');
});

test('--dns-search rejects names that are not domains', () => {
  assert.equal(parseDnsSearch('example.com'), 'example.com');
  throwsWith(() => parseDnsSearch('.bad'), 'invalid argument ".bad" for "--dns-search" flag: .bad is not a valid domain');
});
