// Filters of `network ls` and `network prune`, as dockerd applies them.
import { invalidArgument } from '../util/index.js';
import type { NetworkRecord } from './types.js';

export type FilterMap = Record<string, string[]>;

export const LIST_FILTERS = ['driver', 'id', 'name', 'label', 'scope', 'type', 'dangling'] as const;
export const PRUNE_FILTERS = ['until', 'label', 'label!'] as const;

export function validateFilters(filters: FilterMap, allowed: readonly string[]): void {
  for (const k of Object.keys(filters)) if (!allowed.includes(k)) throw invalidArgument(`invalid filter '${k}'`);
}

function labelMatches(labels: Record<string, string>, f: string): boolean {
  const eq = f.indexOf('=');
  const k = eq < 0 ? f : f.slice(0, eq);
  if (!(k in labels)) return false;
  return eq < 0 || labels[k] === f.slice(eq + 1);
}

function parseBool(key: string, v: string): boolean {
  const s = v.toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw invalidArgument(`invalid filter '${key}=${v}'`);
}

/** `until`: a Unix timestamp (seconds, may be fractional), an RFC 3339 date, or a duration (`10m`, `2h`). */
export function parseUntil(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const dur = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v);
  if (dur) {
    const unit = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[dur[2] as 'ns'];
    return now - Number(dur[1]) * unit;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidArgument(`invalid filter 'until=${v}'`);
  return t;
}

export function matchesListFilters(rec: NetworkRecord, f: FilterMap): boolean {
  const any = (key: string, pred: (v: string) => boolean) => {
    const want = f[key] ?? [];
    return want.length === 0 || want.some(pred);
  };
  const hasContainers = Object.keys(rec.endpoints).length > 0;
  return (
    any('driver', (v) => v === rec.driver) &&
    any('id', (v) => rec.id.startsWith(v)) &&
    any('name', (v) => rec.name.includes(v)) &&
    any('scope', (v) => v === 'local') &&
    any('type', (v) => {
      if (v !== 'custom' && v !== 'builtin') throw invalidArgument(`invalid filter: 'type'='${v}'`);
      return (v === 'builtin') === rec.predefined;
    }) &&
    any('dangling', (v) => (parseBool('dangling', v) ? !rec.predefined && !hasContainers : rec.predefined || hasContainers)) &&
    (f['label'] ?? []).every((l) => labelMatches(rec.labels, l))
  );
}

export function matchesPruneFilters(rec: NetworkRecord, f: FilterMap): boolean {
  for (const u of f['until'] ?? []) if (Date.parse(rec.created) >= parseUntil(u)) return false;
  if (!(f['label'] ?? []).every((l) => labelMatches(rec.labels, l))) return false;
  if ((f['label!'] ?? []).some((l) => labelMatches(rec.labels, l))) return false;
  return true;
}
