// The `berthd` entry point: parse flags, start the daemon in the foreground, stop on
// SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { isLogLevel } from '../util/index.js';
import { DEFAULT_DAEMON_CONFIG, runDaemonUntilSignal, type DaemonConfig } from '../api/daemon.js';

const USAGE = `Usage: berthd [options]

Options:
  --data-root DIR         persistent state (default ${DEFAULT_DAEMON_CONFIG.dataRoot})
  --exec-root DIR         runtime state (default ${DEFAULT_DAEMON_CONFIG.execRoot})
  -H, --host ADDR         API socket, unix:///path.sock (default ${DEFAULT_DAEMON_CONFIG.host});
                          repeat with tcp://127.0.0.1:PORT to also listen on loopback TCP
  --log-level LEVEL       trace, debug, info, warn or error (default info)
  --pidfile FILE          (default <exec-root>/berthd.pid)
  --name-prefix PREFIX    prefix of bridges, chains and netns (default berth)
  -h, --help              show this help
`;

function fail(msg: string): never {
  process.stderr.write(`berthd: ${msg}\n`);
  process.exit(2);
}

function parseConfig(argv: string[]): DaemonConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-root': { type: 'string' },
        'exec-root': { type: 'string' },
        host: { type: 'string', short: 'H', multiple: true },
        'log-level': { type: 'string' },
        pidfile: { type: 'string' },
        'name-prefix': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !isLogLevel(logLevel)) fail(`invalid log level "${logLevel}": expected trace, debug, info, warn or error`);
  const hosts = values.host ?? [];
  const unix = hosts.filter((h) => h.startsWith('unix://'));
  const tcp = hosts.filter((h) => h.startsWith('tcp://'));
  const other = hosts.filter((h) => !h.startsWith('unix://') && !h.startsWith('tcp://'));
  if (other.length) fail(`invalid host "${other[0]}": expected unix:///path or tcp://127.0.0.1:PORT`);
  if (unix.length > 1 || tcp.length > 1) fail('at most one unix:// and one tcp:// host');
  return {
    dataRoot: values['data-root'] ?? DEFAULT_DAEMON_CONFIG.dataRoot,
    execRoot: values['exec-root'] ?? DEFAULT_DAEMON_CONFIG.execRoot,
    host: unix[0] ?? DEFAULT_DAEMON_CONFIG.host,
    ...(tcp[0] ? { tcpHost: tcp[0] } : {}),
    ...(logLevel ? { logLevel } : {}),
    ...(values.pidfile ? { pidfile: values.pidfile } : {}),
    ...(values['name-prefix'] ? { namePrefix: values['name-prefix'] } : {}),
  };
}

try {
  await runDaemonUntilSignal(parseConfig(process.argv.slice(2)));
  process.exit(0);
} catch (err) {
  process.stderr.write(`berthd: ${(err as Error).message}\n`);
  process.exit(1);
}
