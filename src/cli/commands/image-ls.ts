// berth images / image ls
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { renderList } from '../format/table.js';
import { parseFilterFlags, stringOpt } from './filters.js';
import { IMAGE_HEADERS, imageRows, type ImageSummaryView } from './image-rows.js';

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const filters = parseFilterFlags(opts['filter']);
  if (args[0]) (filters['reference'] ??= []).push(args[0]);
  const digests = opts['digests'] === true;
  const client = await ctx.client();
  const images = await client.listImages<ImageSummaryView>({ all: opts['all'] === true, filters });
  const rows = imageRows(images, { digests, noTrunc: opts['trunc'] === false });
  const format = stringOpt(opts['format']);
  const defaultFormat = opts['quiet']
    ? '{{.ID}}'
    : `table {{.Repository}}\t{{.Tag}}${digests ? '\t{{.Digest}}' : ''}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`;
  await ctx.print(renderList({ format: opts['quiet'] ? undefined : format, defaultFormat, headers: IMAGE_HEADERS }, rows));
}
