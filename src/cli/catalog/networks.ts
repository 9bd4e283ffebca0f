// Network commands (docker network …).
import type { CommandSpec } from './command-spec.js';

const r = (flags: string, description: string) => ({ flags, description, repeatable: true });

export const networkCommands: CommandSpec[] = [
  {
    names: ['network create'],
    usage: '[OPTIONS] NETWORK',
    description: 'Create a network',
    args: { min: 1, max: 1 },
    options: [
      { flags: '--attachable', description: 'Enable manual container attachment' },
      r('--aux-address <map>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver'),
      { flags: '-d, --driver <string>', description: 'Driver to manage the Network', default: 'bridge' },
      r('--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet'),
      { flags: '--internal', description: 'Restrict external access to the network' },
      r('--ip-range <strings>', 'Allocate container ip from a sub-range'),
      { flags: '--ipam-driver <string>', description: 'IP Address Management Driver', default: 'default' },
      r('--ipam-opt <map>', 'Set IPAM driver specific options'),
      { flags: '--ipv6', description: 'Enable or disable IPv6 networking' },
      r('--label <list>', 'Set metadata on a network'),
      r('-o, --opt <map>', 'Set driver specific options'),
      r('--subnet <strings>', 'Subnet in CIDR format that represents a network segment'),
    ],
    load: () => import('../commands/network-create.js'),
  },
  {
    names: ['network ls', 'network list'],
    usage: '[OPTIONS]',
    description: 'List networks',
    args: { min: 0, max: 0 },
    options: [
      r('-f, --filter <filter>', "Provide filter values (e.g. 'driver=bridge')"),
      { flags: '--format <string>', description: "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template" },
      { flags: '--no-trunc', description: 'Do not truncate the output' },
      { flags: '-q, --quiet', description: 'Only display network IDs' },
    ],
    load: () => import('../commands/network-ls.js'),
  },
  {
    names: ['network inspect'],
    usage: '[OPTIONS] NETWORK [NETWORK...]',
    description: 'Display detailed information on one or more networks',
    args: { min: 1 },
    options: [
      { flags: '-f, --format <string>', description: "Format output using a custom template: 'json' or a Go template" },
      { flags: '-v, --verbose', description: 'Verbose output for diagnostics' },
    ],
    load: () => import('../commands/network-inspect.js'),
  },
  {
    names: ['network rm', 'network remove'],
    usage: 'NETWORK [NETWORK...]',
    description: 'Remove one or more networks',
    args: { min: 1 },
    options: [{ flags: '-f, --force', description: 'Do not error if the network does not exist' }],
    load: () => import('../commands/network-rm.js'),
  },
  {
    names: ['network prune'],
    usage: '[OPTIONS]',
    description: 'Remove all unused networks',
    args: { min: 0, max: 0 },
    options: [
      { flags: '--filter <filter>', description: 'Provide filter values (e.g. "until=<timestamp>")', repeatable: true },
      { flags: '-f, --force', description: 'Do not prompt for confirmation' },
    ],
    load: () => import('../commands/network-prune.js'),
  },
  {
    names: ['network connect'],
    usage: '[OPTIONS] NETWORK CONTAINER',
    description: 'Connect a container to a network',
    args: { min: 2, max: 2 },
    options: [
      r('--alias <strings>', 'Add network-scoped alias for the container'),
      r('--driver-opt <strings>', 'driver options for the network'),
      { flags: '--ip <string>', description: 'IPv4 address (e.g., "172.30.100.104")' },
      { flags: '--ip6 <string>', description: 'IPv6 address (e.g., "2001:db8::33")' },
      r('--link-local-ip <strings>', 'Add a link-local address for the container'),
    ],
    load: () => import('../commands/network-connect.js'),
  },
  {
    names: ['network disconnect'],
    usage: '[OPTIONS] NETWORK CONTAINER',
    description: 'Disconnect a container from a network',
    args: { min: 2, max: 2 },
    options: [{ flags: '-f, --force', description: 'Force the container to disconnect from a network' }],
    load: () => import('../commands/network-disconnect.js'),
  },
];
