// The embedded DNS server of a user-defined network, listening on the network's gateway
// (UDP and TCP). It answers container names, aliases and service names from a live lookup
// (so connect/disconnect take effect at once) and forwards other names to the host's
// resolvers. It runs in berthd, on the host, so loopback upstreams (127.0.0.53) work too.
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import dnsPacket from 'dns-packet';
import { Semaphore, logger } from '../util/index.js';
import { isIpv4 } from './ipv4.js';

const log = logger('network');

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_REFUSED = 5;
const FLAG_AA = 1 << 10;
const FLAG_RD = 1 << 8;
const FLAG_RA = 1 << 7;
/** Docker's embedded DNS answers with this TTL. */
const ANSWER_TTL = 600;
const FORWARD_TIMEOUT_MS = 2_000;
const MAX_INFLIGHT_FORWARDS = 128;
const MAX_TCP_MESSAGE = 65_535;
const TCP_IDLE_MS = 10_000;

export interface Upstream {
  host: string;
  port: number;
}

/** What the server asks its network about; called on every query. */
export interface DnsNameSource {
  /** IPv4 addresses for a name (lowercase, no trailing dot) as `clientIp` sees them; empty when unknown. */
  lookup(name: string, clientIp: string | undefined): string[];
  /** The name of the endpoint holding `ip`, for PTR queries. */
  reverse(ip: string): string | undefined;
  /** Internal networks do not forward to the outside. */
  readonly forward: boolean;
  /** Whether to serve `clientIp` at all (a network's server answers only its own members). */
  serves?(clientIp: string | undefined): boolean;
}

export interface DnsServerOptions {
  address: string;
  port?: number;
  source: DnsNameSource;
  /** Where to forward a query from `clientIp` (a container may have its own `--dns`). */
  upstreams: (clientIp: string | undefined) => Promise<Upstream[]>;
}

/** Nameservers of a resolv.conf (e.g. the host's /etc/resolv.conf). */
export async function readResolvConfUpstreams(path = '/etc/resolv.conf'): Promise<Upstream[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIpv4(m[1]!)) out.push({ host: m[1]!, port: 53 });
  }
  return out;
}

export class DnsServer {
  private udp: Socket | undefined;
  private tcp: Server | undefined;
  private readonly tcpConns = new Set<TcpSocket>();
  private readonly forwards = new Semaphore(MAX_INFLIGHT_FORWARDS);
  private inflight = 0;
  private rotation = 0;
  private closed = false;

  constructor(private readonly opts: DnsServerOptions) {}

  get address(): string {
    return this.opts.address;
  }

  async listen(): Promise<void> {
    const port = this.opts.port ?? 53;
    const udp = createSocket({ type: 'udp4' });
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, rinfo.address).then((reply) => {
        if (reply && !this.closed) udp.send(reply, rinfo.port, rinfo.address);
      });
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address: this.opts.address, port, exclusive: true }, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (e) => log.warn('dns udp socket error', { address: this.opts.address, error: String(e) }));
    this.udp = udp;
    const tcp = createServer((conn) => this.serveTcp(conn));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: this.opts.address, port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      this.udp = undefined;
      throw e;
    }
    tcp.on('error', (e) => log.warn('dns tcp socket error', { address: this.opts.address, error: String(e) }));
    this.tcp = tcp;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.tcpConns) c.destroy();
    await Promise.all([
      this.udp ? new Promise<void>((r) => this.udp!.close(() => r())) : undefined,
      this.tcp ? new Promise<void>((r) => this.tcp!.close(() => r())) : undefined,
    ]);
    this.udp = undefined;
    this.tcp = undefined;
  }

  private serveTcp(conn: TcpSocket): void {
    this.tcpConns.add(conn);
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    conn.on('close', () => this.tcpConns.delete(conn));
    // A client that resets mid-query gets nothing more; the server goes on.
    conn.on('error', () => conn.destroy());
    let buf = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.answer(msg, conn.remoteAddress?.replace(/^::ffff:/, '')).then((reply) => {
          if (!reply || conn.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(reply.length);
          conn.write(Buffer.concat([head, reply]));
        });
      }
      if (buf.length > MAX_TCP_MESSAGE + 2) conn.destroy();
    });
  }

  /** The reply to one query, or undefined to stay silent (garbage, or no capacity left). */
  async answer(msg: Buffer, clientIp?: string): Promise<Buffer | undefined> {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      // Not DNS: a resolver stays silent rather than answer garbage.
      return undefined;
    }
    if (query.type !== 'query') return undefined;
    const q = query.questions?.[0];
    if (!q) return undefined;
    const name = q.name.toLowerCase().replace(/\.$/, '');
    const base = { type: 'response' as const, id: query.id, questions: query.questions };
    const rd = (query.flags ?? 0) & FLAG_RD;
    if (this.opts.source.serves && !this.opts.source.serves(clientIp)) {
      return dnsPacket.encode({ ...base, flags: rd | RCODE_REFUSED, answers: [] });
    }

    if (q.type === 'PTR') {
      const ip = ipOfReverseName(name);
      const target = ip ? this.opts.source.reverse(ip) : undefined;
      if (target) {
        return dnsPacket.encode({
          ...base,
          flags: FLAG_AA | rd | FLAG_RA,
          answers: [{ type: 'PTR', class: 'IN', name: q.name, ttl: ANSWER_TTL, data: target }],
        });
      }
    } else {
      const ips = this.opts.source.lookup(name, clientIp);
      if (ips.length) {
        // Round-robin: each answer starts one further along the list.
        const start = this.rotation++ % ips.length;
        const ordered = [...ips.slice(start), ...ips.slice(0, start)];
        const answers =
          q.type === 'A' || (q.type as string) === 'ANY'
            ? ordered.map((ip) => ({ type: 'A' as const, class: 'IN' as const, name: q.name, ttl: ANSWER_TTL, data: ip }))
            : [];
        return dnsPacket.encode({ ...base, flags: FLAG_AA | rd | FLAG_RA, answers });
      }
    }
    if (!this.opts.source.forward) return dnsPacket.encode({ ...base, flags: rd | FLAG_RA | RCODE_NXDOMAIN, answers: [] });
    if (this.inflight >= MAX_INFLIGHT_FORWARDS) return undefined;
    this.inflight++;
    try {
      const reply = await this.forwards.run(() => this.forward(msg, clientIp));
      return reply ?? dnsPacket.encode({ ...base, flags: rd | FLAG_RA | RCODE_SERVFAIL, answers: [] });
    } finally {
      this.inflight--;
    }
  }

  private async forward(msg: Buffer, clientIp: string | undefined): Promise<Buffer | undefined> {
    for (const up of await this.opts.upstreams(clientIp)) {
      // Never forward to ourselves (a resolv.conf naming the gateway would loop).
      if (up.host === this.opts.address && up.port === (this.opts.port ?? 53)) continue;
      const reply = await udpExchange(msg, up, FORWARD_TIMEOUT_MS);
      if (reply) return reply;
    }
    return undefined;
  }
}

function udpExchange(msg: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (v: Buffer | undefined) => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    // An unreachable upstream (ICMP refused, no route) means: try the next one.
    s.on('error', () => done(undefined));
    s.on('message', (reply) => {
      // Only a reply to this query's id counts.
      if (reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0)) done(reply);
    });
    s.send(msg, up.port, up.host);
  });
}

function ipOfReverseName(name: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : undefined;
}
