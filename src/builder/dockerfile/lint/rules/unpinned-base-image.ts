import { processWord, ShellLexError } from '../../shell-lex.js';
import { berthUrl, isStageRef, type LintRule } from '../rule.js';

/** Splits `repo[:tag][@digest]`; the tag is what follows the last ':' after the last '/'. */
function tagAndDigest(ref: string): { tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  const digest = at < 0 ? undefined : ref.slice(at + 1);
  const name = at < 0 ? ref : ref.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const tag = colon > slash ? name.slice(colon + 1) : undefined;
  return { ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

export const unpinnedBaseImage: LintRule = {
  id: 'UnpinnedBaseImage',
  description: 'Base images should be pinned to a version tag or digest, not latest or no tag',
  url: berthUrl('UnpinnedBaseImage'),
  severity: 'warning',
  message: (image) => `base image ${JSON.stringify(image)} is not pinned: "latest" (or no tag) can change under you; use a version tag or a digest`,
  check({ df, globals }, report) {
    for (const s of df.stages) {
      let image: string;
      try {
        image = processWord(s.base, globals, { escapeToken: df.escapeToken }).result;
      } catch (e) {
        if (e instanceof ShellLexError) continue;
        throw e;
      }
      if (image === '' || image.toLowerCase() === 'scratch' || isStageRef(df, s, image)) continue;
      const { tag, digest } = tagAndDigest(image);
      if (digest !== undefined) continue;
      if (tag === undefined || tag === 'latest') report(s.from.startLine, image);
    }
  },
};
