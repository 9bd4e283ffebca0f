// Sizes and durations printed exactly as Docker's go-units does (docker images, history,
// system df), so scripts that parse docker's output parse berth's too.

import { BerthError } from '../../util/index.js';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's `%.<precision>g`: shortest of fixed and exponent form, trailing zeros dropped. */
export function formatGoG(value: number, precision: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
  const p = Math.max(1, precision);
  const exp = Number(value.toExponential(p - 1).split('e')[1]);
  if (exp < -4 || exp >= p) {
    const [mant, e] = value.toExponential(p - 1).split('e') as [string, string];
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const sign = e.startsWith('-') ? '-' : '+';
    const digits = e.replace(/^[+-]/, '').padStart(2, '0');
    return `${m}e${sign}${digits}`;
  }
  const fixed = value.toFixed(Math.max(0, p - 1 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

function sizeWithUnits(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]!];
}

/** go-units HumanSizeWithPrecision: decimal units, `precision` significant digits ("4.26MB"). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [v, unit] = sizeWithUnits(size, 1000, DECIMAL_UNITS);
  return `${formatGoG(v, precision)}${unit}`;
}

/** go-units HumanSize: four significant digits ("77.86MB"). */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** go-units BytesSize: binary units ("1.5GiB"). */
export function bytesSize(size: number): string {
  const [v, unit] = sizeWithUnits(size, 1024, BINARY_UNITS);
  return `${formatGoG(v, 4)}${unit}`;
}

/** go-units HumanDuration ("Less than a second", "About an hour", "3 weeks"). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** "2 hours ago" for a unix time in seconds, as docker prints CREATED. */
export function createdSince(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function zoneOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${sign}${pad2(Math.trunc(abs / 60))}${pad2(abs % 60)}`;
}

function zoneName(d: Date): string {
  if (d.getTimezoneOffset() === 0) return 'UTC';
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? zoneOffset(d);
}

/** Go's time.Time.String() for a whole-second time: "2024-05-01 10:00:00 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return `${date} ${time} ${zoneOffset(d)} ${zoneName(d)}`;
}

/** RFC 3339 in local time as Go formats it ("2024-05-01T10:00:00Z" or "...+02:00"). */
export function goRfc3339(unixSeconds: number, nanos?: bigint): string {
  const d = new Date(unixSeconds * 1000);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const frac = nanos === undefined ? '' : `.${String(nanos).padStart(9, '0')}`;
  const off = d.getTimezoneOffset() === 0 ? 'Z' : `${zoneOffset(d).slice(0, 3)}:${zoneOffset(d).slice(3)}`;
  return `${date}T${time}${frac}${off}`;
}

/** Parses a docker size string ("512m", "1.5g", "100") into bytes (go-units RAMInBytes). */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(s.trim());
  if (!m) throw new BerthError('invalid-argument', `invalid size: '${s}'`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.trunc(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}
