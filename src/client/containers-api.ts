// Typed container and exec calls over EngineClient's generic request/stream. Attach and
// exec start are hijacked connections (EngineClient.hijack); their output and the logs
// body are framed unless the container has a TTY (stdio-frames.ts reads the frames).
import type { Readable } from 'node:stream';
import { BerthError } from '../util/index.js';
import { encodeFilters, readBodyText, type EngineClient, type Filters } from './engine-client.js';
import type {
  ContainerChange,
  ContainerCommitResponse,
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspectResponse,
  ContainerPruneResponse,
  ContainerSummary,
  ContainerTopResponse,
  ContainerUpdateResponse,
  ContainerWaitResponse,
  ExecConfig,
  ExecInspectResponse,
  HostConfig,
} from './types/containers.js';

const enc = encodeURIComponent;

export interface ContainerListOptions {
  all?: boolean;
  limit?: number;
  size?: boolean;
  filters?: Filters;
  signal?: AbortSignal;
}

export interface LogsOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  since?: string;
  until?: string;
  timestamps?: boolean;
  tail?: string;
  /** Add the extra attributes given to the log driver (`--log-opt labels/env`). */
  details?: boolean;
  signal?: AbortSignal;
}

/** Docker's `X-Docker-Container-Path-Stat` header, decoded. */
export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export const PATH_STAT_HEADER = 'x-docker-container-path-stat';

export function decodePathStat(header: string | string[] | undefined): ContainerPathStat | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  try {
    return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as ContainerPathStat;
  } catch (err) {
    throw new BerthError('internal', 'the daemon sent an unreadable path stat header', { cause: err });
  }
}

/** Go's os.ModeDir bit in a path stat's mode. */
export const GO_MODE_DIR = 0x80000000;
export const GO_MODE_SYMLINK = 0x08000000;

export type ResourceUpdate = Pick<
  HostConfig,
  'Memory' | 'MemorySwap' | 'MemoryReservation' | 'NanoCpus' | 'CpuShares' | 'CpuQuota' | 'CpuPeriod' | 'CpusetCpus' | 'CpusetMems' | 'PidsLimit' | 'BlkioWeight' | 'RestartPolicy'
>;

/** Container and exec endpoints of the Engine API. */
export class ContainersApi {
  constructor(readonly client: EngineClient) {}

  create(body: ContainerCreateRequest, opts: { name?: string; platform?: string; signal?: AbortSignal } = {}): Promise<ContainerCreateResponse> {
    return this.client.request('POST', '/containers/create', { query: { name: opts.name, platform: opts.platform }, body, signal: opts.signal });
  }

  list(opts: ContainerListOptions = {}): Promise<ContainerSummary[]> {
    return this.client.request('GET', '/containers/json', {
      query: { all: opts.all || undefined, limit: opts.limit, size: opts.size || undefined, filters: encodeFilters(opts.filters) },
      signal: opts.signal,
    });
  }

  inspect(id: string, opts: { size?: boolean; signal?: AbortSignal } = {}): Promise<ContainerInspectResponse> {
    return this.client.request('GET', `/containers/${enc(id)}/json`, { query: { size: opts.size || undefined }, signal: opts.signal });
  }

  async start(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.client.request('POST', `/containers/${enc(id)}/start`, opts);
  }

  async stop(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.client.request('POST', `/containers/${enc(id)}/stop`, { query: { t: opts.timeout, signal: opts.signal } });
  }

  async restart(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.client.request('POST', `/containers/${enc(id)}/restart`, { query: { t: opts.timeout, signal: opts.signal } });
  }

  async kill(id: string, signal?: string): Promise<void> {
    await this.client.request('POST', `/containers/${enc(id)}/kill`, { query: { signal } });
  }

  async remove(id: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.client.request('DELETE', `/containers/${enc(id)}`, { query: { force: opts.force || undefined, v: opts.volumes || undefined } });
  }

  /**
   * Registers a wait: resolves once the daemon has answered the headers (so a container
   * started afterwards cannot exit unseen); `result` resolves when the condition is met.
   */
  async waitStarted(
    id: string,
    condition: 'not-running' | 'next-exit' | 'removed' = 'not-running',
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ result: Promise<ContainerWaitResponse> }> {
    const res = await this.client.stream('POST', `/containers/${enc(id)}/wait`, { query: { condition }, signal: opts.signal, longLived: true });
    const result = (async () => {
      const text = await readBodyText(res.body);
      try {
        return JSON.parse(text) as ContainerWaitResponse;
      } catch (err) {
        throw new BerthError('internal', 'the daemon answered the wait with invalid JSON', { cause: err });
      }
    })();
    return { result };
  }

  async wait(id: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running'): Promise<ContainerWaitResponse> {
    return (await this.waitStarted(id, condition)).result;
  }

