// berth inspect: any object by name or id, looked up in docker's order (container, image,
// network, volume); `--type` restricts the search. Each kind is one entry below.
import type { EngineClient } from '../../client/index.js';
import { BerthError, errorKind } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { stringOpt } from './filters.js';
import { inspectEach } from './inspect-output.js';

interface Inspector {
  type: string;
  fetch(client: EngineClient, name: string): Promise<unknown>;
}

const enc = encodeURIComponent;

/** docker prints this one as `Error: No such object: x`. */
export class ObjectNotFoundError extends BerthError {
  constructor(name: string) {
    super('not-found', `No such object: ${name}`);
    this.name = 'ObjectNotFoundError';
  }
}

export const INSPECTORS: Inspector[] = [
  { type: 'container', fetch: (c, n) => c.request('GET', `/containers/${enc(n)}/json`) },
  { type: 'image', fetch: (c, n) => c.inspectImage(n) },
  { type: 'network', fetch: (c, n) => c.request('GET', `/networks/${enc(n)}`) },
  { type: 'volume', fetch: (c, n) => c.request('GET', `/volumes/${enc(n)}`) },
];

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const type = stringOpt(opts['type']);
  const inspectors = type ? INSPECTORS.filter((i) => i.type === type) : INSPECTORS;
  if (type && inspectors.length === 0) throw new UsageError(`"${type}" is not a valid value for --type`);
  const format = stringOpt(opts['format']);
  const client = await ctx.client();
  return inspectEach(ctx, args, format, async (name) => {
    for (const ins of inspectors) {
      try {
        return await ins.fetch(client, name);
      } catch (err) {
        // Not this kind of object (or the daemon does not serve it yet): try the next kind.
        if (errorKind(err) !== 'not-found' && errorKind(err) !== 'not-implemented') throw err;
      }
    }
    throw new ObjectNotFoundError(name);
  });
}
