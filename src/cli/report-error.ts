// How a failed command is told to the user: one line on stderr, docker's wording where
// docker has one ("Error response from daemon: …"), `berth: …` for berth's own errors.
import { BerthError, errorMessage } from '../util/index.js';
import { UsageError } from './exit-codes.js';

export function errorLine(err: unknown): string {
  if (err instanceof BerthError) {
    switch (err.name) {
      case 'EngineApiError':
        return `Error response from daemon: ${err.message}`;
      // docker prints these as they are: a dead socket and an in-band stream error.
      case 'DaemonUnreachableError':
      case 'EngineStreamError':
        return err.message;
      case 'ObjectNotFoundError':
        return `Error: ${err.message}`;
    }
    return `berth: ${err.message}`;
  }
  if (err instanceof UsageError) return `berth: ${err.message}`;
  return `berth: ${errorMessage(err)}`;
}

export function reportError(err: unknown, opts: { debug?: boolean; stderr?: NodeJS.WritableStream } = {}): void {
  const out = opts.stderr ?? process.stderr;
  out.write(`${errorLine(err)}\n`);
  if (opts.debug && err instanceof Error && err.stack) out.write(`${err.stack}\n`);
}
