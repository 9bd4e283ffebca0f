// Volume list and prune filters, already parsed out of Docker's `filters` JSON by the API.

export interface VolumeListFilters {
  /** true: volumes no container references; false: referenced ones. */
  dangling?: boolean;
  /** Exact driver names (any of). */
  driver?: string[];
  /** `key` or `key=value`; every one must match. */
  label?: string[];
  /** Regular expressions (or substrings, when not a valid expression) matched against the name; any of. */
  name?: string[];
}

export interface VolumePruneFilters {
  /** `key` or `key=value`; every one must match. */
  label?: string[];
  /** `label!=key` / `label!=key=value`: volumes carrying any of these are kept. */
  labelNot?: string[];
  /** Consider named volumes too, not only anonymous ones (Docker ≥ 23 default is anonymous only). */
  all?: boolean;
}

function labelMatches(labels: Record<string, string>, f: string): boolean {
  const eq = f.indexOf('=');
  const k = eq < 0 ? f : f.slice(0, eq);
  if (!Object.hasOwn(labels, k)) return false;
  return eq < 0 || labels[k] === f.slice(eq + 1);
}

export function matchesAllLabels(labels: Record<string, string>, filters: readonly string[] | undefined): boolean {
  return (filters ?? []).every((f) => labelMatches(labels, f));
}

export function matchesAnyLabel(labels: Record<string, string>, filters: readonly string[] | undefined): boolean {
  return (filters ?? []).some((f) => labelMatches(labels, f));
}

/** Docker matches `name` as a regular expression, falling back to exact text. */
export function nameMatches(name: string, patterns: readonly string[] | undefined): boolean {
  if (!patterns || patterns.length === 0) return true;
  return patterns.some((p) => {
    if (p === name) return true;
    try {
      return new RegExp(p).test(name);
    } catch {
      // Not a valid expression: Docker skips it too; a substring match is the friendliest reading.
      return name.includes(p);
    }
  });
}
