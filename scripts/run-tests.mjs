// Runs every test file with node's test runner. Unit tests live beside the code
// (src/**/*.test.ts); integration and compat tests under test/. `--unit` runs only
// the former. Integration tests skip themselves when not root.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const unitOnly = process.argv.includes('--unit');
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
}
walk('src');
if (!unitOnly) walk('test');
files.sort();
const extra = process.argv.slice(2).filter((a) => a !== '--unit');
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...extra, ...files], {
  stdio: 'inherit',
});
process.exit(res.status ?? 1);
