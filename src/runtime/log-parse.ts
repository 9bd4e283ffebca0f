// Parsing conmon's k8s-file log: `<RFC3339Nano> <stdout|stderr> <P|F> <bytes>\n` per record.
// P marks a partial record (no newline yet), F a full one (a newline follows).
//
// The reader hands over whole chunks (up to 1 MiB) and `parseLogChunk` works on the bytes:
// no string per line, the time parsed only when since/until need it (from the digits, with
// the last one cached: conmon stamps every line of one read with the same time), and the
// payloads moved down over the prefixes in place (copyWithin) so that consecutive records
// of one stream come out as one Buffer. With `timestamps` each line gets Docker's
// RFC3339Nano UTC time in front instead (shorter than conmon's prefix, so in place too).

export type LogStream = 'stdout' | 'stderr';

export interface LogRecord {
  stream: LogStream;
  /**
   * The payload, with the newline restored for full records (each after its time with
   * `timestamps`). Consecutive records of one stream read together come as one.
   */
  data: Buffer;
  /** RFC3339Nano as conmon wrote it (of the first record in `data`). */
  time: string;
}

const NL = 0x0a;
const SP = 0x20;

/** Parses one k8s-file line (without its trailing newline). */
export function parseLogLine(line: Buffer): LogRecord | undefined {
  const s1 = line.indexOf(SP);
  if (s1 < 0) return undefined;
  const s2 = line.indexOf(SP, s1 + 1);
  if (s2 < 0) return undefined;
  const s3 = line.indexOf(SP, s2 + 1);
  const stream = streamBetween(line, s1, s2);
  if (stream === 0) return undefined;
  const payload = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  const full = isFullTag(line, s2 + 1, s3 < 0 ? line.length : s3);
  return {
    stream: stream === 1 ? 'stdout' : 'stderr',
    time: line.toString('latin1', 0, s1),
    data: full ? Buffer.concat([payload, Buffer.from('\n')]) : Buffer.from(payload),
  };
}

/** 1 for `stdout`, 2 for `stderr` between the spaces at s1 and s2, else 0. */
function streamBetween(b: Buffer, s1: number, s2: number): 0 | 1 | 2 {
  if (s2 - s1 !== 7 || b[s1 + 1] !== 0x73 || b[s1 + 2] !== 0x74 || b[s1 + 3] !== 0x64) return 0;
  const c4 = b[s1 + 4];
  const c5 = b[s1 + 5];
  const c6 = b[s1 + 6];
  if (c4 === 0x6f && c5 === 0x75 && c6 === 0x74) return 1;
  if (c4 === 0x65 && c5 === 0x72 && c6 === 0x72) return 2;
  return 0;
}

/** Whether the tag b[from..to) marks a full record (`F`, or `F` among `:`-separated flags). */
function isFullTag(b: Buffer, from: number, to: number): boolean {
  if (to - from === 1) return b[from] === 0x46;
  return b.toString('latin1', from, to).split(':').includes('F');
}

/**
 * What the record b[from..to) (its newline excluded) is: `full` ends a line, `partial` is
 * continued by the next record of its stream, `invalid` is skipped by readers.
 */
export function recordKind(b: Buffer, from: number, to: number): 'full' | 'partial' | 'invalid' {
  const s1 = b.indexOf(SP, from);
  if (s1 < 0 || s1 >= to) return 'invalid';
  const s2 = s1 + 7;
  if (s2 >= to || b[s2] !== SP || streamBetween(b, s1, s2) === 0) return 'invalid';
  let s3 = b.indexOf(SP, s2 + 1);
  if (s3 < 0 || s3 > to) s3 = to;
  return isFullTag(b, s2 + 1, s3) ? 'full' : 'partial';
}

