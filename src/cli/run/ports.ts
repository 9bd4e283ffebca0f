// `-p/--publish` and `--expose` as docker's nat.ParsePortSpec reads them:
//   [ip:][hostPort[-hostEnd]:]containerPort[-containerEnd][/proto]
// into ExposedPorts + PortBindings, with docker's error texts.
import { isIP } from 'node:net';
import type { WirePortBinding } from '../../client/index.js';
import { UsageError } from '../exit-codes.js';

export interface PortSpecs {
  exposed: Record<string, object>;
  bindings: Record<string, WirePortBinding[]>;
}

const PROTOS = ['tcp', 'udp', 'sctp'];

/** `80`, `8000-8010` → [start, end]; undefined when not a valid port range. */
function parsePortRange(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) return undefined;
  return [start, end];
}

function splitProto(raw: string): [string, string] {
  const slash = raw.lastIndexOf('/');
  if (slash < 0) return [raw, 'tcp'];
  const proto = raw.slice(slash + 1).toLowerCase();
  return [raw.slice(0, slash), proto === '' ? 'tcp' : proto];
}

/** Splits `ip:host:container`; the IP may be a bracketed IPv6 address. */
function splitParts(raw: string): [string, string, string] {
  let ip = '';
  let rest = raw;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close > 0 && rest[close + 1] === ':') {
      ip = rest.slice(1, close);
      rest = rest.slice(close + 2);
      const colon = rest.lastIndexOf(':');
      return colon < 0 ? [ip, '', rest] : [ip, rest.slice(0, colon), rest.slice(colon + 1)];
    }
  }
  const parts = rest.split(':');
  switch (parts.length) {
    case 1: return ['', '', parts[0]!];
    case 2: return ['', parts[0]!, parts[1]!];
    case 3: return [parts[0]!, parts[1]!, parts[2]!];
    default: {
      // An unbracketed IPv6 address: the last two parts are the ports.
      const container = parts.pop()!;
      const host = parts.pop()!;
      return [parts.join(':'), host, container];
    }
  }
}

export function addPublish(specs: PortSpecs, raw: string): void {
  const [body, proto] = splitProto(raw);
  const [ip, hostPort, containerPort] = splitParts(body);
  if (ip !== '' && !isIP(ip)) throw new UsageError(`invalid IP address: ${ip}`);
  if (containerPort === '') throw new UsageError(`no port specified: ${raw}<empty>`);
  const cRange = parsePortRange(containerPort);
  if (!cRange) throw new UsageError(`invalid containerPort: ${containerPort}`);
  let hRange: [number, number] | undefined;
  if (hostPort !== '') {
    hRange = parsePortRange(hostPort);
    if (!hRange) throw new UsageError(`invalid hostPort: ${hostPort}`);
  }
  if (!PROTOS.includes(proto)) throw new UsageError(`invalid proto: ${proto}`);
  const cCount = cRange[1] - cRange[0];
  if (hRange && hRange[1] - hRange[0] !== cCount && cCount !== 0) {
    throw new UsageError(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  for (let i = 0; i <= cCount; i++) {
    const key = `${cRange[0] + i}/${proto}`;
    let host = '';
    if (hRange) host = cCount === 0 && hRange[0] !== hRange[1] ? `${hRange[0]}-${hRange[1]}` : String(hRange[0] + i);
    specs.exposed[key] = {};
    (specs.bindings[key] ??= []).push({ HostIp: ip, HostPort: host });
  }
}

export function addExpose(specs: PortSpecs, raw: string): void {
  const [port, proto] = splitProto(raw);
  if (port.includes(':')) throw new UsageError(`invalid port format for --expose: ${raw}`);
  const range = parsePortRange(port);
  if (!range) throw new UsageError(`invalid range format for --expose: ${raw}, error: invalid port: ${port}`);
  if (!PROTOS.includes(proto)) throw new UsageError(`invalid proto: ${proto}`);
  for (let p = range[0]; p <= range[1]; p++) specs.exposed[`${p}/${proto}`] = {};
}

export function parsePorts(publish: string[], expose: string[]): PortSpecs {
  const specs: PortSpecs = { exposed: {}, bindings: {} };
  for (const e of expose) addExpose(specs, e);
  for (const p of publish) addPublish(specs, p);
  return specs;
}
