// The one logger: JSON lines in the daemon, readable text on a TTY (STYLE.md §9).
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 };

export interface Logger {
  trace(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

interface Sink {
  level: LogLevel;
  write(line: string): void;
  /** Decided at the first line: reading process.stderr makes it, which a CLI run that logs nothing need not. */
  pretty: boolean | undefined;
}

const sink: Sink = { level: 'info', write: (l) => process.stderr.write(l), pretty: undefined };

export function configureLogging(opts: { level?: LogLevel; write?: (line: string) => void; pretty?: boolean }) {
  if (opts.level) sink.level = opts.level;
  if (opts.write) sink.write = opts.write;
  if (opts.pretty !== undefined) sink.pretty = opts.pretty;
}

export function isLogLevel(s: string): s is LogLevel {
  return s in ORDER;
}

class FieldLogger implements Logger {
  constructor(private readonly fields: Record<string, unknown>) {}
  private emit(level: LogLevel, msg: string, extra?: Record<string, unknown>) {
    if (ORDER[level] < ORDER[sink.level]) return;
    const all = { ...this.fields, ...extra };
    if ((sink.pretty ??= !!process.stderr.isTTY)) {
      const kv = Object.entries(all).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      sink.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${kv.length ? ' ' + kv.join(' ') : ''}\n`);
    } else {
      sink.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }) + '\n');
    }
  }
  trace(m: string, f?: Record<string, unknown>) { this.emit('trace', m, f); }
  debug(m: string, f?: Record<string, unknown>) { this.emit('debug', m, f); }
  info(m: string, f?: Record<string, unknown>) { this.emit('info', m, f); }
  warn(m: string, f?: Record<string, unknown>) { this.emit('warn', m, f); }
  error(m: string, f?: Record<string, unknown>) { this.emit('error', m, f); }
  child(fields: Record<string, unknown>): Logger {
    return new FieldLogger({ ...this.fields, ...fields });
  }
}

export const rootLogger: Logger = new FieldLogger({});
export function logger(component: string): Logger {
  return rootLogger.child({ component });
}