/** RFC3339Nano → nanoseconds since the epoch (BigInt keeps the nanoseconds exact). */
export function logTimeNano(time: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return 0n;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

/** Docker's `since`/`until` query values: unix seconds with optional fraction. */
export function parseUnixTimestamp(v: string): bigint | undefined {
  if (v === '' || v === '0') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : BigInt(t) * 1_000_000n;
}

const UTC_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(?:\+00:00|Z)$/;

/** Docker prints timestamps as RFC3339Nano in UTC. */
export function formatLogTime(time: string): string {
  // conmon's usual form on a UTC host: only the zone changes.
  if (UTC_NANO.test(time)) return time.slice(0, 29) + 'Z';
  const nano = logTimeNano(time);
  const ms = Number(nano / 1_000_000n);
  const frac = (nano % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + frac + 'Z';
}

/** A time as whole seconds since the epoch and nanoseconds within the second. */
interface SecNano {
  sec: number;
  nano: number;
}

function splitNano(t: bigint): SecNano {
  return { sec: Number(t / 1_000_000_000n), nano: Number(t % 1_000_000_000n) };
}

function compareTime(a: SecNano, b: SecNano): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nano - b.nano;
}

const digit = (b: Buffer, i: number): number => {
  const c = b[i]! - 0x30;
  return c >= 0 && c <= 9 ? c : NaN;
};
const num2 = (b: Buffer, i: number) => digit(b, i) * 10 + digit(b, i + 1);

/** The time at b[from..to) read from its digits; undefined when it is not RFC3339. */
function timeAt(b: Buffer, from: number, to: number): SecNano | undefined {
  if (to - from < 20 || b[from + 4] !== 0x2d || b[from + 7] !== 0x2d || b[from + 10] !== 0x54 || b[from + 13] !== 0x3a || b[from + 16] !== 0x3a) {
    return undefined;
  }
  const year = num2(b, from) * 100 + num2(b, from + 2);
  const ms = Date.UTC(year, num2(b, from + 5) - 1, num2(b, from + 8), num2(b, from + 11), num2(b, from + 14), num2(b, from + 17));
  if (Number.isNaN(ms)) return undefined;
  let i = from + 19;
  let nano = 0;
  if (b[i] === 0x2e) {
    let scale = 100_000_000;
    for (i++; i < to && b[i]! >= 0x30 && b[i]! <= 0x39; i++) {
      nano += (b[i]! - 0x30) * scale;
      scale = Math.floor(scale / 10);
    }
  }
  let offset = 0;
  if (i === to - 1 && b[i] === 0x5a) offset = 0;
  else if (i === to - 6 && (b[i] === 0x2b || b[i] === 0x2d) && b[i + 3] === 0x3a) {
    offset = (num2(b, i + 1) * 60 + num2(b, i + 4)) * 60 * (b[i] === 0x2b ? 1 : -1);
    if (Number.isNaN(offset)) return undefined;
  } else return undefined;
  return { sec: ms / 1000 - offset, nano };
}

export interface ParseLogOptions {
  /** Nanoseconds; records before are skipped. */
  since?: bigint;
  /** Nanoseconds; the first record after it ends the log. */
  until?: bigint;
  /**
   * Each line after Docker's RFC3339Nano UTC time and a space (`logs -t`): the time of its
   * first record when conmon split it into partial records.
   */
  timestamps?: boolean;
  /**
   * Each line after these attributes and a space (`logs --details`; after the time with
   * `timestamps`): dockerd prints the space with no attributes too.
   */
  details?: string;
}

export interface ParsedChunk {
  records: LogRecord[];
  /** Bytes of whole lines taken from the chunk (what follows is an incomplete line). */
  consumed: number;
  /** A record after `until` was met: the log ends here. */
  ended: boolean;
}

/** The last time seen (the lines of one conmon read share it) and what it became. */
interface TimeCache {
  raw: Buffer;
  len: number;
  time: SecNano | undefined;
  /** What goes before a line with this time (prefixOf). */
  formatted: Buffer | undefined;
  text: string;
}

/** Parses whole lines of k8s-file chunks; keeps the last time between chunks. */
export class LogChunkParser {
  private readonly since: SecNano | undefined;
  private readonly until: SecNano | undefined;
  private readonly cache: TimeCache = { raw: Buffer.alloc(64), len: -1, time: undefined, formatted: undefined, text: '' };
  /** Per stream (index 1, 2): 0 at a line's start, 1 inside a shown line, 2 inside a skipped one. */
  private readonly lineState = [0, 0, 0];
  /** The line nextLine() found: its start, newline, first space, stream, tag and payload start. */
  private readonly line = { start: 0, nl: 0, s1: 0, stream: 1 as 1 | 2, full: true, payload: 0 };

  constructor(private readonly opts: ParseLogOptions = {}) {
    this.since = opts.since !== undefined ? splitNano(opts.since) : undefined;
    this.until = opts.until !== undefined ? splitNano(opts.until) : undefined;
  }

  /**
   * Parses the whole lines of `chunk`. The payloads are moved over the chunk's own bytes (it
   * must not be read again, and the records are views of it).
   */
  parse(chunk: Buffer): ParsedChunk {
    return this.opts.timestamps || this.opts.details !== undefined ? this.parseStamped(chunk) : this.parseInPlace(chunk);
  }

  /** Refreshes the cache when the time at b[from..to) differs from the last one. */
  private timeOf(b: Buffer, from: number, to: number): TimeCache {
    const c = this.cache;
    const len = to - from;
    let same = len === c.len && len <= c.raw.length;
    // From the end: times of two reads differ in their last digits first.
    for (let i = len - 1; same && i >= 0; i--) if (b[from + i] !== c.raw[i]) same = false;
    if (same) return c;
    c.text = b.toString('latin1', from, to);
    c.len = len;
    if (len <= c.raw.length) c.raw.write(c.text, 0, 'latin1');
    else c.len = -1;
    c.time = this.since || this.until ? (timeAt(b, from, to) ?? splitNano(logTimeNano(c.text))) : undefined;
    c.formatted = undefined;
    return c;
  }

  /**
   * Whether the record of `stream` whose time is at b[from..to) is shown: -1 skip, 0 keep,
   * 1 end of the log. A line conmon split into partial records is judged by its first record
   * (Docker keeps a line as one message with one time).
   */
  private admit(b: Buffer, from: number, to: number, stream: 1 | 2, full: boolean): -1 | 0 | 1 {
    const midLine = this.lineState[stream]!;
    let v: -1 | 0 | 1 = 0;
    if (midLine !== 0) v = midLine === 1 ? 0 : -1;
    else if (this.since || this.until) {
      const t = this.timeOf(b, from, to).time;
      if (t && this.since && compareTime(t, this.since) < 0) v = -1;
      else if (t && this.until && compareTime(t, this.until) > 0) return 1;
    }
    this.lineState[stream] = full ? 0 : v === 0 ? 1 : 2;
    return v;
  }

  /**
   * Finds the next well-formed line from `at` into `this.line`; returns false when no whole
   * line is left. Malformed lines are stepped over.
   */
  private nextLine(b: Buffer, at: number): boolean {
    const ln = this.line;
    for (;;) {
      const nl = b.indexOf(NL, at);
      if (nl < 0) return false;
      ln.start = at;
      ln.nl = nl;
      at = nl + 1;
      const s1 = b.indexOf(SP, ln.start);
      if (s1 < 0 || s1 >= nl) continue;
      const s2 = s1 + 7;
      if (s2 >= nl || b[s2] !== SP) continue;
      const stream = streamBetween(b, s1, s2);
      if (stream === 0) continue;
      // The tag: normally one letter, then a space or the end of an empty record.
      let s3 = s2 + 2;
      if (s3 < nl && b[s3] !== SP) {
        s3 = b.indexOf(SP, s2 + 1);
        if (s3 < 0 || s3 > nl) s3 = nl;
      } else if (s3 > nl) s3 = nl;
      ln.s1 = s1;
      ln.stream = stream;
      ln.full = isFullTag(b, s2 + 1, s3);
      ln.payload = s3 < nl ? s3 + 1 : nl;
      return true;
    }
  }

  private parseInPlace(b: Buffer): ParsedChunk {
    const records: LogRecord[] = [];
    const ln = this.line;
    let at = 0;
    let w = 0;
    let segStart = 0;
    let segStream: 0 | 1 | 2 = 0;
    let segTime = '';
    let ended = false;
    const close = () => {
      if (segStream !== 0 && w > segStart) records.push({ stream: segStream === 1 ? 'stdout' : 'stderr', data: b.subarray(segStart, w), time: segTime });
      segStart = w;
    };
    while (this.nextLine(b, at)) {
      at = ln.nl + 1;
      const v = this.admit(b, ln.start, ln.s1, ln.stream, ln.full);
      if (v < 0) continue;
      if (v > 0) {
        ended = true;
        break;
      }
      if (ln.stream !== segStream) {
        close();
        segStream = ln.stream;
        segTime = b.toString('latin1', ln.start, ln.s1);
      }
      // Moved down over the prefixes: w never passes the start of the line being read.
      const n = (ln.full ? ln.nl + 1 : ln.nl) - ln.payload;
      if (n > 0) {
        if (w !== ln.payload) b.copyWithin(w, ln.payload, ln.payload + n);
        w += n;
      }
    }
    close();
    return { records, consumed: at, ended };
  }

  /** What goes before a line: its time (`timestamps`), then its attributes (`details`). */
  private prefixOf(time: string): string {
    const stamp = this.opts.timestamps ? `${formatLogTime(time)} ` : '';
    return this.opts.details !== undefined ? `${stamp}${this.opts.details} ` : stamp;
  }

  private parseStamped(b: Buffer): ParsedChunk {
    const records: LogRecord[] = [];
    const ln = this.line;
    // Written over the chunk itself while Docker's time (31 bytes) fits in conmon's prefix
    // (45 bytes in its usual form); a line where it does not switches to a new buffer.
    let out = b;
    let w = 0;
    let segStart = 0;
    let segStream: 0 | 1 | 2 = 0;
    let segTime = '';
    const close = () => {
      if (segStream !== 0 && w > segStart) records.push({ stream: segStream === 1 ? 'stdout' : 'stderr', data: out.subarray(segStart, w), time: segTime });
      segStart = w;
    };
    let at = 0;
    let ended = false;
    while (this.nextLine(b, at)) {
      at = ln.nl + 1;
      // Read before admit() moves on: does this record start a line (and so get a time)?
      const startsLine = this.lineState[ln.stream] === 0;
      const v = this.admit(b, ln.start, ln.s1, ln.stream, ln.full);
      if (v < 0) continue;
      if (v > 0) {
        ended = true;
        break;
      }
      const c = this.timeOf(b, ln.start, ln.s1);
      const prefix = startsLine ? (c.formatted ??= Buffer.from(this.prefixOf(c.text), 'utf8')) : undefined;
      const prefixLen = prefix?.length ?? 0;
      const need = prefixLen + (ln.nl - ln.payload) + 1;
      if (out === b ? w + prefixLen > ln.payload : w + need > out.length) {
        close();
        out = Buffer.allocUnsafe(Math.max(need, b.length - ln.start + (b.length >> 4) + 64));
        w = 0;
        segStart = 0;
      }
      if (ln.stream !== segStream) {
        close();
        segStream = ln.stream;
        segTime = c.text;
      }
      if (prefix) w += prefix.copy(out, w);
      if (out === b) {
        // Never past the start of this line's payload (checked above): the move is safe.
        b.copyWithin(w, ln.payload, ln.nl);
        w += ln.nl - ln.payload;
      } else w += b.copy(out, w, ln.payload, ln.nl);
      if (ln.full) out[w++] = NL;
    }
    close();
    return { records, consumed: at, ended };
  }
}
