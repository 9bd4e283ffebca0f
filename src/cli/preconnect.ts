// `berth run`'s first request, sent by the CLI's entry before it loads the run bundle: the
// daemon answers the /_ping while node reads, deserializes and runs ~190 KB of code (~4-5 ms),
// so the create can go out as soon as the command line is parsed instead of one round trip
// later. main.ts calls this; the Engine client (raw-http.ts) takes the socket for its own
// /_ping only if the bytes written on it are exactly that request on the socket it would
// connect to, and closes it otherwise, so the requests are the ones it would send itself.
import type { connect as netConnect } from 'node:net';
import type { PreconnectedSocket } from '../client/index.js';

/** client/host.ts's DEFAULT_HOST (this module stays out of the client: it runs before it loads). */
export const PRECONNECT_DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/** The /_ping as the Engine client writes it on a unix socket (raw-http.ts, engine-client.ts). */
export const PING_REQUEST = 'GET /_ping HTTP/1.1\r\nhost: api.moby.localhost\r\n\r\n';

/**
 * Connects to the daemon the client would pick (the -H value, DOCKER_HOST, the default) when
 * it is a unix socket, and writes the /_ping. The socket is paused so the answer waits in it
 * for the client; a failure is left for the client's own connect to meet and report.
 */
export function preconnect(hostFlag: string | undefined, env: NodeJS.ProcessEnv, connect: typeof netConnect): PreconnectedSocket | undefined {
  const host = hostFlag || env['DOCKER_HOST'] || PRECONNECT_DEFAULT_HOST;
  if (!host.startsWith('unix:///')) return undefined;
  const socketPath = host.slice('unix://'.length);
  const socket = connect(socketPath);
  // Until the client takes the socket; it then connects anew and meets the error itself.
  socket.on('error', () => undefined);
  socket.pause();
  const written = Buffer.from(PING_REQUEST, 'latin1');
  socket.write(written);
  return { socketPath, socket, written };
}
