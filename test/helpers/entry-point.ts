// How tests start berth's own programs: the bundle in dist/ when it is newer than every
// source file (so a stale build is never tested by accident), else the sources via tsx.
// `<envVar>=dist|src` forces one.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

const SOURCES: Record<'berth' | 'berthd', string> = { berth: 'src/cli/main.ts', berthd: 'src/cli/berthd.ts' };

/** Node arguments that run `name` (before its own arguments). */
export function entryArgv(name: 'berth' | 'berthd', envVar: string): string[] {
  const dist = join(REPO, `dist/${name}.js`);
  const mode = process.env[envVar];
  const useDist = mode === 'dist' || (mode !== 'src' && existsSync(dist) && statSync(dist).mtimeMs >= newestMtime(join(REPO, 'src')));
  return useDist ? [dist] : ['--import', 'tsx', join(REPO, SOURCES[name])];
}
