// `--filter name=value` flags → the Engine API's filter map, with docker's error text.
import type { Filters } from '../../client/index.js';
import { UsageError } from '../exit-codes.js';

export function parseFilterFlags(values: unknown, flag = '--filter'): Filters {
  const out: Filters = {};
  for (const v of Array.isArray(values) ? (values as string[]) : []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid argument "${v}" for "${flag}" flag: bad format of filter (expected name=value)`);
    const name = v.slice(0, eq).trim().toLowerCase();
    (out[name] ??= []).push(v.slice(eq + 1).trim());
  }
  return out;
}

export function stringOpt(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function listOpt(v: unknown): string[] {
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
}
