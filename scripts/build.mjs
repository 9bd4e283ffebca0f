// Bundles the CLI and the daemon into dist/. The CLI must start fast, so heavy
// modules are split into lazily imported chunks (ESM splitting).
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

const entryPoints = { berth: 'src/cli/main.ts', berthd: 'src/cli/berthd.ts' };
await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
for (const name of Object.keys(entryPoints)) await chmod(`dist/${name}.js`, 0o755);
