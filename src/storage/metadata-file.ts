import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { BerthError } from '../util/index.js';

export function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Reads a metadata file (STYLE.md §4: parsed with a schema on read, versioned).
 * Absent file: undefined. Unreadable or invalid JSON: an `internal` error naming `what`.
 */
export async function readMetadata<S extends z.ZodType>(path: string, schema: S, what: string): Promise<z.infer<S> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isEnoent(err)) return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BerthError('internal', `corrupt metadata of ${what}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new BerthError('internal', `corrupt metadata of ${what}: ${parsed.error.message}`);
  return parsed.data;
}
