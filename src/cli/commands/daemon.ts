// berth daemon: runs berthd in the foreground of this process until SIGINT/SIGTERM.
import { isLogLevel } from '../../util/index.js';
import { BerthError } from '../../util/index.js';
import type { CommandOptions } from '../catalog/index.js';
import type { CommandContext } from '../context.js';
import { stringOpt } from './filters.js';

export async function run(ctx: CommandContext, _args: string[], opts: CommandOptions): Promise<void> {
  const { runDaemonUntilSignal, DEFAULT_DAEMON_CONFIG } = await import('../../api/daemon.js');
  const logLevel = ctx.globals.logLevel ?? (ctx.globals.debug ? 'debug' : undefined);
  if (logLevel !== undefined && !isLogLevel(logLevel)) {
    throw new BerthError('invalid-argument', `invalid log level "${logLevel}": expected trace, debug, info, warn or error`);
  }
  const pidfile = stringOpt(opts['pidfile']);
  const tcp = stringOpt(opts['tcp']);
  await runDaemonUntilSignal({
    dataRoot: ctx.globals.dataRoot ?? DEFAULT_DAEMON_CONFIG.dataRoot,
    execRoot: stringOpt(opts['execRoot']) ?? DEFAULT_DAEMON_CONFIG.execRoot,
    host: ctx.globals.host ?? DEFAULT_DAEMON_CONFIG.host,
    ...(tcp ? { tcpHost: tcp } : {}),
    ...(logLevel ? { logLevel } : {}),
    ...(pidfile ? { pidfile } : {}),
  });
}
