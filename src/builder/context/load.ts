// Finds and reads the ignore file for a build: `<Dockerfile>.dockerignore` beside the
// Dockerfile wins over `.dockerignore` at the context root (BuildKit's rule).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DockerignoreMatcher } from './dockerignore.js';

/** Candidate ignore files, most specific first (paths relative to the context root). */
export function dockerignoreCandidates(dockerfile = 'Dockerfile'): string[] {
  const df = dockerfile.replace(/^\.\//, '');
  return [`${df}.dockerignore`, '.dockerignore'];
}

/** Reads the matcher for a context; undefined when there is no ignore file. */
export async function loadDockerignore(contextDir: string, dockerfile = 'Dockerfile', opts: { signal?: AbortSignal } = {}): Promise<{ file: string; matcher: DockerignoreMatcher } | undefined> {
  for (const file of dockerignoreCandidates(dockerfile)) {
    let text: string;
    try {
      text = await readFile(join(contextDir, file), { encoding: 'utf8', ...(opts.signal && { signal: opts.signal }) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') continue; // absent: try the next candidate
      throw e;
    }
    return { file, matcher: DockerignoreMatcher.parse(text) };
  }
  return undefined;
}
