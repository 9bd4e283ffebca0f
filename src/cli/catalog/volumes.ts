// Volume commands (docker volume …).
import type { CommandSpec } from './command-spec.js';

const listFormat = {
  flags: '--format <string>',
  description: "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template",
};

export const volumeCommands: CommandSpec[] = [
  {
    names: ['volume create'],
    usage: '[OPTIONS] [VOLUME]',
    description: 'Create a volume',
    args: { min: 0, max: 1 },
    options: [
      { flags: '-d, --driver <string>', description: 'Specify volume driver name', default: 'local' },
      { flags: '--label <list>', description: 'Set metadata for a volume', repeatable: true },
      { flags: '--name <string>', description: 'Specify volume name', hidden: true },
      { flags: '-o, --opt <map>', description: 'Set driver specific options', repeatable: true },
    ],
    load: () => import('../commands/volume-create.js'),
  },
  {
    names: ['volume ls', 'volume list'],
    usage: '[OPTIONS]',
    description: 'List volumes',
    args: { min: 0, max: 0 },
    options: [
      { flags: '-f, --filter <filter>', description: "Provide filter values (e.g. 'dangling=true')", repeatable: true },
      listFormat,
      { flags: '-q, --quiet', description: 'Only display volume names' },
    ],
    load: () => import('../commands/volume-ls.js'),
  },
  {
    names: ['volume inspect'],
    usage: '[OPTIONS] VOLUME [VOLUME...]',
    description: 'Display detailed information on one or more volumes',
    args: { min: 1 },
    options: [{ flags: '-f, --format <string>', description: "Format output using a custom template: 'json' or a Go template" }],
    load: () => import('../commands/volume-inspect.js'),
  },
  {
    names: ['volume rm', 'volume remove'],
    usage: '[OPTIONS] VOLUME [VOLUME...]',
    description: 'Remove one or more volumes',
    args: { min: 1 },
    options: [{ flags: '-f, --force', description: 'Force the removal of one or more volumes' }],
    load: () => import('../commands/volume-rm.js'),
  },
  {
    names: ['volume prune'],
    usage: '[OPTIONS]',
    description: 'Remove unused local volumes',
    args: { min: 0, max: 0 },
    options: [
      { flags: '-a, --all', description: 'Remove all unused volumes, not just anonymous ones' },
      { flags: '--filter <filter>', description: 'Provide filter values (e.g. "label=<label>")', repeatable: true },
      { flags: '-f, --force', description: 'Do not prompt for confirmation' },
    ],
    load: () => import('../commands/volume-prune.js'),
  },
];
