// Renders berth's firewall as `iptables-restore --noflush` input. All of berth's rules live in
// chains named `<prefix>-…`; declaring a chain in restore input flushes it, so each sync
// replaces the whole rule set atomically and removal is exact (no `-D` that may miss).
import type { FirewallState } from './network-driver.js';

export interface ChainNames {
  dnat: string;
  postrouting: string;
  forward: string;
  isolation1: string;
  isolation2: string;
  input: string;
}

export function chainNames(prefix: string): ChainNames {
  return {
    dnat: `${prefix}-DNAT`,
    postrouting: `${prefix}-POSTROUTING`,
    forward: `${prefix}-FORWARD`,
    isolation1: `${prefix}-ISOLATION-1`,
    isolation2: `${prefix}-ISOLATION-2`,
    input: `${prefix}-INPUT`,
  };
}

export interface JumpRule {
  table: 'nat' | 'filter';
  /** Rule spec without the `-A`/`-I`/`-D` and chain, e.g. `-m addrtype --dst-type LOCAL -j x-DNAT`. */
  chain: string;
  spec: string;
}

/** Jumps from the built-in chains into berth's chains. */
export function jumpRules(prefix: string): JumpRule[] {
  const c = chainNames(prefix);
  return [
    { table: 'nat', chain: 'PREROUTING', spec: `-m addrtype --dst-type LOCAL -j ${c.dnat}` },
    // Locally generated traffic to a published port (curl 127.0.0.1:8080) takes OUTPUT, not PREROUTING.
    { table: 'nat', chain: 'OUTPUT', spec: `-m addrtype --dst-type LOCAL -j ${c.dnat}` },
    { table: 'nat', chain: 'POSTROUTING', spec: `-j ${c.postrouting}` },
    { table: 'filter', chain: 'FORWARD', spec: `-j ${c.forward}` },
    { table: 'filter', chain: 'INPUT', spec: `-j ${c.input}` },
  ];
}

/**
 * The restore input for `state`. `missingJumps` are inserted (at the top of their built-in
 * chain) so berth's rules see packets before anything that drops them.
 */
