import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Filters } from './filters.js';

test('both JSON forms of filters give the same values', () => {
  const a = Filters.parse('{"label":["a=b","c"],"dangling":["true"]}');
  const b = Filters.parse('{"label":{"a=b":true,"c":true},"dangling":{"true":true}}');
  for (const f of [a, b]) {
    assert.deepEqual(f.get('label'), ['a=b', 'c']);
    assert.deepEqual(f.get('dangling'), ['true']);
    assert.deepEqual(f.keys().sort(), ['dangling', 'label']);
  }
});

test('absent, empty and null filters are empty', () => {
  for (const raw of [null, '', '  ', 'null', '{}']) assert.deepEqual(Filters.parse(raw).keys(), []);
});

const bad: [string, RegExp][] = [
  ['{', /not JSON/],
  ['[]', /expected a JSON object/],
  ['"x"', /expected a JSON object/],
  ['{"a":1}', /invalid filter "a"/],
  ['{"a":[1]}', /invalid filter "a"/],
  ['{"a":{"x":"yes"}}', /invalid filter "a"/],
];
for (const [raw, msg] of bad) {
  test(`filters ${raw} are rejected as invalid arguments`, () => {
    assert.throws(() => Filters.parse(raw), (e: Error & { kind?: string }) => e.kind === 'invalid-argument' && msg.test(e.message));
  });
}

test('validate names the first unknown key like dockerd', () => {
  assert.throws(() => Filters.parse('{"dangling":["1"],"bogus":["x"]}').validate(['dangling']), /invalid filter 'bogus'/);
  assert.doesNotThrow(() => Filters.parse('{"dangling":["1"]}').validate(['dangling', 'label']));
});

test('label filters need every key and, when given, the value', () => {
  const f = Filters.parse('{"label":["team","tier=web"]}');
  assert.equal(f.matchLabels({ team: 'a', tier: 'web' }), true);
  assert.equal(f.matchLabels({ team: 'a', tier: 'db' }), false);
  assert.equal(f.matchLabels({ tier: 'web' }), false);
  assert.equal(f.matchLabels(undefined), false);
  assert.equal(Filters.parse(null).matchLabels(undefined), true);
});

test('exact and predicate matches pass when the key is absent', () => {
  const f = Filters.parse('{"name":["a","b"]}');
  assert.equal(f.matchExact('name', 'a'), true);
  assert.equal(f.matchExact('name', 'c'), false);
  assert.equal(f.matchExact('other', 'c'), true);
  assert.equal(f.matchAny('name', (v) => 'abc'.startsWith(v)), true);
  assert.equal(f.matchAny('name', (v) => v === 'z'), false);
});
