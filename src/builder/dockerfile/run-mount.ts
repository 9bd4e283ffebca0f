// `RUN --mount=type=cache|secret|bind|tmpfs|ssh,...` parsed into typed mounts with
// BuildKit's defaults and error messages.

import { withSuggestion } from './suggest.js';
import { parseRamInBytes } from './units.js';

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharing = 'shared' | 'private' | 'locked';

export interface RunMount {
  type: MountType;
  /** Stage name, stage index or image for bind/cache mounts. */
  from?: string;
  source?: string;
  target?: string;
  readOnly: boolean;
  /** tmpfs size in bytes (0 = unlimited). */
  sizeLimit: number;
  /** `id=`: cache id or secret/ssh id. */
  id?: string;
  sharing?: CacheSharing;
  required: boolean;
  /** Secret exposed as this environment variable. */
  env?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

export class MountParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MountParseError';
  }
}

const TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly CacheSharing[] = ['shared', 'private', 'locked'];
const ALL_KEYS = ['type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env'];

/** CSV fields as Go's encoding/csv reads one record: `"a,b",c` → [`a,b`, `c`]. */
export function splitCsvFields(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new MountParseError(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ',') throw new MountParseError(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
    } else {
      const j = s.indexOf(',', i);
      field = j < 0 ? s.slice(i) : s.slice(i, j);
      if (field.includes('"')) throw new MountParseError(`failed to parse csv mounts: bare " in non-quoted-field`);
      i = j < 0 ? s.length : j;
    }
    out.push(field);
    if (i >= s.length) return out;
    i++; // skip the comma
  }
}

function parseBool(key: string, v: string): boolean {
  switch (v) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
    default:
      throw new MountParseError(`invalid value for ${key}: ${v}`);
  }
}

function parseUint(v: string, radix: 8 | 10, what: string): number {
  const re = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  const n = re.test(v) ? Number.parseInt(v, radix) : Number.NaN;
  if (!Number.isFinite(n) || n > 0xffffffff) throw new MountParseError(`invalid value ${v} for ${what}`);
  return n;
}

/**
 * Parses one `--mount` value. `expand` expands variables in values (BuildKit expands all keys
 * but `from`); without it, values are taken as written.
 */
export function parseRunMount(val: string, expand?: (word: string) => string): RunMount {
  const fields = splitCsvFields(val);
  const m: RunMount = { type: 'bind', readOnly: true, sizeLimit: 0, required: false };
  let roAuto = true;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          m.readOnly = true;
          roAuto = false;
          continue;
        case 'readwrite':
        case 'rw':
          m.readOnly = false;
          roAuto = false;
          continue;
        case 'required':
          if (m.type === 'secret' || m.type === 'ssh') {
            m.required = true;
            continue;
          }
          throw new MountParseError(`unexpected key '${key}' for mount type '${m.type}'`);
        default:
          throw new MountParseError(`invalid field '${field}' must be a key=value pair`);
      }
    }
    let value = field.slice(eq + 1);
    if (key === 'from') {
      const i = value.indexOf('$');
      if (i !== -1 && i !== value.length - 1) {
        throw new MountParseError(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    } else if (expand) {
      value = expand(value);
    }
    switch (key) {
      case 'type': {
        const t = value.toLowerCase() as MountType;
        if (!TYPES.includes(t)) throw new MountParseError(withSuggestion(`unsupported mount type ${JSON.stringify(value)}`, value, TYPES, true));
        m.type = t;
        break;
      }
      case 'from':
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro':
        m.readOnly = parseBool(key, value);
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        m.readOnly = !parseBool(key, value);
        roAuto = false;
        break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') throw new MountParseError(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = parseBool(key, value);
        break;
      case 'size':
        if (m.type !== 'tmpfs') throw new MountParseError(`unexpected key '${key}' for mount type '${m.type}'`);
        try {
          m.sizeLimit = parseRamInBytes(value);
        } catch {
          throw new MountParseError(`invalid value for ${key}: ${value}`);
        }
        break;
      case 'id':
        m.id = value;
        break;
      case 'sharing': {
        const s = value.toLowerCase() as CacheSharing;
        if (!SHARING.includes(s)) throw new MountParseError(withSuggestion(`unsupported sharing value ${JSON.stringify(value)}`, value, SHARING, true));
        m.sharing = s;
        break;
      }
      case 'mode':
        m.mode = parseUint(value, 8, 'mode');
        break;
      case 'uid':
        m.uid = parseUint(value, 10, 'uid');
        break;
      case 'gid':
        m.gid = parseUint(value, 10, 'gid');
        break;
      case 'env':
        m.env = value;
        break;
      default:
        throw new MountParseError(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ALL_KEYS, true));
    }
  }
  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  if (!fileInfoAllowed) {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new MountParseError(`${k} not allowed for ${JSON.stringify(m.type)} type mounts`);
    }
  }
  if (roAuto) m.readOnly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.type === 'secret') {
    if (m.from !== undefined && m.from !== '') throw new MountParseError('secret mount should not have a from');
    if (m.sharing) throw new MountParseError('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id) throw new MountParseError('invalid secret mount. one of source, target required');
    if (m.source && m.id) throw new MountParseError("both source and id can't be set");
  }
  if (m.sharing && m.type !== 'cache') throw new MountParseError(`invalid cache sharing set for ${m.type} mount`);
  return m;
}
