// dockerd's `publish` and `expose` filters of the container list. A value is `<port>[/<proto>]`
// or `<start>-<end>[/<proto>]` (tcp without one). `publish` matches the host ports a running
// container's ports are bound to, `expose` the ports it exposes (the image's, --expose, -p's),
// as dockerd's list does.
import { BerthError } from '../../util/index.js';
import type { Container } from '../../runtime/index.js';
import { boundPorts, exposedPorts } from './containers-wire.js';

/** The `<port>/<proto>` keys one filter value stands for. */
export function portFilterKeys(key: 'publish' | 'expose', value: string): string[] {
  if (value.includes(':')) throw new BerthError('invalid-argument', `filter for '${key}' should not contain ':': ${value}`);
  const [range = '', proto = 'tcp'] = value.split('/');
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  const start = Number(m?.[1]);
  const end = m?.[2] !== undefined ? Number(m[2]) : start;
  if (!m || start > 65535 || end > 65535 || end < start) throw new BerthError('invalid-argument', `error while looking up for ${key} ${value}: invalid port range`);
  const keys: string[] = [];
  for (let p = start; p <= end; p++) keys.push(`${p}/${proto.toLowerCase()}`);
  return keys;
}

/** The `<hostPort>/<proto>` keys `publish` matches. */
export function publishedKeys(c: Container): Set<string> {
  const keys = new Set<string>();
  for (const [port, bindings] of Object.entries(boundPorts(c))) {
    const proto = port.split('/')[1] ?? 'tcp';
    for (const b of bindings) keys.add(`${Number(b.hostPort)}/${proto}`);
  }
  return keys;
}

/** The `<port>/<proto>` keys `expose` matches. */
export function exposedKeys(c: Container): Set<string> {
  return new Set(exposedPorts(c).map((p) => (p.includes('/') ? p : `${p}/tcp`)));
}
