// Build commands: berth build (docker build's flags + --progress/--explain/--secret),
// berth lint, berth builder prune.
import type { CommandSpec } from './command-spec.js';

export const buildCommands: CommandSpec[] = [
  {
    names: ['build', 'image build', 'builder build'],
    usage: '[OPTIONS] PATH | URL | -',
    description: 'Build an image from a Dockerfile',
    args: { min: 1, max: 1 },
    options: [
      { flags: '-t, --tag <name>', description: 'Name and optionally a tag in the "name:tag" format', repeatable: true },
      { flags: '-f, --file <string>', description: 'Name of the Dockerfile (default: "PATH/Dockerfile")' },
      { flags: '--build-arg <list>', description: 'Set build-time variables', repeatable: true },
      { flags: '--label <list>', description: 'Set metadata for an image', repeatable: true },
      { flags: '--target <string>', description: 'Set the target build stage to build' },
      { flags: '--no-cache', description: 'Do not use cache when building the image' },
      { flags: '--pull', description: 'Always attempt to pull a newer version of the image' },
      { flags: '--cache-from <string>', description: 'Images to consider as cache sources', repeatable: true },
      { flags: '--network <string>', description: 'Set the networking mode for the RUN instructions during build (none, host)' },
      { flags: '--platform <string>', description: 'Set the target platform(s): linux/amd64,linux/arm64 builds one image index (foreign RUN steps need qemu-user-static)' },
      { flags: '--secret <stringArray>', description: 'Secret to expose to the build (format: "id=mysecret,src=/local/secret")', repeatable: true },
      { flags: '--add-host <list>', description: 'Add a custom host-to-IP mapping ("host:ip")', repeatable: true },
      { flags: '-q, --quiet', description: 'Suppress the build output and print image ID on success' },
      { flags: '--iidfile <string>', description: 'Write the image ID to the file' },
      { flags: '-o, --output <string>', description: 'Write the result instead of tagging it: type=local,dest=DIR (or DIR) | type=tar,dest=FILE|- | type=docker|oci,dest=FILE | type=image' },
      { flags: '--progress <string>', description: 'Set type of progress output (auto, plain, tty, quiet)', default: 'auto' },
      { flags: '--explain', description: 'Say why each step missed the cache (plain progress always does)' },
    ],
    load: () => import('../commands/build.js'),
  },
  {
    names: ['lint'],
    usage: '[OPTIONS] [DOCKERFILE]',
    description: 'Check a Dockerfile for mistakes (BuildKit checks plus berth rules)',
    args: { min: 0, max: 1 },
    options: [
      { flags: '-f, --file <string>', description: 'Dockerfile to check (default "Dockerfile")' },
      { flags: '--format <string>', description: 'Output format: text or json' },
    ],
    load: () => import('../commands/lint.js'),
  },
  {
    names: ['builder prune'],
    usage: '[OPTIONS]',
    description: 'Remove build cache',
    args: { min: 0, max: 0 },
    options: [
      { flags: '-f, --force', description: 'Do not prompt for confirmation' },
      { flags: '-a, --all', description: 'Remove all unused build cache, not just dangling ones' },
    ],
    load: () => import('../commands/builder-prune.js'),
  },
];
