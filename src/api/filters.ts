// Docker's `filters` query parameter: JSON `{"key":{"value":true}}`, or the legacy
// `{"key":["value"]}` form that old clients (docker-py) still send.
import { BerthError } from '../util/index.js';

export class Filters {
  private readonly values: Map<string, string[]>;

  constructor(values: Map<string, string[]> = new Map()) {
    this.values = values;
  }

  static parse(raw: string | null): Filters {
    const values = new Map<string, string[]>();
    if (raw === null || raw.trim() === '') return new Filters(values);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw new BerthError('invalid-argument', `invalid filters "${raw}": not JSON`, { cause: err });
    }
    if (parsed === null) return new Filters(values);
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new BerthError('invalid-argument', `invalid filters "${raw}": expected a JSON object`);
    }
    for (const [key, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
        values.set(key, v as string[]);
      } else if (v && typeof v === 'object' && Object.values(v).every((x) => typeof x === 'boolean')) {
        values.set(
          key,
          Object.entries(v as Record<string, boolean>)
            .filter(([, on]) => on)
            .map(([k]) => k),
        );
      } else {
        throw new BerthError('invalid-argument', `invalid filter "${key}": expected a list of strings or a set`);
      }
    }
    return new Filters(values);
  }

  keys(): string[] {
    return [...this.values.keys()];
  }

  has(key: string): boolean {
    return (this.values.get(key)?.length ?? 0) > 0;
  }

  get(key: string): string[] {
    return this.values.get(key) ?? [];
  }

  /** dockerd's check: an unknown key is `invalid filter 'key'`. */
  validate(allowed: readonly string[]): this {
    for (const k of this.values.keys()) {
      if (!allowed.includes(k)) throw new BerthError('invalid-argument', `invalid filter '${k}'`);
    }
    return this;
  }

  /** True when the key is absent or any of its values equals `value`. */
  matchExact(key: string, value: string | undefined): boolean {
    const want = this.get(key);
    return want.length === 0 || (value !== undefined && want.includes(value));
  }

  /** True when the key is absent or any value matches `pred`. */
  matchAny(key: string, pred: (v: string) => boolean): boolean {
    const want = this.get(key);
    return want.length === 0 || want.some(pred);
  }

  /**
   * Label filters (`label=key` or `label=key=value`): every one must hold, as in dockerd.
   * `key` defaults to "label"; containers use "label!" style negation nowhere here.
   */
  matchLabels(labels: Record<string, string> | undefined, key = 'label'): boolean {
    for (const f of this.get(key)) {
      const eq = f.indexOf('=');
      const k = eq < 0 ? f : f.slice(0, eq);
      if (!labels || !(k in labels)) return false;
      if (eq >= 0 && labels[k] !== f.slice(eq + 1)) return false;
    }
    return true;
  }
}
