// One error type for the whole engine. The closed `kind` is the only thing the API
// layer maps to a status code and the CLI maps to an exit code (STYLE.md §5).

export type ErrorKind =
  | 'not-found'
  | 'invalid-argument'
  | 'conflict'
  | 'not-modified'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'not-implemented'
  | 'cancelled'
  | 'internal';

export class BerthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.kind = kind;
    this.name = 'BerthError';
  }
}

/** A problem in user input that has a place: `Dockerfile:7: unknown instruction "RUNN"`. */
export class SourceError extends BerthError {
  readonly file: string;
  readonly line: number;
  readonly column: number | undefined;
  readonly detail: string;
  constructor(file: string, line: number, detail: string, opts?: { column?: number; cause?: unknown }) {
    super('invalid-argument', `${file}:${line}: ${detail}`, opts);
    this.file = file;
    this.line = line;
    this.column = opts?.column;
    this.detail = detail;
    this.name = 'SourceError';
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/** Walks the cause chain: the first BerthError decides; an AbortError anywhere means cancelled. */
export function errorKind(err: unknown): ErrorKind {
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 16; depth++) {
    if (cur instanceof BerthError) return cur.kind;
    if (isAbortError(cur)) return 'cancelled';
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return 'internal';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const notFound = (msg: string, cause?: unknown) => new BerthError('not-found', msg, { cause });
export const invalidArgument = (msg: string, cause?: unknown) => new BerthError('invalid-argument', msg, { cause });
export const conflict = (msg: string, cause?: unknown) => new BerthError('conflict', msg, { cause });