  /** The raw logs body: multiplexed unless the container has a TTY. */
  async logs(id: string, opts: LogsOptions = {}): Promise<Readable> {
    const res = await this.client.stream('GET', `/containers/${enc(id)}/logs`, {
      query: {
        follow: opts.follow || undefined,
        stdout: opts.stdout ?? true,
        stderr: opts.stderr ?? true,
        since: opts.since,
        until: opts.until,
        timestamps: opts.timestamps || undefined,
        tail: opts.tail,
        details: opts.details || undefined,
      },
      signal: opts.signal,
      longLived: true,
    });
    return res.body;
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    await this.client.request('POST', `/containers/${enc(id)}/resize`, { query: { h: height, w: width } });
  }

  top(id: string, psArgs?: string): Promise<ContainerTopResponse> {
    return this.client.request('GET', `/containers/${enc(id)}/top`, { query: { ps_args: psArgs } });
  }

  /** Stats as JSON lines (stream) or one object; the caller reads the body. */
  async stats(id: string, opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal }): Promise<Readable> {
    const res = await this.client.stream('GET', `/containers/${enc(id)}/stats`, {
      query: { stream: opts.stream, 'one-shot': opts.oneShot || undefined },
      signal: opts.signal,
      longLived: opts.stream,
    });
    return res.body;
  }

  changes(id: string): Promise<ContainerChange[] | null> {
    return this.client.request('GET', `/containers/${enc(id)}/changes`);
  }

  async export(id: string, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    return (await this.client.stream('GET', `/containers/${enc(id)}/export`, { signal: opts.signal, longLived: true })).body;
  }

  async statPath(id: string, path: string): Promise<ContainerPathStat> {
    const res = await this.client.stream('HEAD', `/containers/${enc(id)}/archive`, { query: { path } });
    res.body.resume();
    const st = decodePathStat(res.headers[PATH_STAT_HEADER]);
    if (!st) throw new BerthError('internal', 'the daemon did not send the path stat header');
    return st;
  }

  async getArchive(id: string, path: string, opts: { signal?: AbortSignal } = {}): Promise<{ stat: ContainerPathStat | undefined; body: Readable }> {
    const res = await this.client.stream('GET', `/containers/${enc(id)}/archive`, { query: { path }, signal: opts.signal, longLived: true });
    return { stat: decodePathStat(res.headers[PATH_STAT_HEADER]), body: res.body };
  }

  async putArchive(
    id: string,
    path: string,
    tar: Readable | AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    opts: { copyUIDGID?: boolean; noOverwriteDirNonDir?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.client.request('PUT', `/containers/${enc(id)}/archive`, {
      query: { path, copyUIDGID: opts.copyUIDGID || undefined, noOverwriteDirNonDir: opts.noOverwriteDirNonDir || undefined },
      body: tar,
      contentType: 'application/x-tar',
      signal: opts.signal,
      longLived: true,
    });
  }

  commit(
    id: string,
    opts: { repo?: string; tag?: string; comment?: string; author?: string; pause?: boolean; changes?: string[] } = {},
  ): Promise<ContainerCommitResponse> {
    return this.client.request('POST', '/commit', {
      query: {
        container: id,
        repo: opts.repo,
        tag: opts.tag,
        comment: opts.comment,
        author: opts.author,
        pause: opts.pause ?? true,
        changes: opts.changes?.length ? opts.changes : undefined,
      },
      body: {},
    });
  }

  async rename(id: string, name: string): Promise<void> {
    await this.client.request('POST', `/containers/${enc(id)}/rename`, { query: { name } });
  }

  async pause(id: string): Promise<void> {
    await this.client.request('POST', `/containers/${enc(id)}/pause`);
  }

  async unpause(id: string): Promise<void> {
    await this.client.request('POST', `/containers/${enc(id)}/unpause`);
  }

  update(id: string, resources: ResourceUpdate): Promise<ContainerUpdateResponse> {
    return this.client.request('POST', `/containers/${enc(id)}/update`, { body: resources });
  }

  prune(opts: { filters?: Filters } = {}): Promise<ContainerPruneResponse> {
    return this.client.request('POST', '/containers/prune', { query: { filters: encodeFilters(opts.filters) } });
  }

  execCreate(id: string, config: ExecConfig): Promise<{ Id: string }> {
    return this.client.request('POST', `/containers/${enc(id)}/exec`, { body: config });
  }

  /** Starts a detached exec (no output is read). */
  async execStartDetached(execId: string, tty: boolean): Promise<void> {
    await this.client.request('POST', `/exec/${enc(execId)}/start`, { body: { Detach: true, Tty: tty } });
  }

  execInspect(execId: string): Promise<ExecInspectResponse> {
    return this.client.request('GET', `/exec/${enc(execId)}/json`);
  }

  async execResize(execId: string, height: number, width: number): Promise<void> {
    await this.client.request('POST', `/exec/${enc(execId)}/resize`, { query: { h: height, w: width } });
  }
}
