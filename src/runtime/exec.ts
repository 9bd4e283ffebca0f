// `docker exec`: each session runs under its own conmon (`--exec`), so output goes to a
// k8s-file log with stdout and stderr apart and the exit code lands in an exit file, just
// like a container's. Sessions are kept in memory; their files live in the container dir.
import { randomBytes } from 'node:crypto';
import { watch } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, errorMessage, notFound, writeFileAtomic } from '../util/index.js';
import { forwardStdin } from './attach.js';
import { computeCapabilities } from './capabilities.js';
import { readExitFile, resizeTerminal, startConmon } from './conmon.js';
import type { Container, ContainerService } from './container-service.js';
import { HealthMonitor } from './health.js';
import { readLog, type LogRecord } from './logs.js';
import { mergeEnv, type OciProcess } from './oci-spec.js';
import { resolveUser } from './user.js';

export interface ExecSpec {
  cmd: string[];
  env: string[];
  user: string;
  workingDir: string;
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  privileged: boolean;
  detachKeys: string;
}

export interface ExecSession {
  id: string;
  containerId: string;
  spec: ExecSpec;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  dir: string;
  exited: Promise<number>;
  resolveExit(code: number): void;
}

/** A started exec: its output (until it exits) and its exit code. */
export interface ExecRun {
  output: AsyncGenerator<LogRecord>;
  exitCode: Promise<number>;
  /** Copies the client's input into the exec's stdin (when it was created with AttachStdin). */
  attachStdin(input: Readable): Promise<void>;
}

/** Sessions that ended are forgotten after this many newer ones (bounded memory). */
const MAX_FINISHED = 256;

export class ExecManager {
  private readonly sessions = new Map<string, ExecSession>();

  readonly health: HealthMonitor;

  constructor(private readonly containers: ContainerService) {
    // Health probes are exec sessions: the monitor lives with the sessions it runs.
    this.health = new HealthMonitor(containers, this);
  }

  create(containerRef: string, spec: ExecSpec): ExecSession {
    const c = this.containers.get(containerRef);
    if (c.state.status === 'paused') throw new BerthError('conflict', `Container ${c.id} is paused, unpause the container before exec`);
    if (c.state.status !== 'running') throw new BerthError('conflict', `Container ${c.id} is not running`);
    if (spec.cmd.length === 0) throw new BerthError('invalid-argument', 'No exec command specified');
    const id = randomBytes(32).toString('hex');
    let resolveExit!: (code: number) => void;
    const exited = new Promise<number>((r) => (resolveExit = r));
    const s: ExecSession = {
      id,
      containerId: c.id,
      spec,
      running: false,
      started: false,
      exitCode: null,
      pid: 0,
      dir: join(c.dir, 'exec', id.slice(0, 16)),
      exited,
      resolveExit,
    };
    this.sessions.set(id, s);
    this.trim();
    this.containers.publish(c, `exec_create: ${spec.cmd.join(' ')}`, { execID: id });
    return s;
  }

  get(id: string): ExecSession {
    const s = this.sessions.get(id);
    if (!s) throw notFound(`No such exec instance: ${id}`);
    return s;
  }

  /** ids of the sessions of one container (inspect's ExecIDs). */
  idsOf(containerId: string): string[] {
    return [...this.sessions.values()].filter((s) => s.containerId === containerId && s.running).map((s) => s.id);
  }

