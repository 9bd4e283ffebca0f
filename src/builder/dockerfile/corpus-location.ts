// Where the shared upstream corpora live (STYLE.md §10): `../shared/corpus` beside the repo
// root, else /work/shared/corpus. Corpus-driven tests read them in place and skip when absent.
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

/** Absolute path of `<corpus>/<sub>`, or undefined when it is not there. */
export async function corpusPath(sub: string): Promise<string | undefined> {
  for (const base of [join(repoRoot, '..', 'shared', 'corpus'), '/work/shared/corpus']) {
    const p = join(base, sub);
    try {
      await access(p);
      return p;
    } catch {
      // not in this location; try the next one
    }
  }
  return undefined;
}

/** The skip message naming the missing folder. */
export function corpusMissing(sub: string): string {
  return `corpus folder ../shared/corpus/${sub} is absent`;
}
