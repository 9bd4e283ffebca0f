// Parsers for the values of `run`/`create`/`update` flags, failing with the docker CLI's
// wording: `invalid argument "foo" for "-m, --memory" flag: invalid size: 'foo'` (exit 125).
import { isIP } from 'node:net';
import { errorMessage } from '../../util/index.js';
import { UsageError } from '../exit-codes.js';
import { ramInBytes } from '../format/units.js';

/** docker/pflag's message for a value its parser rejected. */
export function flagError(flag: string, value: string, detail: string): UsageError {
  return new UsageError(`invalid argument "${value}" for "${flag}" flag: ${detail}`);
}

/** A size in bytes (`512m`, `1g`, `100`), as go-units RAMInBytes reads it. */
export function parseSizeFlag(flag: string, value: string): number {
  try {
    return ramInBytes(value);
  } catch (err) {
    throw flagError(flag, value, errorMessage(err));
  }
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds ("1m30s", "500ms", "-2h", "0"). */
export function parseGoDuration(value: string): number {
  const bad = () => new Error(`time: invalid duration "${value}"`);
  let s = value;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw bad();
  let total = 0;
  const re = /^(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length) {
    const m = re.exec(s);
    if (!m || m[1] === '' || m[1] === '.') throw bad();
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    s = s.slice(m[0].length);
  }
  return sign * Math.round(total);
}

export function parseDurationFlag(flag: string, value: string): number {
  try {
    return parseGoDuration(value);
  } catch (err) {
    throw flagError(flag, value, errorMessage(err));
  }
}

export function parseIntFlag(flag: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw flagError(flag, value, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}

/** `--cpus 1.5` → NanoCpus, as docker's NanoCPUs flag parses it. */
export function parseCpusFlag(flag: string, value: string): number {
  const m = /^(\d+)?(?:\.(\d+))?$/.exec(value.trim());
  if (!m || (m[1] === undefined && m[2] === undefined)) throw flagError(flag, value, `failed to parse ${value} as a rational number`);
  const nano = Number(value) * 1e9;
  if (!Number.isInteger(Math.round(nano * 1e6) / 1e6) || (m[2] ?? '').replace(/0+$/, '').length > 9) {
    throw flagError(flag, value, 'value is too precise');
  }
  return Math.round(nano);
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** `nofile=1024[:2048]`, as go-units ParseUlimit reads it. */
export function parseUlimit(value: string): Ulimit {
  const eq = value.indexOf('=');
  if (eq < 0) throw flagError('--ulimit', value, `invalid ulimit argument: ${value}`);
  const name = value.slice(0, eq);
  const KNOWN = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];
  if (!KNOWN.includes(name)) throw flagError('--ulimit', value, `invalid ulimit type: ${name}`);
  const parts = value.slice(eq + 1).split(':');
  if (parts.length > 2) throw flagError('--ulimit', value, `too many limit value arguments - ${value.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const num = (s: string, what: string) => {
    if (!/^-?\d+$/.test(s)) throw flagError('--ulimit', value, `invalid ulimit ${what} value: ${s}`);
    return Number(s);
  };
  const soft = num(parts[0]!, 'soft');
  const hard = parts.length === 2 ? num(parts[1]!, 'hard') : soft;
  if (soft > hard) throw flagError('--ulimit', value, `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard };
}

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount: number;
}

/** `no`, `always`, `unless-stopped`, `on-failure[:N]` (the daemon checks the name). */
export function parseRestartPolicy(value: string): RestartPolicy {
  if (value === '') return { Name: 'no', MaximumRetryCount: 0 };
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  const count = colon < 0 ? '' : value.slice(colon + 1);
  if (count !== '' && !/^-?\d+$/.test(count)) {
    throw new UsageError('invalid restart policy format: maximum retry count must be an integer');
  }
  return { Name: name, MaximumRetryCount: count === '' ? 0 : Number(count) };
}

/** `-e KEY=VALUE` as is; `-e KEY` takes KEY's value from our environment when it is set. */
export function resolveEnvFlag(value: string, env: NodeJS.ProcessEnv = process.env): string {
  if (value.includes('=')) {
    if (value.startsWith('=')) throw flagError('-e, --env', value, `invalid environment variable: ${value}`);
    return value;
  }
  const v = env[value];
  return v === undefined ? value : `${value}=${v}`;
}

/**
 * An env file as docker reads it: `KEY=VALUE` lines taken literally (no quotes removed),
 * `KEY` alone takes our environment's value (and is left out when unset), blank lines and
 * `#` comments skipped.
 */
export function parseEnvFileText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/^[ \t\v\f\r\n]+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    if (name === '') throw new UsageError(`no variable name on line '${raw}' (${file}:${i + 1})`);
    if (/[ \t\v\f\r\n]/.test(name)) throw new UsageError(`variable '${name}' contains whitespaces`);
    if (eq >= 0) out.push(line);
    else if (env[name] !== undefined) out.push(`${name}=${env[name]}`);
  });
  return out;
}

/** `k=v` / `k` pairs (labels, log options, driver options) → a map. */
export function parseKeyValues(values: string[], opts: { flag?: string; requireValue?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) {
      if (opts.requireValue) throw flagError(opts.flag ?? '--opt', v, `invalid key/value pair format`);
      out[v] = '';
    } else {
      out[v.slice(0, eq)] = v.slice(eq + 1);
    }
  }
  return out;
}

/** `--add-host name:ip` (or `name=ip`) → docker's `name:ip`. */
export function parseAddHost(value: string): string {
  const sep = value.includes('=') ? value.indexOf('=') : value.indexOf(':');
  if (sep <= 0) throw flagError('--add-host', value, `bad format for add-host: "${value}"`);
  const host = value.slice(0, sep);
  let ip = value.slice(sep + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== 'host-gateway' && !isIP(ip)) throw flagError('--add-host', value, `invalid IP address in add-host: "${ip}"`);
  return `${host}:${ip}`;
}

export function parseIpFlag(flag: string, value: string): string {
  if (!isIP(value)) throw flagError(flag, value, `${value} is not an ip address`);
  return value;
}

export function parseDnsSearch(value: string): string {
  if (value === '.') return value;
  if (value.startsWith('.') || value.length > 255 || !/^[A-Za-z0-9_.-]+$/.test(value)) {
    throw flagError('--dns-search', value, `${value} is not a valid domain`);
  }
  return value;
}
