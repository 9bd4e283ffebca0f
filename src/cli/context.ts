// What every command receives: the global flags, the output streams, and a lazily
// created Engine API client that starts berthd on demand when the default socket is dead.
import type { EngineClient, PreconnectedSocket } from '../client/index.js';

export interface GlobalOptions {
  host?: string;
  dataRoot?: string;
  debug?: boolean;
  logLevel?: string;
}

export const DEFAULT_DATA_ROOT = '/var/lib/berth';
export const DEFAULT_EXEC_ROOT = '/run/berth';

/**
 * The CLI's requests go over raw-http.ts (client/), not node:http: a `berth` process makes a
 * few requests and exits, and node:http's start-up is ~4-5 ms of CPU of each run.
 */
const CLI_TRANSPORT = 'socket';

/**
 * A client main.ts made before the command's modules loaded, its /_ping already sent: the
 * round trip overlaps the loading, and its kept-alive connection carries the first request.
 */
export interface EarlyClient {
  host: string;
  client: EngineClient;
}

/**
 * Creates the client for `hostFlag` and sends its /_ping at once (on `preconnected`, where
 * main.ts already wrote it). Undefined for a host that does not parse; a failed ping is left
 * for the command to meet and report as always.
 */
export function earlyClient(
  client: typeof import('../client/index.js'),
  hostFlag: string | undefined,
  preconnected?: PreconnectedSocket,
): EarlyClient | undefined {
  try {
    const host = client.resolveHost(hostFlag);
    const c = new client.EngineClient({ host, transport: CLI_TRANSPORT, preconnected });
    c.apiVersion().catch(() => undefined);
    return { host, client: c };
  } catch {
    preconnected?.socket.destroy();
    return undefined;
  }
}

export class CommandContext {
  readonly globals: GlobalOptions;
  /** `image ls`: the name the command was invoked by (for messages). */
  readonly commandName: string;
  /** process.stdout, made when first used (main.ts: a silent `berth run` never makes it). */
  get stdout(): NodeJS.WriteStream {
    return process.stdout;
  }

  get stderr(): NodeJS.WriteStream {
    return process.stderr;
  }
  private clientPromise: Promise<EngineClient> | undefined;
  private opened: EngineClient | undefined;

  private early: EarlyClient | undefined;

  constructor(globals: GlobalOptions, commandName: string, early?: EarlyClient) {
    this.globals = globals;
    this.commandName = commandName;
    this.early = early;
  }

  /** Writes to stdout, waiting when the pipe is full (large outputs, slow readers). */
  async print(text: string): Promise<void> {
    if (!this.stdout.write(text)) await new Promise<void>((r) => this.stdout.once('drain', r));
  }

  warn(text: string): void {
    this.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A connected client (API version negotiated); starts berthd if the default socket is dead. */
  client(): Promise<EngineClient> {
    this.clientPromise ??= this.connect();
    return this.clientPromise;
  }

  private async connect(): Promise<EngineClient> {
    const { EngineClient, resolveHost, isDefaultHost, DaemonUnreachableError } = await import('../client/index.js');
    const host = resolveHost(this.globals.host);
    const client = this.early?.host === host ? this.early.client : new EngineClient({ host, transport: CLI_TRANSPORT });
    this.opened = client;
    try {
      await client.apiVersion();
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError) || !isDefaultHost(host)) throw err;
      const { ensureDaemon } = await import('./daemon-autostart.js');
      await ensureDaemon({ host, dataRoot: this.globals.dataRoot ?? DEFAULT_DATA_ROOT, logLevel: this.globals.logLevel, stderr: this.stderr });
      await client.apiVersion();
    }
    return client;
  }

  async close(): Promise<void> {
    await this.opened?.close();
  }
}
