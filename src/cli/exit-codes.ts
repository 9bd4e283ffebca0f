// The one place that turns an error into the CLI's exit status (STYLE.md §5). Like the
// docker CLI: image and system commands exit 1 on any failure (daemon or local), a bad
// flag exits 125, and `run`-style commands report engine failures as 125 and leave
// 126 (cannot invoke) and 127 (not found) for the container's command.
import { errorKind } from '../util/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** docker: a bad flag, and any engine error of `run`/`create`/`start`. */
export const EXIT_ENGINE = 125;
/** docker run: the command could not be invoked (permission denied, not executable). */
export const EXIT_CANNOT_INVOKE = 126;
/** docker run: the command was not found. */
export const EXIT_COMMAND_NOT_FOUND = 127;
/** Interrupted by SIGINT (128 + 2), as a shell reports it. */
export const EXIT_INTERRUPTED = 130;

/** How a command reports failures: `standard` for image/system commands, `run` for run/create/start. */
export type ExitPolicy = 'standard' | 'run';

/** A usage problem found before anything was sent (unknown flag, bad flag value). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An explicit status to exit with, e.g. a container's own exit code. */
export class ExitStatus extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit status ${code}`);
    this.name = 'ExitStatus';
    this.code = code;
  }
}

export function exitCodeFor(err: unknown, policy: ExitPolicy = 'standard'): number {
  if (err instanceof ExitStatus) return err.code;
  if (err instanceof UsageError) return EXIT_ENGINE;
  const kind = errorKind(err);
  if (kind === 'cancelled') return EXIT_INTERRUPTED;
  return policy === 'run' ? EXIT_ENGINE : EXIT_FAILURE;
}
