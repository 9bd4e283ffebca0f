// Opens a file a command streams to the daemon (load -i, import FILE), failing before
// anything is sent with docker's wording ("open x.tar: no such file or directory").
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { BerthError } from '../../util/index.js';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

export async function openInput(path: string): Promise<Readable> {
  const s = createReadStream(path);
  await new Promise<void>((resolve, reject) => {
    s.once('open', () => resolve());
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(new BerthError('invalid-argument', `open ${path}: ${REASONS[err.code ?? ''] ?? err.message}`, { cause: err })),
    );
  });
  return s;
}
