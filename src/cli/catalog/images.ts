// Image commands (docker image …, and the top-level shortcuts docker keeps).
import type { CommandSpec } from './command-spec.js';

const format = (what: string) => ({
  flags: '-f, --format <string>',
  description: `Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template (${what})`,
});

export const imageCommands: CommandSpec[] = [
  {
    names: ['image ls', 'image list', 'images'],
    usage: '[OPTIONS] [REPOSITORY[:TAG]]',
    description: 'List images',
    args: { min: 0, max: 1 },
    options: [
      { flags: '-a, --all', description: 'Show all images (default hides intermediate images)' },
      { flags: '--digests', description: 'Show digests' },
      { flags: '-f, --filter <filter>', description: 'Filter output based on conditions provided', repeatable: true },
      { flags: '--format <string>', description: format('images').description },
      { flags: '--no-trunc', description: "Don't truncate output" },
      { flags: '-q, --quiet', description: 'Only show image IDs' },
    ],
    load: () => import('../commands/image-ls.js'),
  },
  {
    names: ['image inspect'],
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    description: 'Display detailed information on one or more images',
    args: { min: 1 },
    options: [
      format('inspect'),
      { flags: '--platform <string>', description: 'Inspect this platform of a multi-platform image (os/arch[/variant])' },
      { flags: '--platforms', description: 'List every platform of the image: manifest digest, image ID, size' },
    ],
    load: () => import('../commands/image-inspect.js'),
  },
  {
    names: ['inspect'],
    usage: '[OPTIONS] NAME|ID [NAME|ID...]',
    description: 'Return low-level information on berth objects',
    args: { min: 1 },
    options: [format('inspect'), { flags: '--type <string>', description: 'Only inspect objects of the given type' }],
    load: () => import('../commands/inspect.js'),
  },
  {
    names: ['image history', 'history'],
    usage: '[OPTIONS] IMAGE',
    description: 'Show the history of an image',
    args: { min: 1, max: 1 },
    options: [
      format('history'),
      { flags: '-H, --human [bool]', description: 'Print sizes and dates in human readable format', default: true },
      { flags: '--no-trunc', description: "Don't truncate output" },
      { flags: '-q, --quiet', description: 'Only show image IDs' },
    ],
    load: () => import('../commands/image-history.js'),
  },
  {
    names: ['image tag', 'tag'],
    usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    args: { min: 2, max: 2 },
    options: [],
    load: () => import('../commands/image-tag.js'),
  },
  {
    names: ['image rm', 'image remove', 'rmi'],
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    description: 'Remove one or more images',
    args: { min: 1 },
    options: [
      { flags: '-f, --force', description: 'Force removal of the image' },
      { flags: '--no-prune', description: 'Do not delete untagged parents' },
    ],
    load: () => import('../commands/image-rm.js'),
  },
  {
    names: ['image load', 'load'],
    usage: '[OPTIONS]',
    description: 'Load an image from a tar archive or STDIN',
    args: { min: 0, max: 0 },
    options: [
      { flags: '-i, --input <string>', description: 'Read from tar archive file, instead of STDIN' },
      { flags: '-q, --quiet', description: 'Suppress the load output' },
    ],
    load: () => import('../commands/image-load.js'),
  },
  {
    names: ['image save', 'save'],
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    args: { min: 1 },
    options: [{ flags: '-o, --output <string>', description: 'Write to a file, instead of STDOUT' }],
    load: () => import('../commands/image-save.js'),
  },
  {
    names: ['image import', 'import'],
    usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    description: 'Import the contents from a tarball to create a filesystem image',
    args: { min: 1, max: 2 },
    options: [
      { flags: '-c, --change <string>', description: 'Apply Dockerfile instruction to the created image', repeatable: true },
      { flags: '-m, --message <string>', description: 'Set commit message for imported image' },
      { flags: '--platform <string>', description: 'Set platform if server is multi-platform capable' },
    ],
    load: () => import('../commands/image-import.js'),
  },
  {
    names: ['image prune'],
    usage: '[OPTIONS]',
    description: 'Remove unused images',
    args: { min: 0, max: 0 },
    options: [
      { flags: '-a, --all', description: 'Remove all unused images, not just dangling ones' },
      { flags: '--filter <filter>', description: 'Provide filter values (e.g. "until=<timestamp>")', repeatable: true },
      { flags: '-f, --force', description: 'Do not prompt for confirmation' },
    ],
    load: () => import('../commands/image-prune.js'),
  },
];
