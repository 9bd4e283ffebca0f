// Where the engine listens: `--host` beats DOCKER_HOST beats berth's default socket.
import { BerthError } from '../util/index.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export type EngineEndpoint =
  | { kind: 'unix'; host: string; socketPath: string }
  | { kind: 'tcp'; host: string; origin: string };

/** Picks the host the same way the docker CLI does: flag, then DOCKER_HOST, then the default. */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  return DEFAULT_HOST;
}

/** Parses `unix:///path`, `tcp://host:port` or `http://host:port`; anything else is invalid. */
export function parseHost(host: string): EngineEndpoint {
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new BerthError('invalid-argument', `invalid host "${host}": the socket path must be absolute`);
    return { kind: 'unix', host, socketPath };
  }
  const m = /^(?:tcp|http):\/\/([^/]+?)(?::(\d+))?\/?$/.exec(host);
  if (m) {
    const port = m[2] ?? '2375';
    return { kind: 'tcp', host, origin: `http://${m[1]}:${port}` };
  }
  throw new BerthError('invalid-argument', `invalid host "${host}": expected unix:///path or tcp://host:port`);
}

export function isDefaultHost(host: string): boolean {
  return host === DEFAULT_HOST;
}
