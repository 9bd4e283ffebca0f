// Bundles berthd the way scripts/build.mjs does (ESM, code splitting, packages external)
// into bench/out/berthd/, so benchmarks measure the shipped daemon rather than tsx.
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

export const REPO = resolve(import.meta.dirname, '..');

/** Returns the path of the bundled entry (`bench/out/berthd/berthd.mjs`). */
export async function bundleBerthd(): Promise<string> {
  const outdir = join(REPO, 'bench/out/berthd');
  await build({
    entryPoints: { berthd: join(REPO, 'src/cli/berthd.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  return join(outdir, 'berthd.mjs');
}
