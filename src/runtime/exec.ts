// `docker exec`: each session runs under its own conmon (`--exec`); the exit code lands in an
// exit file, just like a container's. An attached session's output comes from conmon's attach
// socket (`--exec-attach`: conmon runs the process only once we are connected), stdout and
// stderr apart, and is written nowhere else: like dockerd, a detached session's output is
// dropped. Sessions are kept in memory and recorded in the container's dir (exec-store.ts),
// so they survive a daemon restart and go with their container.
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, errorMessage, notFound, writeFileAtomic } from '../util/index.js';
import { forwardStdin } from './attach.js';
import { computeCapabilities, readBoundingSet } from './capabilities.js';
import { readExitFile, resizeTerminal, startConmon } from './conmon.js';
import type { Container, ContainerService } from './container-service.js';
import { EXEC_KILLED_EXIT_CODE, execDirOf, saveExecRecord, type ExecRecord, type ExecSpec } from './exec-store.js';
import { HealthMonitor } from './health.js';
import { prepareSessionOutput, type SessionOutput } from './attach-output.js';
import type { LogRecord } from './logs.js';
import { mergeEnv, type OciProcess } from './oci-spec.js';
import { processStartTime } from './proc.js';
import { resolveUser } from './user.js';

export type { ExecSpec } from './exec-store.js';

