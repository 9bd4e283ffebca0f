// Every berth command. Each area adds its file of specs here (containers, volumes,
// networks, compose, build …); nothing in this folder imports an implementation eagerly.
import type { CommandSpec, GroupSpec } from './command-spec.js';
import { imageCommands } from './images.js';
import { systemCommands } from './system.js';
import { buildCommands } from './build.js';
import { containerCommands } from './containers.js';
import { volumeCommands } from './volumes.js';
import { networkCommands } from './networks.js';

export type { CommandSpec, CommandModule, CommandOptions, GroupSpec, OptionSpec } from './command-spec.js';

export const groups: GroupSpec[] = [
  { name: 'image', description: 'Manage images' },
  { name: 'system', description: 'Manage berth' },
  { name: 'builder', description: 'Manage builds' },
  { name: 'container', description: 'Manage containers' },
  { name: 'volume', description: 'Manage volumes' },
  { name: 'network', description: 'Manage networks' },
];

export const commands: CommandSpec[] = [...imageCommands, ...systemCommands, ...buildCommands, ...containerCommands, ...volumeCommands, ...networkCommands];
