// Health checks (image HEALTHCHECK and --health-*): probes run as exec sessions on a timer
// inside the daemon; status starting → healthy/unhealthy with Docker's FailingStreak and a
// log of the last 5 results. Timers are re-armed for running containers at daemon start.
import type { Container, ContainerService } from './container-service.js';
import type { HealthLogEntry } from './container-store.js';
import type { ExecManager } from './exec.js';

const NS_PER_MS = 1_000_000;
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT_BYTES = 4096;

export interface ProbeConfig {
  argv: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

/** The effective probe: --health-* over the image's HEALTHCHECK; undefined when none/disabled. */
export function probeConfigOf(c: Pick<Container, 'config'>): ProbeConfig | undefined {
  const spec = c.config.spec.healthcheck;
  const img = c.config.image.config.Healthcheck ?? undefined;
  const test = spec?.test && spec.test.length ? spec.test : img?.Test ?? undefined;
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined;
  let argv: string[];
  if (test[0] === 'CMD') argv = test.slice(1);
  else if (test[0] === 'CMD-SHELL') argv = ['/bin/sh', '-c', test.slice(1).join(' ')];
  else argv = test;
  if (argv.length === 0) return undefined;
  const pick = (a: number | undefined, b: number | undefined, def: number) => (a && a > 0 ? a / NS_PER_MS : b && b > 0 ? b / NS_PER_MS : def);
  return {
    argv,
    intervalMs: pick(spec?.intervalNs, img?.Interval, DEFAULT_INTERVAL_MS),
    timeoutMs: pick(spec?.timeoutNs, img?.Timeout, DEFAULT_TIMEOUT_MS),
    startPeriodMs: pick(spec?.startPeriodNs, img?.StartPeriod, 0),
    startIntervalMs: pick(spec?.startIntervalNs, img?.StartInterval, 5_000),
    retries: spec?.retries && spec.retries > 0 ? spec.retries : img?.Retries && img.Retries > 0 ? img.Retries : DEFAULT_RETRIES,
  };
}

/** Applies one probe result to the health state (pure; unit-tested). */
export function nextHealth(
  prev: { status: 'starting' | 'healthy' | 'unhealthy'; failingStreak: number; log: HealthLogEntry[] },
  result: HealthLogEntry,
  opts: { retries: number; inStartPeriod: boolean },
): { status: 'starting' | 'healthy' | 'unhealthy'; failingStreak: number; log: HealthLogEntry[] } {
  const log = [...prev.log, result].slice(-MAX_LOG_ENTRIES);
  if (result.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  if (opts.inStartPeriod && prev.status === 'starting') return { status: 'starting', failingStreak: prev.failingStreak, log };
  const streak = prev.failingStreak + 1;
  return { status: streak >= opts.retries ? 'unhealthy' : prev.status, failingStreak: streak, log };
}

export class HealthMonitor {
  constructor(
    private readonly containers: ContainerService,
    private readonly execs: ExecManager,
  ) {
    containers.healthArmer = (c) => this.arm(c);
    for (const c of containers.list()) if (c.state.status === 'running') this.arm(c);
  }

  arm(c: Container): void {
    clearTimeout(c.healthTimer);
    const cfg = probeConfigOf(c);
    if (!cfg || c.state.status !== 'running') return;
    const started = Date.parse(c.state.startedAt);
    const schedule = () => {
      const inStart = Date.now() - started < cfg.startPeriodMs && c.state.health?.status === 'starting';
      c.healthTimer = setTimeout(() => void this.probe(c, cfg, started).then(schedule, schedule), inStart ? Math.min(cfg.startIntervalMs, cfg.intervalMs) : cfg.intervalMs);
      c.healthTimer.unref();
    };
    schedule();
  }

  private async probe(c: Container, cfg: ProbeConfig, startedAt: number): Promise<void> {
    if (c.state.status !== 'running') return;
    const start = new Date();
    let exitCode: number;
    let output = '';
    try {
      const s = await this.execs.create(c.id, {
        cmd: cfg.argv, env: [], user: '', workingDir: '', tty: false,
        attachStdin: false, attachStdout: true, attachStderr: true, privileged: false, detachKeys: '',
      });
      const run = await this.execs.start(s.id, { signal: AbortSignal.timeout(cfg.timeoutMs + 5_000) });
      const reading = (async () => {
        for await (const rec of run.output) {
          if (output.length < MAX_OUTPUT_BYTES) output += rec.data.toString('utf8');
        }
      })().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), cfg.timeoutMs)));
      const r = await Promise.race([run.exitCode, timedOut]);
      clearTimeout(timer);
      if (r === 'timeout') {
        if (s.pid > 0) {
          try {
            process.kill(s.pid, 'SIGKILL');
          } catch {
            // It ended on its own in the meantime.
          }
        }
        exitCode = -1;
        output = `Health check exceeded timeout (${cfg.timeoutMs / 1000}s)`;
      } else {
        exitCode = r;
        await reading;
      }
    } catch (err) {
      exitCode = -1;
      output = err instanceof Error ? err.message : String(err);
    }
    if (c.state.status !== 'running') return;
    const prev = c.state.health ?? { status: 'starting' as const, failingStreak: 0, log: [] };
    const next = nextHealth(prev, { start: start.toISOString(), end: new Date().toISOString(), exitCode, output: output.slice(0, MAX_OUTPUT_BYTES) }, {
      retries: cfg.retries,
      inStartPeriod: Date.now() - startedAt < cfg.startPeriodMs,
    });
    this.containers.setHealth(c, next);
  }
}
