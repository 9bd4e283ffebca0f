// Value formats borrowed from Go that Dockerfiles use: time.ParseDuration (HEALTHCHECK
// flags) and docker/go-units RAMInBytes (`--mount=type=tmpfs,size=`).

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

export class UnitParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnitParseError';
  }
}

/** Go's time.ParseDuration, in nanoseconds (e.g. `1m30s`, `1.5h`, `300ms`). */
export function parseGoDuration(s: string): number {
  const orig = s;
  const q = JSON.stringify(orig);
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new UnitParseError(`time: invalid duration ${q}`);
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const whole = m[1] ?? '';
    const frac = m[2];
    if (whole === '' && (frac === undefined || frac === '')) throw new UnitParseError(`time: invalid duration ${q}`);
    s = s.slice(m[0].length);
    const u = /^[^\d.]+/.exec(s);
    if (!u) throw new UnitParseError(`time: missing unit in duration ${q}`);
    const unit = UNIT_NS[u[0]];
    if (unit === undefined) throw new UnitParseError(`time: unknown unit ${JSON.stringify(u[0])} in duration ${q}`);
    s = s.slice(u[0].length);
    total += Number(`${whole || '0'}.${frac || '0'}`) * unit;
  }
  if (total > 2 ** 63) throw new UnitParseError(`time: invalid duration ${q}`);
  return Math.round(neg ? -total : total);
}

const RAM_RE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const RAM_MULT: Readonly<Record<string, number>> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker/go-units RAMInBytes: `64m`, `1g`, `512kb`, `100` (binary multiples). */
export function parseRamInBytes(s: string): number {
  const m = RAM_RE.exec(s);
  if (!m) throw new UnitParseError(`invalid size: '${s}'`);
  const n = Number.parseFloat(m[1]!);
  const mult = m[2] ? RAM_MULT[m[2].toLowerCase()]! : 1;
  return Math.trunc(n * mult);
}
