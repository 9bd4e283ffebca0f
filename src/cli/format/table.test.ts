import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderList, tabwrite } from './table.js';

const headers = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Size: 'SIZE' };
const rows = [
  { Repository: 'busybox', Tag: 'latest', ID: '0123456789ab', Size: '4.26MB' },
  { Repository: 'debian', Tag: 'bookworm-slim', ID: 'ba9876543210', Size: '74.8MB' },
];
const defaultFormat = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}';

test('the default table aligns columns like docker (min width 10, padding 3)', () => {
  const out = renderList({ format: undefined, defaultFormat, headers }, rows);
  assert.equal(
    out,
    'REPOSITORY   TAG             IMAGE ID       SIZE\n' +
      'busybox      latest          0123456789ab   4.26MB\n' +
      'debian       bookworm-slim   ba9876543210   74.8MB\n',
  );
});

test('a table with no rows still prints its header', () => {
  assert.equal(renderList({ format: 'table {{.ID}}\\t{{.Tag}}', defaultFormat, headers }, []), 'IMAGE ID   TAG\n');
});

test('a plain template prints one line per row without a header', () => {
  assert.equal(renderList({ format: '{{.Repository}}:{{.Tag}}', defaultFormat, headers }, rows), 'busybox:latest\ndebian:bookworm-slim\n');
});

test('the json shortcut prints one object per line', () => {
  const out = renderList({ format: 'json', defaultFormat, headers }, rows.slice(0, 1));
  assert.deepEqual(JSON.parse(out), rows[0]);
});

test('tabwrite gives each block of lines its own column widths', () => {
  assert.equal(tabwrite('a\tb\nlonger-than-ten\tc\nno tabs here'), 'a                 b\nlonger-than-ten   c\nno tabs here');
});
