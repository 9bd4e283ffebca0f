// The flags that come before the command word (`berth -H unix:///x.sock run …`). program.ts
// gives them to commander; quick-argv.ts reads them the same way for the `run` fast path.
import type { OptionSpec } from './command-spec.js';

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { flags: '-H, --host <string>', description: 'Daemon socket to connect to (default $DOCKER_HOST or unix:///run/berth/berth.sock)' },
  { flags: '--data-root <dir>', description: 'Data root used when the daemon is started on demand (default /var/lib/berth)' },
  { flags: '-D, --debug', description: 'Enable debug mode' },
  { flags: '-l, --log-level <string>', description: 'Set the logging level ("trace"|"debug"|"info"|"warn"|"error")' },
  { flags: '-v, --version', description: 'Print version information and quit' },
];
