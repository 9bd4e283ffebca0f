// Prints a JSON progress stream the way docker does. Without a terminal: each `stream`
// text as is and each final `status` line; byte counters are skipped. On a terminal: the
// current counter line ("Loading layer  [===>   ]  1.2MB/3.4MB") is redrawn in place.
import type { JsonProgressMessage } from '../../client/index.js';

export function progressPrinter(
  write: (s: string) => void,
  opts: { quiet?: boolean; tty?: boolean } = {},
): (m: JsonProgressMessage) => void {
  let liveLine = false;
  const endLive = () => {
    if (liveLine) write('\n');
    liveLine = false;
  };
  return (m) => {
    if (m.stream !== undefined) {
      endLive();
      write(m.stream);
      return;
    }
    if (opts.quiet || m.status === undefined) return;
    const prefix = m.id ? `${m.id}: ` : '';
    const counting = m.progressDetail && (m.progressDetail.current !== undefined || m.progressDetail.total !== undefined);
    if (counting) {
      if (!opts.tty) return;
      write(`\r\x1b[2K${prefix}${m.status} ${m.progress ?? ''}`);
      liveLine = true;
      return;
    }
    endLive();
    write(`${prefix}${m.status}\n`);
  };
}
