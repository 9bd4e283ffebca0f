// The CLI's parsing and usage errors, run as a real process; none of these reach a daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { buildProgram } from './program.js';

const MAIN = resolve(import.meta.dirname, 'main.ts');
const NO_DAEMON = 'unix:///nonexistent/berth-test.sock';

function berth(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_HOST: NO_DAEMON },
    timeout: 30_000,
    cwd: join(MAIN, '../../..'),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('an unknown flag exits 125 with docker wording', () => {
  const r = berth('images', '--bogus');
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^berth: unknown flag: --bogus\n/);
  assert.match(r.stderr, /Run 'berth images --help' for more information/);
});

test('a wrong number of arguments exits 1 with the usage line', () => {
  const r = berth('tag', 'one');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "berth: 'berth tag' requires 2 arguments\n\nUsage:  berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nRun 'berth tag --help' for more information\n");
  assert.match(berth('rmi').stderr, /'berth rmi' requires at least 1 argument/);
  assert.match(berth('images', 'a', 'b').stderr, /'berth images' requires at most 1 argument/);
});

test('a daemon that is not there is one line and exit 1, and version still prints the client', () => {
  const r = berth('images');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Cannot connect to the berth daemon at ${NO_DAEMON}. Is the daemon running?\n`);
  const v = berth('version');
  assert.equal(v.code, 1);
  assert.match(v.stdout, /^Client:\n Version: +\d+\.\d+\.\d+/);
});

test('docker-env prints the line that points docker at berth', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'docker-env'], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: '' } });
  assert.equal(r.stdout, 'export DOCKER_HOST=unix:///run/berth/berth.sock\n');
});

test('--version and help need no daemon', () => {
  assert.match(berth('--version').stdout, /^berth version \d+\.\d+\.\d+, build \S+\n$/);
  const help = berth('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: berth \[OPTIONS\] COMMAND/);
  assert.match(help.stdout, /\n  images +List images\n/);
});

test('bad values are refused before any request', () => {
  const prune = berth('image', 'prune', '-f', '--filter', 'nonsense');
  assert.equal(prune.code, 125);
  assert.match(prune.stderr, /bad format of filter \(expected name=value\)/);
  const only = berth('bootstrap', '--only', 'alpine');
  assert.equal(only.code, 1);
  assert.equal(only.stderr, 'berth: invalid --only "alpine": expected busybox or debian\n');
});

test('save refuses to write an archive to a terminal', { skip: existsSync('/usr/bin/script') ? false : 'util-linux script(1) is absent' }, () => {
  const r = spawnSync('/usr/bin/script', ['-qec', `${process.execPath} --import tsx ${MAIN} save busybox`, '/dev/null'], {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_HOST: NO_DAEMON },
    timeout: 30_000,
    cwd: join(MAIN, '../../..'),
  });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /berth: cowardly refusing to save to a terminal\. Use the -o flag or redirect/);
});

test('only the named command is set up, yet help before it is still the whole program', () => {
  const first = berth('--help', 'run');
  assert.equal(first.code, 0);
  assert.match(first.stdout, /Usage: berth \[OPTIONS\] COMMAND/);
  assert.match(first.stdout, /\n  images +List images\n/);
  const own = berth('run', '--help');
  assert.equal(own.code, 0);
  assert.match(own.stdout, /^Usage: berth run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]/);
  const unknown = berth('imagez');
  assert.equal(unknown.code, 125);
  assert.match(unknown.stderr, /unknown command 'imagez'/);
});

test('the program finds options by flag as commander does, and still refuses a conflicting flag', () => {
  const program = buildProgram({ code: 0 }, 'run');
  const run = program.commands.find((c) => c.name() === 'run')!;
  // Every option is found by each of its flags, and the first one wins as in commander's scan.
  const find = (c: Command, flag: string) => (c as unknown as { _findOption(f: string): Option | undefined })._findOption(flag);
  for (const o of run.options) {
    for (const flag of [o.short, o.long]) if (flag) assert.equal(find(run, flag), run.options.find((x) => x.short === flag || x.long === flag));
  }
  assert.equal(find(run, '--no-such-flag'), undefined);
  assert.throws(() => run.option('-e, --env-again <v>', 'a flag that -e already names'), /conflicting flag '-e'/);
});
