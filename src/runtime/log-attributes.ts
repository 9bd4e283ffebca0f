// The attributes `docker logs --details` prints before each line: the container labels and
// environment variables its log options name (`--log-opt labels=a,b`, `env=X,Y`,
// `labels-regex=…`, `env-regex=…`), as dockerd's log drivers pick them (ExtraAttributes) and
// print them: `key=value` pairs, each side query-escaped, sorted, joined by commas.
import { BerthError, errorMessage } from '../util/index.js';
import type { Container } from './container-record.js';
import { mergeEnv } from './oci-spec.js';

/** Go's url.QueryEscape: everything but letters, digits and `-_.~` as %XX of its UTF-8 bytes, a space as `+`. */
function queryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function regexOf(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new BerthError('invalid-argument', `invalid log option regex "${pattern}": ${errorMessage(err)}`);
  }
}

/** `c`'s log attributes as `docker logs --details` prints them ('' when its log options name none). */
export function logAttributes(c: Container): string {
  const opts = c.config.spec.host.logConfig.config;
  const picked = new Map<string, string>();
  const labels = { ...(c.config.image.config.Labels ?? {}), ...c.config.spec.labels };
  const keys = (opt: string | undefined) => (opt ? opt.split(',') : []);
  const pick = (entries: Array<[string, string]>, names: string[], pattern: string | undefined) => {
    const re = pattern ? regexOf(pattern) : undefined;
    for (const [k, v] of entries) if (names.includes(k) || re?.test(k)) picked.set(k, v);
  };
  pick(Object.entries(labels), keys(opts['labels']), opts['labels-regex']);
  const env = mergeEnv(c.config.image.config.Env ?? [], c.config.spec.env).map((e): [string, string] => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]);
  pick(env, keys(opts['env']), opts['env-regex']);
  return [...picked].map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).sort().join(',');
}
