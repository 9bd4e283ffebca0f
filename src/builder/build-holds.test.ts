import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChainId, Lease, Leases } from '../storage/index.js';
import type { Digest } from '../util/index.js';
import { BuildHolds } from './build-holds.js';

function fakeLeases() {
  const held = new Map<string, Array<{ chain?: ChainId }>>();
  const leases: Leases = {
    acquire(id = 'x'): Lease {
      held.set(id, []);
      return { id, add: (r) => held.get(id)?.push(r), release: () => void held.delete(id) };
    },
    list: () => [...held.keys()],
  };
  return { leases, held };
}

test('an image a running build keeps is reported as used until the build releases it', () => {
  const { leases, held } = fakeLeases();
  const holds = new BuildHolds({ leases });
  const a = holds.open();
  const b = holds.open();
  a.keep({ id: 'sha256:aa' as Digest, topChainId: 'sha256:c1' as ChainId });
  b.keep({ id: 'sha256:aa' as Digest });
  assert.deepEqual(holds.users('sha256:aa').map((u) => u.id).sort(), [a.id, b.id].sort());
  assert.ok(holds.users('sha256:aa').every((u) => u.running));
  assert.deepEqual(held.get(`build-${a.id}`), [{ chain: 'sha256:c1' }]);
  a.release();
  a.release();
  assert.deepEqual(holds.users('sha256:aa').map((u) => u.id), [b.id]);
  assert.equal(held.has(`build-${a.id}`), false);
  b.release();
  assert.deepEqual(holds.users('sha256:aa'), []);
  assert.equal(holds.active, 0);
});