  async start(id: string, opts: { signal?: AbortSignal } = {}): Promise<ExecRun> {
    const s = this.get(id);
    if (s.started) throw new BerthError('conflict', `Error: Exec command ${id} has already run`);
    const c = this.containers.get(s.containerId);
    if (c.state.status !== 'running') throw new BerthError('conflict', `Container ${c.id} is not running`);
    s.started = true;
    await mkdir(join(s.dir, 'exits'), { recursive: true });
    const proc = await this.processSpec(c, s.spec);
    const specPath = join(s.dir, 'process.json');
    await writeFileAtomic(specPath, JSON.stringify(proc), { durable: false });
    const logPath = join(s.dir, 'exec.log');
    // The log exists before conmon starts so the reader below never misses a line.
    await writeFileAtomic(logPath, '', { durable: false });
    const exitDir = join(s.dir, 'exits');
    const watcher = watch(exitDir, { persistent: true }, () => void check());
    watcher.on('error', () => undefined);
    const check = async () => {
      const exit = await readExitFile(exitDir, c.id);
      if (!exit || !s.running) return;
      s.running = false;
      s.exitCode = exit.exitCode;
      watcher.close();
      this.containers.publish(c, `exec_die`, { execID: s.id, exitCode: String(exit.exitCode) });
      s.resolveExit(exit.exitCode);
    };
    try {
      const started = await startConmon(this.containers.runc, {
        id: c.id,
        uuid: s.id,
        name: c.name,
        bundle: s.dir,
        exitDir,
        logPath,
        logSizeMax: 0,
        socketDir: this.containers.sockets,
        tmpDir: this.containers.execRoot,
        tty: s.spec.tty,
        stdin: s.spec.attachStdin,
        execProcessSpec: specPath,
        signal: opts.signal,
      });
      s.pid = started.pid;
      s.running = true;
      c.execIds.add(s.id);
      void s.exited.then(() => c.execIds.delete(s.id));
    } catch (err) {
      watcher.close();
      s.exitCode = 126;
      s.resolveExit(126);
      throw translateExecError(err);
    }
    this.containers.publish(c, `exec_start: ${s.spec.cmd.join(' ')}`, { execID: s.id });
    void check();
    // The container exiting ends every exec in it.
    void c.nextExit.promise.then(() => {
      if (s.running) {
        s.running = false;
        s.exitCode = 137;
        watcher.close();
        s.resolveExit(137);
      }
    });
    const socketDir = this.containers.sockets;
    return {
      output: readLog(logPath, { follow: true, done: s.exited, signal: opts.signal }),
      exitCode: s.exited,
      attachStdin: async (input: Readable) => {
        if (!s.spec.attachStdin || !s.running) return;
        const fwd = await forwardStdin(socketDir, s.id, input);
        await Promise.race([fwd.done, s.exited]);
        fwd.close();
      },
    };
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const s = this.get(id);
    if (!s.running) throw new BerthError('conflict', `Exec ${id} is not running`);
    if (!s.spec.tty) return;
    await resizeTerminal(s.dir, height, width);
  }

  /** The exec's process: the container's own process settings with the exec's overrides. */
  private async processSpec(c: Container, spec: ExecSpec): Promise<OciProcess> {
    const bundleSpec = JSON.parse(await readFile(join(c.bundle, 'config.json'), 'utf8')) as { process: OciProcess };
    const base = bundleSpec.process;
    const user = spec.user ? await resolveUser(c.rootfs, spec.user, []) : undefined;
    const caps = spec.privileged
      ? computeCapabilities({ privileged: true, capAdd: [], capDrop: [], bounding: base.capabilities.bounding.length ? await this.bounding() : [] })
      : base.capabilities.bounding;
    const env = mergeEnv(base.env, spec.env);
    if (spec.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
    return {
      terminal: spec.tty,
      user: user ? { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) } : base.user,
      args: spec.cmd,
      env,
      cwd: spec.workingDir || base.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: base.noNewPrivileges,
      ...(base.rlimits ? { rlimits: base.rlimits } : {}),
    };
  }

  private async bounding(): Promise<string[]> {
    const { readBoundingSet } = await import('./capabilities.js');
    return readBoundingSet();
  }

  /** Removes the files of a container's sessions (at container removal). */
  async forgetContainer(containerId: string, dir: string): Promise<void> {
    for (const [id, s] of this.sessions) if (s.containerId === containerId) this.sessions.delete(id);
    await rm(join(dir, 'exec'), { recursive: true, force: true });
  }

  private trim(): void {
    const finished = [...this.sessions.values()].filter((s) => s.started && !s.running);
    for (const s of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED))) {
      this.sessions.delete(s.id);
      void rm(s.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** runc's exec errors in Docker's words (the CLI derives 126/127 from them). */
function translateExecError(err: unknown): Error {
  const msg = errorMessage(err);
  if (/executable file not found|no such file or directory/.test(msg)) {
    return new BerthError('invalid-argument', `OCI runtime exec failed: exec failed: unable to start container process: ${msg.replace(/^OCI runtime create failed: /, '')}: unknown`, { cause: err });
  }
  if (/permission denied/.test(msg)) {
    return new BerthError('invalid-argument', `OCI runtime exec failed: exec failed: unable to start container process: ${msg.replace(/^OCI runtime create failed: /, '')}: unknown`, { cause: err });
  }
  return err instanceof Error ? err : new BerthError('internal', msg);
}
