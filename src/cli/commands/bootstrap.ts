// berth bootstrap [--only busybox|debian] [--force] [--platform linux/arm64[,…]]
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { BASE_IMAGES, bootstrap, isBaseImageKey } from '../bootstrap/bootstrap.js';
import { stringOpt } from './filters.js';
import { truncateId } from './image-rows.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const only = stringOpt(opts['only']);
  if (only !== undefined && !isBaseImageKey(only)) {
    throw new BerthError('invalid-argument', `invalid --only "${only}": expected ${BASE_IMAGES.map((b) => b.key).join(' or ')}`);
  }
  const client = await ctx.client();
  const results = await bootstrap(client, {
    only,
    force: opts['force'] === true,
    cacheDir: stringOpt(opts['cacheDir']),
    platforms: stringOpt(opts['platform']),
    log: (l) => ctx.warn(l),
  });
  for (const r of results) {
    const img = BASE_IMAGES.find((b) => b.ref === r.ref);
    const tags = [r.ref, ...(img?.alsoTagged ?? [])].join(', ');
    await ctx.print(
      r.action === 'created'
        ? `${tags}: created ${truncateId(r.id)}\n`
        : `${tags}: already present (${truncateId(r.id)}); --force rebuilds it\n`,
    );
  }
}
