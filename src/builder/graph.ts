// Runs a DAG of stages: each starts once its dependencies are done, at most `limit` at a
// time; the first failure aborts the others. Generic: knows nothing about Dockerfiles.

export interface GraphNode<K> {
  id: K;
  deps: K[];
}

export async function runGraph<K, R>(
  nodes: GraphNode<K>[],
  limit: number,
  run: (id: K, signal: AbortSignal) => Promise<R>,
  opts: { signal?: AbortSignal } = {},
): Promise<Map<K, R>> {
  const ac = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const started = new Map<K, Promise<R>>();
  let active = 0;
  const waiters: Array<() => void> = [];
  const acquire = async () => {
    while (active >= limit) await new Promise<void>((r) => waiters.push(r));
    active++;
  };
  const release = () => {
    active--;
    waiters.shift()?.();
  };
  const start = (id: K): Promise<R> => {
    const existing = started.get(id);
    if (existing) return existing;
    const node = byId.get(id);
    if (!node) throw new Error(`graph: unknown node ${String(id)}`);
    const p = (async () => {
      // Dependencies first, outside the slot: holding a slot while waiting could deadlock.
      await Promise.all(node.deps.map(start));
      signal.throwIfAborted();
      await acquire();
      try {
        return await run(id, signal);
      } finally {
        release();
      }
    })();
    p.catch((err: unknown) => ac.abort(err));
    started.set(id, p);
    return p;
  };
  const results = await Promise.allSettled(nodes.map((n) => start(n.id)));
  const firstFailure = results.find((r) => r.status === 'rejected');
  if (firstFailure) {
    // Report the root cause, not the aborts it triggered in sibling stages.
    const reasons = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    const root = reasons.find((e) => !(e instanceof Error && e.name === 'AbortError')) ?? reasons[0];
    throw root;
  }
  const out = new Map<K, R>();
  nodes.forEach((n, i) => out.set(n.id, (results[i] as PromiseFulfilledResult<R>).value));
  return out;
}
