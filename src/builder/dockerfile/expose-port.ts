// EXPOSE words after expansion: `80`, `8000-8010/udp`, `[ip:]host:container/proto`, parsed
// and validated like BuildKit's dispatcher (convert_expose.go).

export interface ExposedPort {
  start: number;
  end: number;
  proto: 'tcp' | 'udp' | 'sctp';
  /** Given with an IP or host port (allowed but deprecated). */
  hasHostPart: boolean;
}

function portNumber(raw: string, what: string): number {
  if (!/^[+-]?\d+$/.test(raw)) throw new Error(`invalid ${what} '${raw}'`);
  const n = Number.parseInt(raw, 10);
  if (n < 0 || n > 65535) throw new Error(`invalid ${what} '${raw}': value out of range (0–65535)`);
  return n;
}

function portRange(s: string): [number, number] {
  if (s === '') throw new Error('empty string specified for ports');
  const dash = s.indexOf('-');
  const start = dash < 0 ? s : s.slice(0, dash);
  const end = dash < 0 ? s : s.slice(dash + 1);
  const a = portNumber(start, 'start port');
  if (dash < 0 || start === end) return [a, a];
  const b = portNumber(end, 'end port');
  if (b < a) throw new Error(`invalid port range: ${s}`);
  return [a, b];
}

/** One expanded EXPOSE word: `80`, `8000-8010/udp`, `[ip:]host:container/proto`. */
export function parseExposePort(raw: string): ExposedPort {
  const parts = raw.split(':');
  const container = parts[parts.length - 1]!;
  const hostPort = parts.length >= 2 ? parts[parts.length - 2]! : '';
  const ip = parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
  const slash = container.indexOf('/');
  const port = slash < 0 ? container : container.slice(0, slash);
  let proto = slash < 0 ? '' : container.slice(slash + 1);
  if (port === '') throw new Error(`invalid port: ${JSON.stringify(raw)}: no port specified`);
  proto = proto.toLowerCase() || 'tcp';
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new Error(`invalid port: ${JSON.stringify(raw)}: invalid proto: ${proto}`);
  let start: number;
  let end: number;
  try {
    [start, end] = portRange(port);
  } catch {
    throw new Error(`invalid containerPort: ${port}`);
  }
  return { start, end, proto, hasHostPart: ip !== '' || hostPort !== '' };
}

/** The image-config keys (`80/tcp`, one per port of a range) for one expanded EXPOSE word. */
export function exposedPortKeys(raw: string): string[] {
  const p = parseExposePort(raw);
  const out: string[] = [];
  for (let n = p.start; n <= p.end; n++) out.push(`${n}/${p.proto}`);
  return out;
}
