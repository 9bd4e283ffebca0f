// Facts about host processes read from /proc: start times (to trust a recorded pid only
// when it is still the same process) and liveness.
import { readFile } from 'node:fs/promises';

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined if gone. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    if (state === 'Z' || state === 'X') return undefined;
    return rest[19];
  } catch {
    // The process is gone (ENOENT) or inaccessible: either way it is not ours any more.
    return undefined;
  }
}

/** True when `pid` runs and is the very process recorded with `startTime`. */
export async function isSameProcess(pid: number, startTime: string | undefined): Promise<boolean> {
  if (!startTime) return false;
  return (await processStartTime(pid)) === startTime;
}

/** Waits up to `ms` for `pid` to end (gone, or a zombie its parent has yet to reap); false if it still runs. */
export async function waitForEnd(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while ((await processStartTime(pid)) !== undefined) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}