export interface ExecSession extends Omit<ExecRecord, 'version'> {
  dir: string;
  exited: Promise<number>;
  resolveExit(code: number): void;
  /** The last write of the session's record (writes are chained, so the newest state lands last). */
  saved: Promise<void>;
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
    // Sessions recorded before a daemon restart (read and settled by ContainerService.init).
    for (const c of containers.list()) for (const rec of c.restoredExecs.splice(0)) this.adopt(c, rec);
    this.trim();
    // A removed container's sessions go with it (their files went with its directory).
    containers.opts.events.subscribe((e) => {
      if (e.type === 'container' && e.action === 'destroy') this.forgetSessionsOf(e.actor.id);
    });
    // Health probes are exec sessions: the monitor lives with the sessions it runs.
    this.health = new HealthMonitor(containers, this);
  }

  async create(containerRef: string, spec: ExecSpec): Promise<ExecSession> {
    const c = this.containers.get(containerRef);
    // dockerd names a paused container as it was asked for, one that is not running by its id.
    if (c.state.status === 'paused') throw new BerthError('conflict', `Container ${containerRef} is paused, unpause the container before exec`);
    if (c.state.status !== 'running') throw new BerthError('conflict', `Container ${c.id} is not running`);
    if (spec.cmd.length === 0) throw new BerthError('invalid-argument', 'No exec command specified');
    const s = newSession(c, {
      id: randomBytes(32).toString('hex'),
      containerId: c.id,
      created: new Date().toISOString(),
      spec,
      started: false,
      running: false,
      exitCode: null,
      pid: 0,
      conmonPid: 0,
    });
    this.sessions.set(s.id, s);
    // The id is answered only once it is on disk: a restarted daemon knows every id it gave out.
    try {
      // Not recursive above exec/: a container directory removed meanwhile is not made again.
      await mkdir(join(c.dir, 'exec')).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      await mkdir(s.dir);
      await this.save(c, s);
    } catch (err) {
      this.sessions.delete(s.id);
      await rm(s.dir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
    this.trim();
    this.containers.publish(c, `exec_create: ${spec.cmd.join(' ')}`, { execID: s.id });
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

  /** Starts a session; `detach` (`exec -d`): nobody reads its output, which is dropped. */
  async start(id: string, opts: { signal?: AbortSignal; detach?: boolean } = {}): Promise<ExecRun> {
    const s = this.get(id);
    if (s.started) throw new BerthError('conflict', `Error: Exec command ${id} has already run`);
    const c = this.containers.get(s.containerId);
    if (c.state.status !== 'running') throw new BerthError('conflict', `Container ${c.id} is not running`);
    s.started = true;
    const specPath = join(s.dir, 'process.json');
    let watcher: { check(): Promise<void>; close(): void } | undefined;
    let output: SessionOutput | undefined;
    try {
      await mkdir(join(s.dir, 'exits'), { recursive: true });
      const proc = await this.processSpec(c, s.spec);
      await writeFileAtomic(specPath, JSON.stringify(proc), { durable: false });
      if (!opts.detach && (s.spec.attachStdout || s.spec.attachStderr)) {
        output = await prepareSessionOutput(this.containers.sockets, s.id, s.dir, opts.signal);
      }
      // Watched before conmon starts, so an exit as fast as the start is not missed.
      watcher = this.watchSession(c, s);
      const started = await startConmon(this.containers.runc, {
        id: c.id,
        uuid: s.id,
        name: c.name,
        bundle: s.dir,
        exitDir: join(s.dir, 'exits'),
        logSizeMax: 0,
        socketDir: this.containers.sockets,
        tty: s.spec.tty,
        stdin: s.spec.attachStdin,
        execProcessSpec: specPath,
        ...(output ? { attach: output } : {}),
        signal: opts.signal,
      });
      const [pidStartTime, conmonStartTime] = await Promise.all([processStartTime(started.pid), processStartTime(started.conmonPid)]);
      Object.assign(s, { pid: started.pid, pidStartTime, conmonPid: started.conmonPid, conmonStartTime, running: true });
      c.execIds.add(s.id);
    } catch (err) {
      // Like dockerd: a start that fails (user lookup, runc) ends the exec with 127 or 126.
      watcher?.close();
      await output?.records.return(undefined);
      const e = translateExecError(err);
      this.settle(c, s, execStartFailureCode(errorMessage(e)));
      throw e;
    }
    // The process runs: a failed write is logged (in save), not an error of the start.
    await this.save(c, s).catch(() => undefined);
    this.containers.publish(c, `exec_start: ${s.spec.cmd.join(' ')}`, { execID: s.id });
    void watcher!.check();
    const socketDir = this.containers.sockets;
    return {
      output: output ? thenExit(output.records, s.exited) : noOutputUntil(s.exited),
      exitCode: s.exited,
      attachStdin: async (input: Readable) => {
        if (!s.spec.attachStdin || !s.running) return;
        const fwd = await forwardStdin(socketDir, s.id, input);
        // The connection stays open (and drained) after the input's end, until the session
        // ends, as a container attach's does. Closed right away, conmon 2.1.6 now and then kept
        // the process's stdin open for good (`exec -i … cat` hung 1-5 times in 30): its write of
        // the echoed output to our closed connection failed first, and its handling of our end
        // of input then skipped closing stdin.
        await s.exited;
        fwd.close();
      },
    };
  }

  /** A session read back after a daemon restart; a running one is watched again. */
  private adopt(c: Container, rec: ExecRecord): void {
    const s = newSession(c, rec);
    this.sessions.set(s.id, s);
    if (s.running) {
      c.execIds.add(s.id);
      void this.watchSession(c, s).check();
    } else if (s.exitCode !== null) {
      s.resolveExit(s.exitCode);
    }
  }

  /**
   * Ends the session when conmon's exit file appears (inotify on its `exits/`), or with 137
   * when the container exits first (its execs die with it). `check` looks once more (the exit
   * may predate the watch).
   */
  private watchSession(c: Container, s: ExecSession): { check(): Promise<void>; close(): void } {
    const exitDir = join(s.dir, 'exits');
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(exitDir, { persistent: true }, () => void check());
      watcher.on('error', () => undefined);
    } catch (err) {
      // No exits/ to watch (a record whose files went): the container's exit still ends it.
      this.containers.log.warn('cannot watch an exec session', { container: c.id.slice(0, 12), exec: s.id.slice(0, 12), error: errorMessage(err) });
    }
    const check = async () => {
      const exit = await readExitFile(exitDir, c.id);
      if (exit && s.running) this.settle(c, s, exit.exitCode);
    };
    void s.exited.then(() => watcher?.close());
    void c.nextExit.promise.then(() => {
      if (s.running) this.settle(c, s, EXEC_KILLED_EXIT_CODE);
    });
    return { check, close: () => watcher?.close() };
  }

  /** Records the session's end (once), wakes its waiters and saves it. */
  private settle(c: Container, s: ExecSession, exitCode: number): void {
    if (s.exitCode !== null) return;
    const wasRunning = s.running;
    s.running = false;
    s.exitCode = exitCode;
    c.execIds.delete(s.id);
    if (wasRunning) this.containers.publish(c, 'exec_die', { execID: s.id, exitCode: String(exitCode) });
    s.resolveExit(exitCode);
    void this.save(c, s).catch(() => undefined);
  }

  /** Chains a write of the session's record after the previous one; failures are logged, not thrown to the next. */
  private save(c: Container, s: ExecSession): Promise<void> {
    const rec: ExecRecord = { version: 1, ...recordFields(s) };
    s.saved = s.saved.then(
      () => saveExecRecord(c.dir, rec),
      () => saveExecRecord(c.dir, rec),
    );
    s.saved.catch((err: unknown) => this.containers.log.warn('cannot record exec session', { container: c.id.slice(0, 12), exec: s.id.slice(0, 12), error: errorMessage(err) }));
    return s.saved;
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
      ? computeCapabilities({ privileged: true, capAdd: [], capDrop: [], bounding: base.capabilities.bounding.length ? await readBoundingSet() : [] })
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

  /** Drops a removed container's sessions (their files went with the container's directory). */
  private forgetSessionsOf(containerId: string): void {
    for (const [id, s] of this.sessions) if (s.containerId === containerId) this.sessions.delete(id);
  }

  private trim(): void {
    const finished = [...this.sessions.values()].filter((s) => s.started && !s.running);
    for (const s of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED))) {
      this.sessions.delete(s.id);
      void rm(s.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

function newSession(c: Container, rec: Omit<ExecRecord, 'version'>): ExecSession {
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  return { ...recordFields(rec), dir: execDirOf(c.dir, rec.id), exited, resolveExit, saved: Promise.resolve() };
}

/** The persistent part of a session (exec-store's record without its version). */
function recordFields(s: Omit<ExecRecord, 'version'>): Omit<ExecRecord, 'version'> {
  const { id, containerId, created, spec, started, running, exitCode, pid, pidStartTime, conmonPid, conmonStartTime } = s;
  return { id, containerId, created, spec, started, running, exitCode, pid, pidStartTime, conmonPid, conmonStartTime };
}

/** runc's exec errors in Docker's words (the CLI prints them; `docker exec` exits with the exec's code). */
export function translateExecError(err: unknown): Error {
  const msg = errorMessage(err);
  const RUNC_PREFIX = 'OCI runtime create failed: ';
  if (!msg.startsWith(RUNC_PREFIX)) return err instanceof Error ? err : new BerthError('internal', msg);
  let detail = msg.slice(RUNC_PREFIX.length);
  const START = 'exec failed: unable to start container process: ';
  if (!detail.startsWith(START)) detail = START + detail;
  return new BerthError('invalid-argument', `OCI runtime exec failed: ${detail}: unknown`, { cause: err });
}

/** dockerd's exit code for an exec that could not start: 127 not found, 126 otherwise. */
export function execStartFailureCode(message: string): number {
  return /executable file not found|no such file or directory/.test(message) ? 127 : 126;
}

/**
 * The output, ended only once the exit is recorded: the docker CLI asks for the exit code as
 * soon as the stream ends, and conmon closes its socket right after writing the exit file.
 */
async function* thenExit(records: AsyncGenerator<LogRecord>, exited: Promise<number>): AsyncGenerator<LogRecord> {
  yield* records;
  await exited;
}

/** The output of a session whose output nobody reads (detached, or attached to stdin only): none, until it exits. */
async function* noOutputUntil(exited: Promise<number>): AsyncGenerator<LogRecord> {
  await exited;
}
