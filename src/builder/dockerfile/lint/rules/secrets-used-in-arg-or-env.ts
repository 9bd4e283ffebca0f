import { buildkitUrl, type LintRule } from '../rule.js';

const DENY = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const ALLOW = /(?:_|^)(?:public|file|version)(?:_|$)/i;

/** BuildKit's test for a variable name that looks like it holds a secret. */
export function isSecretName(key: string): boolean {
  return DENY.test(key) && !ALLOW.test(key);
}

export const secretsUsedInArgOrEnv: LintRule = {
  id: 'SecretsUsedInArgOrEnv',
  description: 'Sensitive data should not be used in the ARG or ENV commands',
  url: buildkitUrl('secrets-used-in-arg-or-env'),
  severity: 'warning',
  message: (ins, key) => `Do not use ARG or ENV instructions for sensitive data (${ins} ${JSON.stringify(key)})`,
  check({ df }, report) {
    for (const a of df.metaArgs) for (const kv of a.args) if (isSecretName(kv.key)) report(a.startLine, 'ARG', kv.key);
    for (const s of df.stages) {
      for (const i of s.instructions) {
        if (i.kind === 'arg') for (const kv of i.args) if (isSecretName(kv.key)) report(i.startLine, 'ARG', kv.key);
        if (i.kind === 'env') for (const kv of i.env) if (isSecretName(kv.key)) report(i.startLine, 'ENV', kv.key);
      }
    }
  },
};
