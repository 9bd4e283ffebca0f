// Prints a JSON progress stream the way docker does without a TTY: each `stream` text
// as is, each `status` as a line (with its id), progress-bar updates skipped.
import type { JsonProgressMessage } from '../../client/index.js';

export function progressPrinter(write: (s: string) => void, opts: { quiet?: boolean } = {}): (m: JsonProgressMessage) => void {
  return (m) => {
    if (m.stream !== undefined) {
      write(m.stream);
      return;
    }
    if (opts.quiet || m.status === undefined) return;
    // Byte counters ("Loading layer [===>   ]") are for terminals; a log gets the final lines only.
    if (m.progressDetail && (m.progressDetail.current !== undefined || m.progressDetail.total !== undefined)) return;
    write(m.id ? `${m.id}: ${m.status}\n` : `${m.status}\n`);
  };
}
