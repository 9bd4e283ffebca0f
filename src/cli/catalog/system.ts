// System commands and berth's own housekeeping commands.
import type { CommandSpec } from './command-spec.js';

export const systemCommands: CommandSpec[] = [
  {
    names: ['version'],
    usage: '[OPTIONS]',
    description: 'Show the berth version information',
    args: { min: 0, max: 0 },
    options: [{ flags: '-f, --format <string>', description: 'Format output using a custom template' }],
    load: () => import('../commands/version.js'),
  },
  {
    names: ['system info', 'info'],
    usage: '[OPTIONS]',
    description: 'Display system-wide information',
    args: { min: 0, max: 0 },
    options: [{ flags: '-f, --format <string>', description: "Format output using a custom template: 'json' or a Go template" }],
    load: () => import('../commands/system-info.js'),
  },
  {
    names: ['system df'],
    usage: '[OPTIONS]',
    description: 'Show berth disk usage',
    args: { min: 0, max: 0 },
    options: [
      { flags: '--format <string>', description: "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template" },
      { flags: '-v, --verbose', description: 'Show detailed information on space usage' },
    ],
    load: () => import('../commands/system-df.js'),
  },
  {
    names: ['system events', 'events'],
    usage: '[OPTIONS]',
    description: 'Get real time events from the server',
    args: { min: 0, max: 0 },
    options: [
      { flags: '-f, --filter <filter>', description: 'Filter output based on conditions provided', repeatable: true },
      { flags: '--format <string>', description: "Format output using a custom template: 'json' or a Go template" },
      { flags: '--since <string>', description: 'Show all events created since timestamp' },
      { flags: '--until <string>', description: 'Stream events until this timestamp' },
    ],
    load: () => import('../commands/system-events.js'),
  },
  {
    names: ['daemon'],
    usage: '[OPTIONS]',
    description: 'Run the berth daemon (berthd) in the foreground',
    args: { min: 0, max: 0 },
    options: [
      { flags: '--exec-root <dir>', description: 'Root directory for runtime state (default /run/berth)' },
      { flags: '--pidfile <file>', description: 'Path of the daemon pid file (default <exec-root>/berthd.pid)' },
      { flags: '--tcp <addr>', description: 'Also listen on loopback TCP, e.g. tcp://127.0.0.1:2375' },
    ],
    load: () => import('../commands/daemon.js'),
  },
  {
    names: ['docker-env', 'context'],
    usage: '',
    description: 'Print the shell line that points docker clients at berth',
    args: { min: 0, max: 0 },
    options: [],
    load: () => import('../commands/docker-env.js'),
  },
  {
    names: ['bootstrap'],
    usage: '[OPTIONS]',
    description: 'Create local base images (busybox, debian:bookworm-slim) without a registry',
    args: { min: 0, max: 0 },
    options: [
      { flags: '--only <image>', description: 'Create only this image: busybox or debian' },
      { flags: '--force', description: 'Rebuild images that already exist' },
      { flags: '--cache-dir <dir>', description: 'Where the Debian rootfs tarball is cached (default /var/cache/berth)' },
      { flags: '--platform <list>', description: 'Also build busybox for these platforms (linux/arm64,…): busybox:latest becomes a multi-platform index' },
    ],
    load: () => import('../commands/bootstrap.js'),
  },
];
