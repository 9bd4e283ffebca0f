// `--security-opt` as the docker CLI handles it before sending: `seccomp=<file>` becomes
// `seccomp=<the file's compacted JSON>` (dockerd never reads client paths), and
// `systempaths=unconfined` is not sent but turned into empty MaskedPaths/ReadonlyPaths.
import { readFileSync } from 'node:fs';
import { errorMessage } from '../../util/index.js';
import { UsageError } from '../exit-codes.js';

export interface SecurityOptFlags {
  securityOpt: string[];
  /** Set (to `[]`) by `systempaths=unconfined`. */
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

/** JSON without the whitespace between tokens (Go's json.Compact); numbers are kept verbatim. */
export function compactJson(text: string): string {
  JSON.parse(text); // validates; the compacted text keeps big integers exactly as written
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') {
      out += c;
    }
  }
  return out;
}

function readProfile(path: string, read: (p: string) => string): string {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`opening seccomp profile (${path}) failed: open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : errorMessage(err)}`);
  }
  try {
    return compactJson(text);
  } catch (err) {
    throw new UsageError(`compacting json for seccomp profile (${path}) failed: ${errorMessage(err)}`);
  }
}

export function parseSecurityOptFlags(values: string[], read: (p: string) => string = (p) => readFileSync(p, 'utf8')): SecurityOptFlags {
  const out: SecurityOptFlags = { securityOpt: [] };
  for (const v of values) {
    if (v === 'no-new-privileges') {
      out.securityOpt.push('no-new-privileges=true');
      continue;
    }
    const sep = v.includes('=') ? '=' : ':';
    const i = v.indexOf(sep);
    const key = i < 0 ? v : v.slice(0, i);
    const value = i < 0 ? '' : v.slice(i + 1);
    if (value === '') throw new UsageError(`Invalid --security-opt: "${v}"`);
    if (key === 'systempaths' && value === 'unconfined') {
      out.maskedPaths = [];
      out.readonlyPaths = [];
      continue;
    }
    if (key === 'seccomp' && value !== 'unconfined' && value !== 'builtin') {
      out.securityOpt.push(`seccomp=${readProfile(value, read)}`);
      continue;
    }
    out.securityOpt.push(v);
  }
  return out;
}
