import { processWord, ShellLexError } from '../../shell-lex.js';
import { buildkitUrl, type LintRule } from '../rule.js';

// distribution/reference grammar, enough to tell a usable image reference from an empty one
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`);

/** True when `ref` parses as an image reference (`alpine`, `ghcr.io/a/b:1@sha256:…`). */
export function isValidImageReference(ref: string): boolean {
  return ref.length > 0 && ref.length <= 255 + 128 && REFERENCE.test(ref);
}

export const invalidDefaultArgInFrom: LintRule = {
  id: 'InvalidDefaultArgInFrom',
  description: 'Default value for global ARG results in an empty or invalid base image name',
  url: buildkitUrl('invalid-default-arg-in-from'),
  severity: 'warning',
  message: (base) => `Default value for ARG ${base} results in empty or invalid base image name`,
  check({ df, globals }, report) {
    for (const s of df.stages) {
      if (!s.base.includes('$')) continue;
      let name: string;
      try {
        name = processWord(s.base, globals, { escapeToken: df.escapeToken }).result;
      } catch (e) {
        if (e instanceof ShellLexError) continue;
        throw e;
      }
      if (!isValidImageReference(name)) report(s.from.startLine, s.base);
    }
  },
};
