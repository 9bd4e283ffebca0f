// quick-argv.ts against commander: for every command line of a corpus, the quick parse either
// declines or gives exactly what commander hands `run`'s action (program options, operands,
// command options), and so the same create request (or the same error) from buildCreatePlan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { reclaimBoolValue } from './attach/stdio-session.js';
import type { CommandOptions, OptionSpec } from './catalog/command-spec.js';
import { RUN_COMMAND } from './catalog/run.js';
import { GLOBAL_OPTIONS } from './catalog/global-options.js';
import { buildProgram } from './program.js';
import { quickArgv, type QuickArgv } from './quick-argv.js';
import { buildCreatePlan } from './run/create-request.js';

const SILENT = { writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined };

/** What commander hands run's action for `argv`, or 'refused' (an error, help). */
async function commanderArgv(argv: string[]): Promise<QuickArgv | 'refused'> {
  const program = buildProgram({ code: 0 }, 'run');
  program.configureOutput(SILENT);
  let seen: QuickArgv | undefined;
  for (const c of program.commands) {
    c.configureOutput(SILENT);
    c.action((args: string[], opts: CommandOptions) => {
      seen = { globals: { ...program.opts() }, args, opts: { ...opts } };
    });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return 'refused';
    throw err;
  }
  return seen ?? 'refused';
}

