// Matching helpers for `docker images --filter` and `docker image prune --filter`.
import { invalidArgument } from '../util/index.js';

/** Go's path.Match as a RegExp: `*` and `?` never match `/`, `[...]` classes, `\` escapes. */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= pattern.length) throw invalidArgument(`invalid reference filter "${pattern}": trailing backslash`);
      re += escapeRe(pattern[i]!);
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) throw invalidArgument(`invalid reference filter "${pattern}": unterminated character class`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '!' + cls.slice(1);
      re += cls.startsWith('!') ? `[^/${cls.slice(1).replace(/\\/g, '\\\\')}]` : `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(re + '$');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** docker's FamiliarMatch: the pattern against `name:tag`, else against `name`. */
export function referenceMatches(pattern: RegExp, familiarRef: string, familiarRepo: string): boolean {
  return pattern.test(familiarRef) || pattern.test(familiarRepo);
}

const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Docker's timestamp filter values: unix seconds, RFC 3339/date, or a Go duration before `nowMs`. Returns ms. */
export function parseTimestampFilter(value: string, nowMs: number): number {
  const v = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(v)) return Number(v) * 1000;
  if (DURATION_RE.test(v)) {
    let total = 0;
    for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
    return nowMs - total;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidArgument(`invalid timestamp "${value}": expected unix seconds, RFC 3339 or a duration like 24h`);
  return t;
}

/** `label=key`, `label=key=value` all hold; `label!=…` none holds. */
export function labelsMatch(labels: Record<string, string>, want: readonly string[], notWant: readonly string[] = []): boolean {
  const has = (f: string) => {
    const eq = f.indexOf('=');
    const k = eq < 0 ? f : f.slice(0, eq);
    if (!(k in labels)) return false;
    return eq < 0 || labels[k] === f.slice(eq + 1);
  };
  return want.every(has) && !notWant.some(has);
}
