import { berthUrl, instructionsOf, type LintRule } from '../rule.js';

const REMOTE = /^(?:https?:\/\/|git@|git:\/\/|ssh:\/\/)|\.git(?:#.*)?$/;
const ARCHIVE = /\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|gz|bz2|xz|zst)$/i;

export const addInsteadOfCopy: LintRule = {
  id: 'AddInsteadOfCopy',
  description: 'Use COPY for local files; ADD is for URLs, git sources and archives to extract',
  url: berthUrl('AddInsteadOfCopy'),
  severity: 'warning',
  message: () => 'ADD used for local files: use COPY, which does not fetch URLs or unpack archives behind your back',
  check({ df }, report) {
    for (const i of instructionsOf(df, 'add')) {
      if (i.sources.length === 0 || i.sources.some((src) => REMOTE.test(src) || ARCHIVE.test(src) || src.includes('$'))) continue;
      report(i.startLine);
    }
  },
};
