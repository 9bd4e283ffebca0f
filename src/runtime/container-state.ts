// Container lifecycle as an explicit transition table (STYLE.md §6). Status strings are
// Docker's. An illegal move is a conflict naming both states; a no-op move is not-modified.
import { BerthError } from '../util/index.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export type ContainerAction = 'start' | 'stop' | 'kill' | 'pause' | 'unpause' | 'restart' | 'remove' | 'exec' | 'attach' | 'update' | 'exit';

/** Which statuses allow which action. */
const ALLOWED: Record<ContainerAction, readonly ContainerStatus[]> = {
  start: ['created', 'exited'],
  stop: ['running', 'restarting', 'paused'],
  kill: ['running', 'paused', 'restarting'],
  pause: ['running'],
  unpause: ['paused'],
  restart: ['created', 'running', 'exited', 'restarting', 'paused'],
  remove: ['created', 'exited', 'dead'],
  exec: ['running'],
  attach: ['created', 'running', 'exited', 'paused', 'restarting'],
  update: ['created', 'running', 'exited', 'paused', 'restarting'],
  exit: ['running', 'paused', 'restarting'],
};

/** Actions that are a no-op (304) in these statuses rather than a conflict. */
const NOOP: Partial<Record<ContainerAction, readonly ContainerStatus[]>> = {
  start: ['running', 'paused'],
  stop: ['created', 'exited'],
};

export function canTransition(status: ContainerStatus, action: ContainerAction): boolean {
  return ALLOWED[action].includes(status);
}

/** Throws the Docker-worded error for an action the current status does not allow. */
export function checkTransition(id: string, status: ContainerStatus, action: ContainerAction): void {
  if (ALLOWED[action].includes(status)) return;
  const short = id.slice(0, 12);
  if (NOOP[action]?.includes(status)) {
    throw new BerthError('not-modified', `container ${short} is already ${action === 'start' ? 'started' : 'stopped'}`);
  }
  switch (action) {
    case 'kill':
    case 'exec':
    case 'pause':
      if (status === 'paused' && action !== 'kill') {
        throw new BerthError('conflict', `Container ${id} is paused, unpause the container before ${action === 'exec' ? 'exec' : 'pausing'}`);
      }
      throw new BerthError('conflict', `Container ${id} is not running`);
    case 'unpause':
      throw new BerthError('conflict', `Container ${id} is not paused`);
    case 'remove':
      if (status === 'paused') {
        throw new BerthError('conflict', `cannot remove container "${short}": container is paused and must be unpaused first. Stop and remove it, or use the force option (-f)`);
      }
      if (status === 'removing') throw new BerthError('conflict', `removal of container ${short} is already in progress`);
      throw new BerthError('conflict', `cannot remove container "${short}": container is ${status}: stop the container before removing or force remove`);
    case 'start':
      throw new BerthError('conflict', `cannot start container ${short}: container is ${status}`);
    default:
      throw new BerthError('conflict', `cannot ${action} container ${short}: container is ${status}`);
  }
}

/** Docker's human status for `docker ps` ("Up 3 seconds", "Exited (0) 2 minutes ago"). */
export function humanStatus(s: {
  status: ContainerStatus;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  health?: string;
}, now = Date.now()): string {
  const since = (iso: string) => humanDuration(now - Date.parse(iso));
  switch (s.status) {
    case 'running': {
      const h = s.health && s.health !== 'none' ? ` (${s.health === 'starting' ? 'health: starting' : s.health})` : '';
      return `Up ${since(s.startedAt)}${h}`;
    }
    case 'paused':
      return `Up ${since(s.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${since(s.finishedAt)} ago`;
    case 'exited':
      return `Exited (${s.exitCode}) ${since(s.finishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}

/** go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.round(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3600000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  const days = hours / 24;
  if (days < 7 * 2) return `${Math.round(days)} days`;
  if (days < 30 * 2) return `${Math.round(days / 7)} weeks`;
  if (days < 365 * 2) return `${Math.round(days / 30)} months`;
  return `${Math.round(days / 365)} years`;
}
