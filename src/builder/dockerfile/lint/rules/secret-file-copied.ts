import { berthUrl, type LintRule } from '../rule.js';

const SECRET_FILE = /(?:^|\/)(?:\.env(?:\.[\w-]+)?|id_(?:rsa|dsa|ecdsa|ed25519)(?:\.pub)?|[^/]*\.pem|[^/]*\.key|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.aws(?:\/credentials)?|\.ssh|credentials\.json|\.docker\/config\.json)$/;
const NOT_SECRET = /(?:^|\/)\.env\.(?:example|sample|template|dist)$|\.pub$/;

export const secretFileCopied: LintRule = {
  id: 'SecretFileCopied',
  description: 'Files holding secrets (.env, private keys, credentials) should not be copied into the image',
  url: berthUrl('SecretFileCopied'),
  severity: 'warning',
  message: (file) => `${JSON.stringify(file)} looks like a secret and stays readable in the image layers; pass it at run time or use RUN --mount=type=secret`,
  check({ df }, report) {
    for (const s of df.stages) {
      for (const i of s.instructions) {
        if ((i.kind !== 'copy' && i.kind !== 'add') || (i.kind === 'copy' && i.from)) continue;
        for (const src of i.sources) {
          const p = src.replace(/\/+$/, '');
          if (SECRET_FILE.test(p) && !NOT_SECRET.test(p)) report(i.startLine, src);
        }
      }
    }
  },
};
