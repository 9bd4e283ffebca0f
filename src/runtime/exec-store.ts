// Exec instances on disk: `containers/<id>/exec/<id16>/exec.json`, written atomically at
// create, start and exit, so a berthd restarted after a kill -9 still answers for them
// (inspect: Running, ExitCode, Pid, ProcessConfig). The files go with the container's dir.
// After a restart a record that was running is settled from conmon's exit file, or kept
// running while its conmon (same pid, same start time) is alive.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/index.js';
import { readExitFile } from './conmon.js';
import { isSameProcess } from './proc.js';

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

export interface ExecRecord {
  version: 1;
  id: string;
  containerId: string;
  /** ISO time of `exec create`; orders records when they are read back. */
  created: string;
  spec: ExecSpec;
  started: boolean;
  running: boolean;
  exitCode: number | null;
  /** The exec's process (host pid) and conmon's, each with its /proc start time. */
  pid: number;
  pidStartTime?: string;
  conmonPid: number;
  conmonStartTime?: string;
}

/** Exit code of an exec whose conmon went away without writing an exit file (like a container's). */
export const EXEC_MONITOR_LOST_EXIT_CODE = 255;
/** Exit code of an exec still running when its container ended (killed with the container). */
export const EXEC_KILLED_EXIT_CODE = 137;

const specSchema = z.object({
  cmd: z.array(z.string()),
  env: z.array(z.string()),
  user: z.string(),
  workingDir: z.string(),
  tty: z.boolean(),
  attachStdin: z.boolean(),
  attachStdout: z.boolean(),
  attachStderr: z.boolean(),
  privileged: z.boolean(),
  detachKeys: z.string(),
});

const recordSchema = z.object({
  version: z.literal(1),
  id: z.string().regex(/^[a-f0-9]{64}$/),
  containerId: z.string().regex(/^[a-f0-9]{64}$/),
  created: z.string(),
  spec: specSchema,
  started: z.boolean(),
  running: z.boolean(),
  exitCode: z.number().nullable(),
  pid: z.number(),
  pidStartTime: z.string().optional(),
  conmonPid: z.number(),
  conmonStartTime: z.string().optional(),
});

/** The directory of one exec session (process.json, exec.log, exits/, exec.json). */
export function execDirOf(containerDir: string, execId: string): string {
  return join(containerDir, 'exec', execId.slice(0, 16));
}

/**
 * Not fsynced: a kill -9 of berthd loses nothing written (the page cache survives it); a
 * power loss loses execs whose processes are gone as well.
 */
export async function saveExecRecord(containerDir: string, rec: ExecRecord): Promise<void> {
  await writeJsonAtomic(join(execDirOf(containerDir, rec.id), 'exec.json'), rec, { durable: false });
}

/** Every readable record of one container, oldest first; unreadable ones are skipped. */
export async function loadExecRecords(containerDir: string): Promise<ExecRecord[]> {
  const dirs = await readdir(join(containerDir, 'exec')).catch(() => [] as string[]);
  const records = await Promise.all(
    dirs.map(async (d) => {
      const text = await readFile(join(containerDir, 'exec', d, 'exec.json'), 'utf8').catch(() => undefined);
      if (text === undefined) return undefined;
      try {
        const parsed = recordSchema.safeParse(JSON.parse(text));
        return parsed.success ? parsed.data : undefined;
      } catch {
        // Torn or foreign file: not an exec record (writes are atomic, so not one of ours).
        return undefined;
      }
    }),
  );
  return records.filter((r): r is ExecRecord => r !== undefined).sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
}

/**
 * After a daemon restart: settles a record that was running. Its exit file wins; a live
 * conmon keeps it running; otherwise it ended unseen (137 when its container is not running
 * any more, as when the container's exit ends its execs; else the monitor is lost). Saves a
 * changed record. Returns the record as it now is.
 */
export async function reconcileExecRecord(containerDir: string, rec: ExecRecord, containerRunning: boolean): Promise<ExecRecord> {
  if (!rec.running) return rec;
  const exit = await readExitFile(join(execDirOf(containerDir, rec.id), 'exits'), rec.containerId);
  let exitCode: number;
  if (exit) exitCode = exit.exitCode;
  else if (await isSameProcess(rec.conmonPid, rec.conmonStartTime)) return rec;
  else exitCode = containerRunning ? EXEC_MONITOR_LOST_EXIT_CODE : EXEC_KILLED_EXIT_CODE;
  const settled: ExecRecord = { ...rec, running: false, exitCode };
  await saveExecRecord(containerDir, settled);
  return settled;
}
