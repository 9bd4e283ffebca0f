// `-v`, `--mount` and `--tmpfs` as the docker CLI turns them into the create request:
// `-v /path` is an anonymous volume (Config.Volumes), `-v src:dst[:mode]` a bind or named
// volume (HostConfig.Binds), `--mount k=v,…` a structured mount (HostConfig.Mounts).
import { resolve } from 'node:path';
import type { WireMount } from '../../client/index.js';
import { flagError, parseSizeFlag } from './flag-values.js';

export interface MountSpecs {
  volumes: Record<string, object>;
  binds: string[];
  mounts: WireMount[];
  tmpfs: Record<string, string>;
}

/** A relative host path (`./data`, `../x`, `.`) becomes absolute, as docker ≥ 23 does. */
function absoluteIfRelative(src: string, cwd: string): string {
  return src === '.' || src === '..' || src.startsWith('./') || src.startsWith('../') ? resolve(cwd, src) : src;
}

export function addVolumeFlag(specs: MountSpecs, raw: string, cwd = process.cwd()): void {
  const parts = raw.split(':');
  if (parts.length === 1) {
    if (raw === '') throw flagError('-v, --volume', raw, 'invalid empty volume spec');
    specs.volumes[raw] = {};
    return;
  }
  if (parts.length > 3 || parts.some((p, i) => p === '' && i < 2)) throw flagError('-v, --volume', raw, `invalid spec: ${raw}`);
  parts[0] = absoluteIfRelative(parts[0]!, cwd);
  specs.binds.push(parts.join(':'));
}

function parseBool(flag: string, raw: string, key: string, v: string | undefined): boolean {
  if (v === undefined) return true;
  const s = v.toLowerCase();
  if (['1', 't', 'true'].includes(s)) return true;
  if (['0', 'f', 'false'].includes(s)) return false;
  throw flagError(flag, raw, `invalid value for ${key}: ${v}`);
}

/** Splits a CSV field list, honouring double quotes as Go's encoding/csv does. */
function splitCsv(raw: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '"') {
      if (quoted && raw[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseMountFlag(raw: string, cwd = process.cwd()): WireMount {
  const flag = '--mount';
  const m: WireMount = { Type: 'volume' };
  const volumeLabels: Record<string, string> = {};
  const volumeOpts: Record<string, string> = {};
  let volumeDriver: string | undefined;
  let noCopy: boolean | undefined;
  let subpath: string | undefined;
  let propagation: string | undefined;
  let nonRecursive: boolean | undefined;
  let tmpfsSize: number | undefined;
  let tmpfsMode: number | undefined;
  for (const field of splitCsv(raw)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (value === undefined && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive'].includes(key)) {
      throw flagError(flag, raw, `invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'type':
        if (!['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image'].includes(value!)) throw flagError(flag, raw, `invalid mount type: ${value}`);
        m.Type = value as WireMount['Type'];
        break;
      case 'source':
      case 'src':
        m.Source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = value;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = parseBool(flag, raw, key, value);
        break;
      case 'consistency':
        m.Consistency = value;
        break;
      case 'bind-propagation':
        propagation = value;
        break;
      case 'bind-nonrecursive':
        nonRecursive = parseBool(flag, raw, key, value);
        break;
      case 'volume-nocopy':
        noCopy = parseBool(flag, raw, key, value);
        break;
      case 'volume-label': {
        const [k, ...rest] = value!.split('=');
        volumeLabels[k!] = rest.join('=');
        break;
      }
      case 'volume-driver':
        volumeDriver = value;
        break;
      case 'volume-opt': {
        const [k, ...rest] = value!.split('=');
        volumeOpts[k!] = rest.join('=');
        break;
      }
      case 'volume-subpath':
        subpath = value;
        break;
      case 'tmpfs-size':
        tmpfsSize = parseSizeFlag(flag, value!);
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(value!)) throw flagError(flag, raw, `invalid value for ${key}: ${value}`);
        tmpfsMode = parseInt(value!, 8);
        break;
      default:
        throw flagError(flag, raw, `unexpected key '${key}' in '${field}'`);
    }
  }
  if (m.Type === 'bind' && m.Source) m.Source = absoluteIfRelative(m.Source, cwd);
  if (propagation !== undefined || nonRecursive !== undefined) {
    if (m.Type !== 'bind') throw flagError(flag, raw, `cannot mix 'bind-*' options with mount type '${m.Type}'`);
    m.BindOptions = { ...(propagation ? { Propagation: propagation } : {}), ...(nonRecursive ? { NonRecursive: true } : {}) };
  }
  const hasVolumeOpts = noCopy !== undefined || Object.keys(volumeLabels).length || Object.keys(volumeOpts).length || volumeDriver || subpath;
  if (hasVolumeOpts) {
    if (m.Type !== 'volume') throw flagError(flag, raw, `cannot mix 'volume-*' options with mount type '${m.Type}'`);
    m.VolumeOptions = {
      ...(noCopy !== undefined ? { NoCopy: noCopy } : {}),
      ...(Object.keys(volumeLabels).length ? { Labels: volumeLabels } : {}),
      ...(volumeDriver || Object.keys(volumeOpts).length ? { DriverConfig: { Name: volumeDriver, Options: volumeOpts } } : {}),
      ...(subpath ? { Subpath: subpath } : {}),
    };
  }
  if (tmpfsSize !== undefined || tmpfsMode !== undefined) {
    if (m.Type !== 'tmpfs') throw flagError(flag, raw, `cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
    m.TmpfsOptions = { ...(tmpfsSize !== undefined ? { SizeBytes: tmpfsSize } : {}), ...(tmpfsMode !== undefined ? { Mode: tmpfsMode } : {}) };
  }
  if (!m.Target) throw flagError(flag, raw, 'target is required');
  return m;
}

/** `--tmpfs /run[:opts]`. */
export function addTmpfsFlag(specs: MountSpecs, raw: string): void {
  const colon = raw.indexOf(':');
  const path = colon < 0 ? raw : raw.slice(0, colon);
  if (!path.startsWith('/')) throw flagError('--tmpfs', raw, `invalid mount path: '${path}' mount path must be absolute`);
  specs.tmpfs[path] = colon < 0 ? '' : raw.slice(colon + 1);
}

export function parseMountFlags(volumes: string[], mounts: string[], tmpfs: string[], cwd = process.cwd()): MountSpecs {
  const specs: MountSpecs = { volumes: {}, binds: [], mounts: [], tmpfs: {} };
  for (const v of volumes) addVolumeFlag(specs, v, cwd);
  for (const m of mounts) specs.mounts.push(parseMountFlag(m, cwd));
  for (const t of tmpfs) addTmpfsFlag(specs, t);
  return specs;
}
