// Docker's `since`/`until` values (timetypes.GetTimestamp): unix seconds with an optional
// fraction, RFC 3339 dates and times (local time when no zone), or a Go duration that
// counts back from now ("10m", "1h30m").
import { BerthError } from '../util/index.js';

// Kept ASCII (µ and μ as escapes): V8 stores a whole module source as two bytes a character
// once it has one non-ASCII character, and esbuild copies regex literals as they are.

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's time.ParseDuration in nanoseconds, or undefined when `s` is not a duration. */
export function parseGoDuration(s: string): bigint | undefined {
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/.exec(s);
  if (!m) return s === '0' ? 0n : undefined;
  let total = 0n;
  for (const part of s.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) {
    const [int = '0', frac = ''] = part[1]!.split('.');
    const unit = UNIT_NS[part[2]!]!;
    total += BigInt(int || '0') * unit;
    if (frac) total += (BigInt(frac.slice(0, 18).padEnd(18, '0')) * unit) / 10n ** 18n;
  }
  return m[1] === '-' ? -total : total;
}

const DATE_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|[+-]\d{2}:\d{2})?$/;

function nowNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A timestamp in unix nanoseconds, relative values against `reference` (default now). */
export function parseTimestamp(value: string, name: string, reference: bigint = nowNano()): bigint {
  const v = value.trim();
  // Like Docker's timetypes.GetTimestamp, a bare "0" is the epoch, not a zero duration.
  const dur = v === '0' ? undefined : parseGoDuration(v);
  if (dur !== undefined) return reference - dur;
  const num = /^(\d+)(?:\.(\d{0,9}))?$/.exec(v);
  if (num) return BigInt(num[1]!) * 1_000_000_000n + BigInt((num[2] ?? '').padEnd(9, '0') || '0');
  const d = DATE_RE.exec(v);
  if (d) {
    const [, y, mo, da, h = '0', mi = '0', se = '0', frac = '', zone] = d;
    const nums = [y, mo, da, h, mi, se].map(Number) as [number, number, number, number, number, number];
    const fracNs = BigInt(frac.padEnd(9, '0') || '0');
    const inRange = nums[1] >= 1 && nums[1] <= 12 && nums[2] >= 1 && nums[2] <= 31 && nums[3] <= 23 && nums[4] <= 59 && nums[5] <= 60;
    if (!inRange) {
      throw new BerthError('invalid-argument', `invalid value for "${name}": "${value}" is not a valid date`);
    }
    let ms: number;
    if (zone === undefined) {
      ms = new Date(nums[0], nums[1] - 1, nums[2], nums[3], nums[4], nums[5]).getTime();
    } else {
      ms = Date.UTC(nums[0], nums[1] - 1, nums[2], nums[3], nums[4], nums[5]);
      if (zone !== 'Z') {
        const sign = zone.startsWith('-') ? -1 : 1;
        const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number];
        ms -= sign * (zh * 60 + zm) * 60_000;
      }
    }
    if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n + fracNs;
  }
  throw new BerthError(
    'invalid-argument',
    `invalid value for "${name}": "${value}" is not a unix timestamp, an RFC 3339 date or a duration`,
  );
}