/** The create plan built from a parse, as JSON text (key order counts), or its error. */
function planOf(p: QuickArgv): string {
  try {
    return JSON.stringify(buildCreatePlan(p.opts, reclaimBoolValue(p.opts['sigProxy'], p.args), { run: true, cwd: '/work', env: { HOME: '/root', FOO: 'from-env' } }));
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

const words = (line: string) => line.split(' ').filter((w) => w !== '');

/** Command lines docker users type; the quick parse must take each of them. */
const ACCEPTED: string[][] = [
  words('run --rm busybox true'),
  words('run busybox'),
  words('run -it busybox sh'),
  words('run -ti --rm busybox sh'),
  words('run -dit busybox'),
  words('run -d busybox sleep 10'),
  words('run -d --name web -p 8080:80 busybox httpd -f -p 80'),
  words('run --rm -e FOO=bar -e FOO busybox env'),
  words('run --rm -eFOO=bar --env=BAZ=1 busybox env'),
  words('run --rm -v /tmp:/data:ro -w /data -u 1000:1000 busybox ls'),
  words('run --rm --mount type=tmpfs,destination=/x --tmpfs /run busybox true'),
  ['run', '--rm', '--entrypoint', '/bin/sh', 'busybox', '-c', 'echo hi; exit 3'],
  words('run --rm -- busybox true'),
  words('run --sig-proxy=false busybox true'),
  words('run --sig-proxy busybox true'),
  words('run -m 64m --memory-swap -1 --pids-limit -1 --cpus 0.5 busybox'),
  words('run --network none --restart on-failure:3 busybox'),
  words('-H unix:///tmp/x.sock run --rm busybox true'),
  words('-D --host=unix:///tmp/x.sock run busybox'),
];

/** Lines the quick parse must leave to commander (errors, help, what it does not read). */
const DECLINED: string[][] = [
  words('run'),
  words('run --rm'),
  words('run -e'),
  words('run --bogus busybox'),
  words('run --rm=true busybox'),
  words('run -iz busybox'),
  words('run -1 busybox'),
  words('run -h myhost busybox'),
  words('run --help'),
  words('--help run busybox'),
  words('--bogus run busybox'),
  words('images'),
  words('container run busybox'),
  words('-- run busybox'),
  words('run --sig-proxy -1 busybox'),
];

/** Everything else: odd but legal lines, and values buildCreatePlan refuses. */
const OTHERS: string[][] = [
  words('run busybox --rm'),
  words('run busybox -- true'),
  words('run -- busybox'),
  words('run --rm --'),
  words('run -'),
  words('run -e --help busybox'),
  words('run busybox --help'),
  words('run --sig-proxy false busybox true'),
  words('run --sig-proxy true busybox'),
  words('run --sig-proxy -d busybox'),
  words('run --sig-proxy=0 -d busybox'),
  words('run --no-healthcheck busybox'),
  words('run --no-healthcheck --health-cmd true busybox'),
  words('run --health-cmd true --health-interval 1s --health-retries 3 --health-timeout 2s busybox'),
  words('run --health-start-period 1s --health-start-interval 1s busybox'),
  words('run --health-interval x busybox'),
  words('run --restart always --rm busybox'),
  words('run -m foo busybox'),
  words('run -p 99999 busybox'),
  words('run -p 127.0.0.1:8080:80/udp -p 9000-9001:9000-9001 -P --expose 80 busybox'),
  words('run --ulimit nofile busybox'),
  words('run --ulimit nofile=1024:2048 busybox'),
  words('run --cap-add NET_ADMIN --cap-drop ALL --privileged busybox'),
  words('run --security-opt no-new-privileges --security-opt seccomp=unconfined busybox'),
  words('run --read-only --init busybox'),
  words('run --network host busybox'),
  words('run --network n1 --network-alias a --ip 10.0.0.5 busybox'),
  words('run --network n1 --network n2 busybox'),
  words('run --dns 1.1.1.1 --dns-search x --dns-option ndots:2 busybox'),
  words('run --add-host h:1.2.3.4 --add-host bad busybox'),
  words('run --hostname myhost --domainname d busybox'),
  words('run -l a=b --label c=d -la=c busybox'),
  words('run --label-file /nonexistent/labels busybox'),
  words('run --env-file /nonexistent/env busybox'),
  words('run --log-driver none --log-opt max-size=1m busybox'),
  words('run --platform linux/amd64 busybox'),
  words('run --pull never busybox'),
  words('run --pull=always busybox'),
  words('run --pull sometimes busybox'),
  words('run -q --cidfile /tmp/cid busybox'),
  words('run --sysctl net.ipv4.ip_forward=1 --device /dev/null busybox'),
  words('run --stop-signal SIGKILL --stop-timeout 5 busybox'),
  words('run --detach-keys ctrl-a busybox'),
  words('run -a stdout -a stderr busybox'),
  words('run -a=stdout busybox'),
  words('run -a stdin -d busybox'),
  words('run --shm-size 64m --memory-reservation 32m busybox'),
  words('run --name=x busybox'),
  words('run --name x --name y busybox'),
  words('run --volumes-from c1 --group-add 10 busybox'),
  words('run --userns host --uts host --pid host --ipc host busybox'),
  words('run --mac-address 92:d0:c6:0a:29:33 busybox'),
  words('run --cpu-shares 512 --cpuset-cpus 0-1 busybox'),
  words('run -t busybox'),
  words('run -i busybox cat'),
  words('run --interactive --tty busybox'),
  words('run --detach busybox'),
  words('run --gpus all busybox'),
  words('run -e= busybox'),
  ['run', '--entrypoint=', 'busybox'],
  ['run', '-e', '', 'busybox'],
  ['run', ''],
  ['run', '--name', '', 'busybox'],
  words('-D run --rm busybox true'),
  words('-Hunix:///tmp/x.sock run busybox'),
  words('-H=unix:///tmp/x.sock run busybox'),
  words('--data-root /tmp/d -l debug run busybox'),
  words('-DH unix:///x run busybox'),
  words('--log-level=warn run busybox'),
  words('-v run busybox'),
  words('-H run run busybox'),
  words('-D'),
  words('run -d -D busybox'),
  words('run -l debug busybox'),
  words('-H -D run busybox'),
  words('--host --debug run busybox'),
  words('run --name --rm busybox'),
  words('run -e -it busybox'),
  words('run --sig-proxy=true -- busybox'),
  words('run -it -- busybox sh'),
  words('run --rm -- -busybox'),
  words('run -t -- -- busybox'),
  words('run --env=A=B=C -eD= busybox'),
  words('run -p=80 busybox'),
  words('run -dP busybox'),
  words('run -Pd busybox'),
  words('run -tie A=1 busybox'),
  words('run -te A=1 busybox'),
];

/** A plausible value for each flag, so the generated lines reach buildCreatePlan's checks. */
const SAMPLE: Record<string, string> = {
  '--add-host': 'h:10.0.0.1', '--attach': 'stdout', '--cpus': '1.5', '--cpu-shares': '2', '--cpuset-cpus': '0', '--device': '/dev/null',
  '--dns': '9.9.9.9', '--env': 'A=B', '--expose': '80', '--health-interval': '2s', '--health-retries': '2', '--health-start-interval': '1s',
  '--health-start-period': '1s', '--health-timeout': '1s', '--ip': '10.1.2.3', '--label': 'k=v', '--log-opt': 'a=b', '--memory': '8m',
  '--memory-reservation': '4m', '--memory-swap': '16m', '--mount': 'type=tmpfs,dst=/t', '--pids-limit': '10', '--publish': '80:80',
  '--pull': 'never', '--restart': 'always', '--security-opt': 'label=disable', '--shm-size': '1m', '--stop-timeout': '3',
  '--sysctl': 'a.b=1', '--tmpfs': '/t', '--ulimit': 'nofile=10:20', '--volume': '/a:/b', '--workdir': '/w', '--sig-proxy': 'false',
};

/** For each of run's flags, each way of writing it, alone and beside others. */
function generated(options: OptionSpec[]): string[][] {
  const out: string[][] = [];
  for (const o of options) {
    const m = /^(?:(-[^-]), )?(--\S+)(?: ([<[]).*)?$/.exec(o.flags)!;
    const [, short, long, value] = m;
    const v = SAMPLE[long!] ?? 'x';
    const forms: string[][] = value ? [[long!, v], [`${long}=${v}`]] : [[long!]];
    if (short && value) forms.push([short, v], [`${short}${v}`]);
    if (short && !value) forms.push([short], [`${short}i`], [`-i${short.slice(1)}`]);
    if (value === '[') forms.push([long!]);
    for (const f of forms) {
      out.push(['run', ...f, 'busybox', 'true'], ['run', '--rm', ...f, '-t', 'busybox'], ['run', ...f, ...f, 'busybox']);
      if (value === '<') out.push(['run', ...f.slice(0, 1)]);
    }
  }
  return out;
}

async function assertParity(argv: string[]): Promise<QuickArgv | undefined> {
  const quick = quickArgv(argv, GLOBAL_OPTIONS, 'run', RUN_COMMAND.options);
  if (!quick) return undefined;
  const viaCommander = await commanderArgv(argv);
  assert.notEqual(viaCommander, 'refused', `commander refuses ${JSON.stringify(argv)}, which the quick parse took`);
  assert.deepStrictEqual(quick, viaCommander, `parses of ${JSON.stringify(argv)}`);
  assert.equal(planOf(quick), planOf(viaCommander as QuickArgv), `create plans of ${JSON.stringify(argv)}`);
  return quick;
}

test('the quick parse of a run command line is commander\'s, or it declines', async () => {
  const corpus = [...ACCEPTED, ...DECLINED, ...OTHERS, ...generated(RUN_COMMAND.options)];
  let taken = 0;
  for (const argv of corpus) if (await assertParity(argv)) taken++;
  // The corpus is not vacuous: most of it goes the quick way.
  assert.ok(taken > corpus.length / 2, `${taken} of ${corpus.length} taken`);
});

test('the quick parse takes the command lines docker users type', async () => {
  for (const argv of ACCEPTED) assert.ok(await assertParity(argv), `declined ${JSON.stringify(argv)}`);
});

test('the quick parse leaves errors, help and other commands to commander', () => {
  for (const argv of DECLINED) assert.equal(quickArgv(argv, GLOBAL_OPTIONS, 'run', RUN_COMMAND.options), undefined, JSON.stringify(argv));
});

test('the quick parse declines options written in a way it does not read', () => {
  for (const flags of ['-a|--all', '-a,--all', '--all <a> <b>', '--All', '--all-', '-ab, --all', '--all <a', '--all [a>']) {
    assert.equal(quickArgv(['run', 'busybox'], GLOBAL_OPTIONS, 'run', [{ flags, description: 'odd' }]), undefined, flags);
  }
  assert.ok(quickArgv(['run', 'busybox'], GLOBAL_OPTIONS, 'run', [{ flags: '-a, --all-of-it <x>', description: 'plain' }]));
  const repeatedBool: OptionSpec[] = [{ flags: '--all', description: 'repeatable boolean', repeatable: true }];
  assert.equal(quickArgv(['run', 'busybox'], GLOBAL_OPTIONS, 'run', repeatedBool), undefined);
});
