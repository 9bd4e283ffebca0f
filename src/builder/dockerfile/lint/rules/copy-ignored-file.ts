import { expandedStages } from '../stage-walk.js';
import { buildkitUrl, type LintRule } from '../rule.js';

function cleanSource(src: string): string {
  const parts: string[] = [];
  for (const p of src.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.length === 0 ? '.' : parts.join('/');
}

const REMOTE = /^(?:https?:\/\/|git@|git:\/\/)/;

export const copyIgnoredFile: LintRule = {
  id: 'CopyIgnoredFile',
  description: 'Attempting to Copy file that is excluded by .dockerignore',
  url: buildkitUrl('copy-ignored-file'),
  severity: 'warning',
  message: (cmd, file) => `Attempting to ${cmd} file ${JSON.stringify(file)} that is excluded by .dockerignore`,
  check(ctx, report) {
    const ignored = ctx.isIgnored;
    if (!ignored) return;
    for (const es of expandedStages(ctx)) {
      for (const i of es.instructions) {
        if (i.kind !== 'copy' && i.kind !== 'add') continue;
        if (i.kind === 'copy' && i.from) continue;
        for (const raw of i.sources) {
          if (REMOTE.test(raw)) continue;
          const src = cleanSource(raw);
          if (/[*?[]/.test(src)) continue;
          if (ignored(src)) report(i.startLine, i.kind === 'add' ? 'Add' : 'Copy', src);
        }
      }
    }
  },
};
