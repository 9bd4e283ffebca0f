// berth history / image history
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { renderList } from '../format/table.js';
import { createdSince, goRfc3339, humanSizeWithPrecision } from '../format/units.js';
import { stringOpt } from './filters.js';
import { truncateId } from './image-rows.js';

interface HistoryView {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size: number;
  Comment: string;
}

const HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

/** docker's formatter.Ellipsis: cut to `max` characters, the last one being "…". */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

/** `-H`, `-H=false`, `--human=false`, `--human false`. */
function isHuman(v: unknown): boolean {
  const s = typeof v === 'string' ? v.replace(/^=/, '') : v;
  return !(s === false || s === 'false' || s === '0');
}

export async function run(ctx: CommandContext, args: string[], opts: CommandOptions): Promise<void> {
  const human = isHuman(opts['human']);
  const noTrunc = opts['trunc'] === false;
  const client = await ctx.client();
  const history = await client.imageHistory<HistoryView>(args[0]!);
  const rows = history.map((h) => {
    const createdBy = h.CreatedBy.replaceAll('\t', ' ');
    return {
      ID: h.Id === '<missing>' ? h.Id : noTrunc ? h.Id : truncateId(h.Id),
      CreatedAt: human ? goRfc3339(h.Created) : goRfc3339(h.Created),
      CreatedSince: human ? createdSince(h.Created) : goRfc3339(h.Created),
      CreatedBy: noTrunc ? createdBy : ellipsis(createdBy, 45),
      Size: human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size),
      Comment: h.Comment,
    };
  });
  const quiet = opts['quiet'] === true;
  const defaultFormat = quiet ? '{{.ID}}' : 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
  const headers = human ? HEADERS : { ...HEADERS, CreatedSince: 'CREATED AT' };
  await ctx.print(renderList({ format: quiet ? undefined : stringOpt(opts['format']), defaultFormat, headers }, rows));
}
