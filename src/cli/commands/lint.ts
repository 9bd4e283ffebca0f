// berth lint: BuildKit's Dockerfile checks plus berth's rules for the classic mistakes,
// printed compiler-style (`Dockerfile:7: warning: … [RuleName]`). Exit 1 when an error is found.
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { formatFinding, lintDockerfile, loadDockerignore } from '../../builder/dockerfile/index.js';
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const path = resolve(args[0] ?? (typeof opts['file'] === 'string' ? opts['file'] : 'Dockerfile'));
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new BerthError('invalid-argument', `cannot read Dockerfile "${path}": ${(err as Error).message}`, { cause: err });
  }
  const ignore = await loadDockerignore(dirname(path), basename(path));
  const r = lintDockerfile(text, { file: basename(path), ...(ignore ? { dockerignore: ignore.matcher } : {}) });
  if (opts['format'] === 'json') {
    await ctx.print(JSON.stringify(r.findings, null, 2) + '\n');
  } else {
    for (const f of r.findings) await ctx.print(formatFinding(f, basename(path)) + '\n');
  }
  return r.findings.some((f) => f.severity === 'error') ? 1 : 0;
}
