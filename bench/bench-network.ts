// A NetworkService for network benchmarks: its own temp data-root, a random `bt…` name prefix
// and a pool in 10.211–249.x, so a bench never touches another daemon's bridges or chains.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkService } from '../src/network/index.js';
import { EventBus } from '../src/util/index.js';

export interface BenchNetwork {
  svc: NetworkService;
  prefix: string;
  /** Removes every bridge, rule and file the bench made. */
  dispose(): Promise<void>;
}

export async function benchNetworkService(name: string): Promise<BenchNetwork> {
  const prefix = `bt${randomBytes(2).toString('hex')}`;
  const root = await mkdtemp(join(tmpdir(), `berth-bench-${name}-`));
  const svc = new NetworkService({
    dataRoot: root,
    events: new EventBus(),
    namePrefix: prefix,
    addressPools: [{ base: `10.${211 + Math.floor(Math.random() * 39)}.0.0/16`, size: 24 }],
    dnsUpstreams: async () => [],
  });
  return {
    svc,
    prefix,
    dispose: async () => {
      await svc.cleanupAll();
      await rm(root, { recursive: true, force: true });
    },
  };
}
