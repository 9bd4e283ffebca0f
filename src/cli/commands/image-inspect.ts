// berth image inspect [--platform P] [--platforms]
import type { ImageInspect } from '../../client/index.js';
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { tabwrite } from '../format/table.js';
import { humanSize } from '../format/units.js';
import { stringOpt } from './filters.js';
import { inspectEach } from './inspect-output.js';

/** `linux/arm64` → the JSON platform the API's `platform` query takes. */
function platformQuery(p: string): string {
  const [os, architecture, variant] = p.split('/');
  if (!os || !architecture) throw new BerthError('invalid-argument', `invalid platform "${p}": expected os/arch[/variant]`);
  return JSON.stringify({ os, architecture, ...(variant ? { variant } : {}) });
}

/** `--platforms`: one row per platform of each image (manifest digest, image id, size). */
function platformsTable(name: string, img: ImageInspect): string {
  const lines = [`${name}${img.Descriptor ? `\tindex ${img.Descriptor.digest}` : ''}`, 'PLATFORM\tMANIFEST DIGEST\tIMAGE ID\tSIZE'];
  for (const m of img.Manifests ?? []) {
    const p = m.Descriptor.platform;
    const platform = p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : 'unknown';
    lines.push(`${platform}\t${m.ID}\t${m.ImageID ? m.ImageID.replace(/^sha256:/, '').slice(0, 12) : '<not local>'}\t${m.Available ? humanSize(m.Size.Total) : '-'}`);
  }
  return tabwrite(lines.join('\n') + '\n', { padding: 3 });
}

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<number> {
  const format = stringOpt(opts['format']);
  const platform = stringOpt(opts['platform']);
  const client = await ctx.client();
  const path = (name: string) => `/images/${encodeURIComponent(name)}/json`;
  if (opts['platforms'] === true) {
    if (platform) throw new BerthError('invalid-argument', '--platform and --platforms cannot be used together');
    let failed = 0;
    for (const name of args) {
      try {
        await ctx.print(platformsTable(name, await client.request<ImageInspect>('GET', path(name), { query: { manifests: '1' } })));
      } catch (err) {
        failed++;
        ctx.warn(`Error: ${(err as Error).message}`);
      }
    }
    return failed ? 1 : 0;
  }
  if (platform) return inspectEach(ctx, args, format, (name) => client.request('GET', path(name), { query: { platform: platformQuery(platform) } }));
  return inspectEach(ctx, args, format, (name) => client.inspectImage(name));
}
