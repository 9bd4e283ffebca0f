// Readers for the Engine API's line-delimited JSON streams: progress (load, import,
// pull, build) and events. A progress stream that carries `errorDetail` fails: it
// never "ends successfully" after an in-band error (STYLE.md §5, §11).
import type { Readable } from 'node:stream';
import { BerthError } from '../util/index.js';

/** One message of a JSON progress stream, as the daemon writes it. */
export interface JsonProgressMessage {
  status?: string;
  id?: string;
  stream?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: Record<string, unknown>;
  error?: string;
  errorDetail?: { code?: number; message?: string };
}

/** An error the daemon reported inside a stream after the 200 status was sent. */
export class EngineStreamError extends BerthError {
  constructor(message: string) {
    super('internal', message);
    this.name = 'EngineStreamError';
  }
}

const MAX_LINE = 16 * 1024 * 1024;

/** Yields each JSON value of a newline-delimited stream; a line over 16 MiB is an error. */
export async function* readJsonLines(body: Readable | AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    buf += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield parseLine(line);
    }
    if (buf.length > MAX_LINE) throw new BerthError('internal', 'read a JSON stream: a line exceeds 16 MiB');
  }
  buf += decoder.decode();
  if (buf.trim()) yield parseLine(buf.trim());
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new BerthError('internal', `read a JSON stream: invalid line ${JSON.stringify(line.slice(0, 80))}`, { cause: err });
  }
}

/**
 * Consumes a progress stream, handing every message to `onMessage`, and rejects with
 * EngineStreamError on the first message that carries an error.
 */
export async function followProgress(
  body: Readable | AsyncIterable<Buffer | string>,
  onMessage?: (m: JsonProgressMessage) => void,
): Promise<JsonProgressMessage[]> {
  const tail: JsonProgressMessage[] = [];
  for await (const v of readJsonLines(body)) {
    if (!v || typeof v !== 'object') continue;
    const m = v as JsonProgressMessage;
    if (m.errorDetail || m.error) {
      throw new EngineStreamError(m.errorDetail?.message || m.error || 'unknown error');
    }
    onMessage?.(m);
    // Keep only a bounded tail: callers want the final status lines (e.g. the imported id).
    tail.push(m);
    if (tail.length > 64) tail.shift();
  }
  return tail;
}
