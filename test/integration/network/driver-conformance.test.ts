// Runs the NetworkDriver conformance suite on the bridge driver (root) and on the fake.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeDriver, FakeNetworkDriver } from '../../../src/network/index.js';
import { networkDriverSuite } from '../../suites/network-driver.js';
import { NetnsPool, assertNothingLeft, randomPrefix, skipReason } from './netns-fixture.js';

networkDriverSuite('fake driver', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-fake-ns-'));
  let n = 0;
  return {
    driver: new FakeNetworkDriver(),
    subnet: '10.99.0.0/24',
    makeNetns: async () => {
      const p = join(dir, `ns${n++}`);
      await writeFile(p, '');
      return p;
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

networkDriverSuite(
  'bridge driver',
  async () => {
    const prefix = randomPrefix();
    const pool = new NetnsPool(prefix);
    const octet = 211 + Math.floor(Math.random() * 39);
    return {
      driver: new BridgeDriver({ prefix }),
      subnet: `10.${octet}.${Math.floor(Math.random() * 250)}.0/24`,
      makeNetns: async () => (await pool.create()).path,
      dispose: async () => {
        await pool.disposeAll();
        await assertNothingLeft(prefix);
      },
    };
  },
  { skip: skipReason },
);
