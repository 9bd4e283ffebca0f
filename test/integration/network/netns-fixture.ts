// Test fixtures for network integration tests: a random prefix, a free test subnet, named
// network namespaces as stand-in containers, and the leak check (STYLE.md §10).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { run } from '../../../src/util/index.js';

export const isRoot = process.getuid?.() === 0;
export const skipReason = isRoot ? false : 'needs root (bridges, veths, iptables, netns)';

export function randomPrefix(): string {
  return `bt${randomBytes(2).toString('hex')}`;
}

/** A /16 test pool in 10.211–10.249 (berth's default is 10.210/16); IPAM skips what is in use. */
export function testPool(): { base: string; size: number } {
  return { base: `10.${211 + Math.floor(Math.random() * 39)}.0.0/16`, size: 24 };
}

export async function sh(cmd: string, args: string[], opts: { okCodes?: number[]; input?: string } = {}) {
  return run(cmd, args, { timeoutMs: 15_000, ...opts });
}

/** Runs a command inside the named namespace (`ip netns exec`). */
export async function inNetns(ns: string, args: string[], opts: { okCodes?: number[] } = {}) {
  return sh('ip', ['netns', 'exec', ns, ...args], opts);
}

export class NetnsPool {
  private readonly names: string[] = [];
  private n = 0;
  constructor(private readonly prefix: string) {}

  /** Creates `<prefix>n<k>` and returns its name and nsfs path. */
  async create(): Promise<{ name: string; path: string }> {
    const name = `${this.prefix}n${this.n++}`;
    await sh('ip', ['netns', 'add', name]);
    this.names.push(name);
    return { name, path: `/var/run/netns/${name}` };
  }

  /** `ip netns exec` bind-mounts /etc/netns/<name>/resolv.conf over /etc/resolv.conf. */
  async setResolver(name: string, nameserver: string): Promise<void> {
    await mkdir(`/etc/netns/${name}`, { recursive: true });
    await writeFile(`/etc/netns/${name}/resolv.conf`, `nameserver ${nameserver}\n`);
  }

  async remove(name: string): Promise<void> {
    await sh('ip', ['netns', 'del', name], { okCodes: [1] });
    await rm(`/etc/netns/${name}`, { recursive: true, force: true });
  }

  async disposeAll(): Promise<void> {
    for (const name of this.names.splice(0)) await this.remove(name);
  }
}

/** Asserts that nothing with the prefix is left: links, iptables rules or chains, namespaces. */
export async function assertNothingLeft(prefix: string): Promise<void> {
  const links = (await sh('ip', ['-o', 'link'])).stdout
    .split('\n')
    .filter((l) => new RegExp(`^\\d+: ${prefix}`).test(l));
  const rules = (await sh('iptables-save', [])).stdout.split('\n').filter((l) => l.includes(prefix));
  const netns = (await sh('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(prefix));
  assert.deepEqual({ links, rules, netns }, { links: [], rules: [], netns: [] }, `leftovers of ${prefix}`);
}