export function renderFirewall(prefix: string, state: FirewallState, missingJumps: readonly JumpRule[]): string {
  const c = chainNames(prefix);
  const nat: string[] = ['*nat', `:${c.dnat} - [0:0]`, `:${c.postrouting} - [0:0]`];
  const filter: string[] = [
    '*filter',
    `:${c.forward} - [0:0]`,
    `:${c.isolation1} - [0:0]`,
    `:${c.isolation2} - [0:0]`,
    `:${c.input} - [0:0]`,
  ];
  for (const j of missingJumps) (j.table === 'nat' ? nat : filter).push(insertJump(j));

  // Published ports may be reached from other networks through the host address: a DNAT'ed
  // connection is exempt from isolation (it was explicitly published).
  filter.push(`-A ${c.forward} -j ${c.isolation1}`);
  filter.push(`-A ${c.isolation1} -m conntrack --ctstate DNAT -j RETURN`);
  const networks = [...state.networks].sort((a, b) => a.bridgeName.localeCompare(b.bridgeName));
  for (const n of networks) {
    const br = n.bridgeName;
    filter.push(`-A ${c.isolation1} -i ${br} ! -o ${br} -j ${c.isolation2}`);
    filter.push(`-A ${c.isolation2} -o ${br} -j DROP`);
    if (n.internal) {
      filter.push(`-A ${c.forward} -i ${br} ! -o ${br} -j DROP`);
      filter.push(`-A ${c.forward} -o ${br} ! -i ${br} -j DROP`);
    }
    filter.push(`-A ${c.forward} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    filter.push(`-A ${c.forward} -o ${br} -d ${n.subnet} -m conntrack --ctstate DNAT -j ACCEPT`);
    filter.push(`-A ${c.forward} -i ${br} -o ${br} -j ${n.icc === false ? 'DROP' : 'ACCEPT'}`);
    if (!n.internal) filter.push(`-A ${c.forward} -i ${br} ! -o ${br} -j ACCEPT`);
    // route_localnet is on for the bridge (for 127.0.0.1 → container DNAT): refuse packets that
    // arrive on it addressed to loopback, which route_localnet alone would accept.
    filter.push(`-A ${c.input} -i ${br} -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP`);

    if (!n.internal && n.masquerade !== false) nat.push(`-A ${c.postrouting} -s ${n.subnet} ! -o ${br} -j MASQUERADE`);
    // Host-originated connections to published ports (source 127.0.0.1 or a host address) and
    // hairpin connections from the same bridge must come back through the host to be un-DNAT'ed.
    nat.push(`-A ${c.postrouting} -o ${br} -m addrtype --src-type LOCAL -j MASQUERADE`);
    nat.push(`-A ${c.postrouting} -s ${n.subnet} -o ${br} -m conntrack --ctstate DNAT -j MASQUERADE`);
  }
  const pubs = [...state.publications].sort((a, b) => a.endpointId.localeCompare(b.endpointId));
  for (const p of pubs) {
    for (const b of p.bindings) {
      const dst = b.hostIp === '0.0.0.0' || b.hostIp === '' ? '' : `-d ${b.hostIp}/32 `;
      nat.push(
        `-A ${c.dnat} ${dst}-p ${b.protocol} -m ${b.protocol} --dport ${b.hostPort} -j DNAT --to-destination ${p.ipv4}:${b.containerPort}`,
      );
    }
  }
  nat.push('COMMIT');
  filter.push('COMMIT');
  return [...nat, ...filter].join('\n') + '\n';
}

export interface SavedRules {
  /** Chains with the prefix, per table. */
  chains: Array<{ table: string; chain: string }>;
  /** `-A` lines in built-in chains that jump into a prefixed chain. */
  jumps: Array<{ table: string; line: string }>;
}

/** Finds the prefix's chains and the jumps into them in `iptables-save` output. */
export function parseSaved(prefix: string, saved: string): SavedRules {
  const out: SavedRules = { chains: [], jumps: [] };
  const own = `${prefix}-`;
  let table = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      if (name.startsWith(own)) out.chains.push({ table, chain: name });
    } else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1] ?? '';
      if (!chain.startsWith(own) && line.includes(` -j ${own}`)) out.jumps.push({ table, line });
    }
  }
  return out;
}

/** Jumps of `wanted` that `saved` does not hold yet. */
export function missingJumps(wanted: readonly JumpRule[], saved: SavedRules): JumpRule[] {
  return wanted.filter((j) => !saved.jumps.some((s) => s.table === j.table && s.line === `-A ${j.chain} ${j.spec}`));
}

/** A jump into berth's chains goes first in its built-in chain. */
function insertJump(j: JumpRule): string {
  return `-I ${j.chain} 1 ${j.spec}`;
}

/** Restore input (`--noflush`) that puts `jumps` back at the head of their built-in chains. */
export function renderJumps(jumps: readonly JumpRule[]): string {
  const parts: string[] = [];
  for (const t of ['filter', 'nat']) {
    const mine = jumps.filter((j) => j.table === t);
    if (mine.length) parts.push(`*${t}`, ...mine.map(insertJump), 'COMMIT');
  }
  return parts.join('\n') + '\n';
}

/** Restore input that deletes every jump and chain of the prefix. Empty when nothing is there. */
export function renderSweep(saved: SavedRules): string {
  const tables = new Set([...saved.chains.map((c) => c.table), ...saved.jumps.map((j) => j.table)]);
  const parts: string[] = [];
  for (const t of [...tables].sort()) {
    parts.push(`*${t}`);
    for (const j of saved.jumps) if (j.table === t) parts.push(`-D${j.line.slice(2)}`);
    const chains = saved.chains.filter((c) => c.table === t);
    for (const c of chains) parts.push(`-F ${c.chain}`);
    for (const c of chains) parts.push(`-X ${c.chain}`);
    parts.push('COMMIT');
  }
  return parts.length ? parts.join('\n') + '\n' : '';
}
