// The berth container, volume and network commands end to end against a real berthd:
// docker's output, exit codes (0, the container's own, 125, 126, 127) and error texts.
// Every test removes what it created; the harness checks that nothing leaked.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract, pack } from 'tar-stream';
import { Readable } from 'node:stream';
import { isRoot, runCommand, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { REPO } from '../../helpers/entry-point.js';
import { berth, berthArgv, type CliResult } from '../cli/berth-cli.js';

const skip = !isRoot() ? 'needs root: berthd runs containers with runc' : !existsSync('/bin/busybox') ? 'needs /bin/busybox (busybox-static)' : false;

describe('berth container commands', { skip }, () => {
  let d: TestDaemon;
  let sock: string;
  let dir: string;

  const b = (args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> =>
    berth(sock, args, { ...opts, timeoutMs: 90_000 });
  const ok = async (args: string[], opts: { input?: string | Buffer } = {}): Promise<string> => {
    const r = await b(args, opts);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** Removes the named containers once the test ends. */
  const cleanup = (t: TestContext, ...names: string[]) => t.after(async () => void (await b(['rm', '-f', ...names])));

  before(async () => {
    d = (await startTestDaemon())!;
    sock = d.socketPath;
    dir = await mkdtemp(join(tmpdir(), 'berth-cli-ctr-'));
    await ok(['bootstrap', '--only', 'busybox']);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await d?.stop();
  });

  test('run prints the output, exits with the container status, and --rm leaves no container', async () => {
    const r = await b(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
    // A bare --sig-proxy does not swallow the image name; --sig-proxy=false is accepted.
    assert.equal(await ok(['run', '--rm', '--network', 'none', '--sig-proxy', 'busybox', 'echo', 'bare']), 'bare\n');
    assert.equal(await ok(['run', '--rm', '--network', 'none', '--sig-proxy=false', 'busybox', 'echo', 'off']), 'off\n');
    assert.equal(await ok(['ps', '-aq']), '');
  });

  test('run reports a missing command as 127 and a non-executable one as 126', async () => {
    const missing = await b(['run', '--rm', '--network', 'none', 'busybox', 'nosuchcmd']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /^Error response from daemon: .*executable file not found in \$PATH/);
    const notExec = await b(['run', '--rm', '--network', 'none', 'busybox', '/etc/passwd']);
    assert.equal(notExec.code, 126);
    assert.match(notExec.stderr, /permission denied/);
    assert.equal(await ok(['ps', '-aq']), '');
  });

  test('bad flag values fail with docker wording and exit 125 before anything is created', async () => {
    const cases: [string[], string][] = [
      [['-m', 'foo'], `berth: invalid argument "foo" for "-m, --memory" flag: invalid size: 'foo'\n`],
      [['-p', '99999'], 'berth: invalid containerPort: 99999\n'],
      [['--health-interval', 'x'], 'berth: invalid argument "x" for "--health-interval" flag: time: invalid duration "x"\n'],
      [['--ulimit', 'nofile'], 'berth: invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile\n'],
      [['--cpus', 'abc'], 'berth: invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number\n'],
      [['--rm', '--restart', 'always'], 'berth: Conflicting options: --restart and --rm\n'],
      [['--pull', 'sometimes'], `berth: invalid pull option: 'sometimes': must be one of "always", "missing" or "never"\n`],
    ];
    for (const [flags, message] of cases) {
      const r = await b(['run', ...flags, 'busybox', 'true']);
      assert.deepEqual([r.code, r.stderr], [125, message], flags.join(' '));
    }
    const unknown = await b(['run', '--bogus', 'busybox']);
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /^berth: unknown flag: --bogus/);
    const noImage = await b(['run', '--pull', 'never', 'nosuchimage']);
    assert.deepEqual([noImage.code, noImage.stderr], [125, 'Error response from daemon: No such image: nosuchimage:latest\n']);
    const pulled = await b(['run', 'nosuchimage']);
    assert.equal(pulled.code, 125);
    assert.match(pulled.stderr, /^Unable to find image 'nosuchimage:latest' locally\nError response from daemon: /);
    assert.equal(await ok(['ps', '-aq']), '');
  });

  test('run -d prints the id; logs -f follows until stop; rm removes it', async (t) => {
    cleanup(t, 'ctr-bg');
    const id = (await ok(['run', '-d', '--name', 'ctr-bg', '--network', 'none', 'busybox', 'sh', '-c', "trap 'exit 0' TERM; echo started; while true; do sleep 0.1; done"])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const follower = spawn(process.execPath, [...berthArgv(), '-H', `unix://${sock}`, 'logs', '-f', 'ctr-bg'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follower.stdout.on('data', (c: Buffer) => (followed += c.toString()));
    const followerExit = new Promise<number | null>((r) => follower.on('close', r));
    for (let i = 0; i < 100 && !followed.includes('started'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(followed, 'started\n');
    assert.equal(await ok(['stop', '-t', '5', 'ctr-bg']), 'ctr-bg\n');
    assert.equal(await followerExit, 0);
    assert.match(await ok(['ps', '-a', '--filter', 'name=ctr-bg', '--format', '{{.State}} {{.Status}}']), /^exited Exited \(0\) .* ago\n$/);
    assert.equal(await ok(['logs', '--tail', '1', 'ctr-bg']), 'started\n');
    assert.equal(await ok(['rm', 'ctr-bg']), 'ctr-bg\n');
    assert.equal(await ok(['rm', '-f', 'ctr-bg']), '');
    const gone = await b(['logs', 'ctr-bg']);
    assert.deepEqual([gone.code, gone.stderr], [1, 'Error response from daemon: No such container: ctr-bg\n']);
  });

  test('exec runs with -e/-u/-w, passes piped stdin with -i, and returns the command status', async (t) => {
    cleanup(t, 'ctr-exec');
    await ok(['run', '-d', '--name', 'ctr-exec', '--network', 'none', 'busybox', 'sleep', '60']);
    const r = await b(['exec', '-u', 'nobody', '-w', '/tmp', '-e', 'X=1', 'ctr-exec', 'sh', '-c', 'id -u; pwd; echo $X; echo e >&2; exit 4']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [4, '65534\n/tmp\n1\n', 'e\n']);
    assert.equal(await ok(['exec', '-i', 'ctr-exec', 'cat'], { input: 'through stdin\n' }), 'through stdin\n');
    assert.equal(await ok(['exec', '-d', 'ctr-exec', 'sh', '-c', 'echo detached > /tmp/d']), '');
    for (let i = 0; i < 50; i++) {
      if ((await b(['exec', 'ctr-exec', 'cat', '/tmp/d'])).stdout === 'detached\n') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(await ok(['exec', 'ctr-exec', 'cat', '/tmp/d']), 'detached\n');
    await ok(['stop', '-t', '0', 'ctr-exec']);
    const stopped = await b(['exec', 'ctr-exec', 'true']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /^Error response from daemon: .*is not running/);
  });

  test('run -i forwards piped stdin and closes it, so cat ends', async () => {
    assert.equal(await ok(['run', '--rm', '-i', '--network', 'none', 'busybox', 'cat'], { input: 'piped\n' }), 'piped\n');
  });

  test('run -it and exec -it get a terminal when run under a pseudo-terminal', { skip: existsSync('/usr/bin/script') ? false : 'needs script(1)' }, async (t) => {
    const cmd = [process.execPath, ...berthArgv(), '-H', `unix://${sock}`, 'run', '--rm', '-it', '--network', 'none', 'busybox', 'sh', '-c', 'tty; exit 6'];
    const r = await runCommand('script', ['-qec', cmd.map((a) => `'${a}'`).join(' '), '/dev/null'], { input: '', timeoutMs: 60_000 });
    assert.equal(r.code, 6);
    // Raw mode as docker's: the container's \r\n reaches the terminal untranslated.
    assert.match(r.stdout, /\/dev\/pts\/\d+\r\n/);
    assert.doesNotMatch(r.stdout, /\r\r\n/);
    t.after(async () => void (await b(['rm', '-f', 'ctr-tty'])));
    await ok(['run', '-d', '--name', 'ctr-tty', '--network', 'none', 'busybox', 'sleep', '60']);
    const exec = [process.execPath, ...berthArgv(), '-H', `unix://${sock}`, 'exec', '-it', 'ctr-tty', 'sh'];
    const e = await runCommand('script', ['-qec', exec.map((a) => `'${a}'`).join(' '), '/dev/null'], { input: 'tty\nexit 3\n', timeoutMs: 60_000 });
    assert.equal(e.code, 3);
    assert.match(e.stdout, /\/dev\/pts\/\d+/);
    // Ctrl-P Ctrl-Q detaches: berth exits 0 and the container keeps running.
    t.after(async () => void (await b(['rm', '-f', 'ctr-detach'])));
    const det = [process.execPath, ...berthArgv(), '-H', `unix://${sock}`, 'run', '-it', '--name', 'ctr-detach', '--network', 'none', 'busybox', 'sh'];
    // The keys are typed once the shell prompts, i.e. once berth has the terminal in raw mode.
    const sc = spawn('script', ['-qec', det.map((a) => `'${a}'`).join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    sc.stdout.on('data', (c: Buffer) => (screen += c.toString()));
    const scExit = new Promise<number | null>((r) => sc.on('close', r));
    for (let i = 0; i < 600 && !screen.includes('/ # '); i++) await new Promise((r) => setTimeout(r, 50));
    sc.stdin.write('\x10\x11');
    assert.equal(await scExit, 0);
    assert.equal(await ok(['ps', '--filter', 'name=ctr-detach', '--format', '{{.State}}']), 'running\n');
  });

  test('-e and --env-file set the environment as docker reads them', async () => {
    const envFile = join(dir, 'app.env');
    await writeFile(envFile, '# comment\nA=1\nB="quoted stays"\n\nFROM_HOST\nUNSET_HERE\n');
    const out = await b(['run', '--rm', '--network', 'none', '--env-file', envFile, '-e', 'C=3', '-e', 'FROM_HOST2', 'busybox', 'sh', '-c', 'echo "$A|$B|$C|$FROM_HOST|$FROM_HOST2|${UNSET_HERE-unset}"'], {
      env: { FROM_HOST: 'h1', FROM_HOST2: 'h2' },
    });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, '1|"quoted stays"|3|h1|h2|unset\n');
    // Node 20 itself reads `--env-file` anywhere on its command line and exits 9 when the file
    // is missing, before berth runs (berth's own message is checked in create-request.test.ts).
    const missing = await b(['run', '--env-file', join(dir, 'nope.env'), 'busybox']);
    assert.notEqual(missing.code, 0);
    assert.ok(missing.stderr.includes(join(dir, 'nope.env')), missing.stderr);
  });

  test('-v binds a host directory both ways; named volumes and --mount keep data between containers', async () => {
    const host = join(dir, 'bind');
    await mkdir(host, { recursive: true });
    await writeFile(join(host, 'in.txt'), 'from host\n');
    assert.equal(await ok(['run', '--rm', '--network', 'none', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'cat /data/in.txt; echo back > /data/out.txt']), 'from host\n');
    assert.equal(await readFile(join(host, 'out.txt'), 'utf8'), 'back\n');
    const ro = await b(['run', '--rm', '--network', 'none', '-v', `${host}:/data:ro`, 'busybox', 'touch', '/data/x']);
    assert.equal(ro.code, 1);
    await ok(['run', '--rm', '--network', 'none', '-v', 'ctrvol:/v', 'busybox', 'sh', '-c', 'echo kept > /v/f']);
    assert.equal(await ok(['run', '--rm', '--network', 'none', '--mount', 'type=volume,src=ctrvol,dst=/v,readonly', 'busybox', 'cat', '/v/f']), 'kept\n');
    assert.equal(await ok(['run', '--rm', '--network', 'none', '--tmpfs', '/scratch:size=1m', 'busybox', 'sh', '-c', 'grep -c " /scratch tmpfs" /proc/mounts']), '1\n');
    assert.equal(await ok(['volume', 'rm', 'ctrvol']), 'ctrvol\n');
  });

  test('cp copies files and directories in and out, and - streams a tar', async (t) => {
    cleanup(t, 'ctr-cp');
    await ok(['run', '-d', '--name', 'ctr-cp', '--network', 'none', 'busybox', 'sleep', '60']);
    const src = join(dir, 'cpsrc');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'a.txt'), 'A\n');
    await writeFile(join(src, 'sub', 'b.txt'), 'B\n');
    await ok(['cp', join(src, 'a.txt'), 'ctr-cp:/tmp/']);
    await ok(['cp', src, 'ctr-cp:/tmp/tree']);
    await ok(['cp', join(src, 'a.txt'), 'ctr-cp:/tmp/renamed.txt']);
    assert.equal(await ok(['exec', 'ctr-cp', 'sh', '-c', 'cat /tmp/a.txt /tmp/tree/a.txt /tmp/tree/sub/b.txt /tmp/renamed.txt']), 'A\nA\nB\nA\n');
    const out = join(dir, 'cpout');
    await mkdir(out, { recursive: true });
    await ok(['cp', 'ctr-cp:/tmp/tree', out]);
    assert.equal(await readFile(join(out, 'tree', 'sub', 'b.txt'), 'utf8'), 'B\n');
    await ok(['cp', 'ctr-cp:/tmp/a.txt', join(out, 'copy.txt')]);
    assert.equal(await readFile(join(out, 'copy.txt'), 'utf8'), 'A\n');
    const tar = await b(['cp', 'ctr-cp:/tmp/a.txt', '-']);
    assert.equal(tar.code, 0, tar.stderr);
    assert.deepEqual(await tarNames(tar.stdoutBytes), ['a.txt']);
    // A tar on stdin goes into a container directory as it is.
    const p = pack();
    p.entry({ name: 'fromtar.txt', mode: 0o600 }, 'T\n');
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p as unknown as AsyncIterable<Buffer>) chunks.push(c);
    await ok(['cp', '-', 'ctr-cp:/tmp'], { input: Buffer.concat(chunks) });
    assert.equal(await ok(['exec', 'ctr-cp', 'sh', '-c', 'cat /tmp/fromtar.txt; stat -c %a /tmp/fromtar.txt']), 'T\n600\n');
    // -L copies what a symlink points to; without it the link itself is copied.
    await ok(['exec', 'ctr-cp', 'ln', '-s', '/tmp/a.txt', '/tmp/link']);
    await ok(['cp', '-L', 'ctr-cp:/tmp/link', join(out, 'followed.txt')]);
    assert.equal(await readFile(join(out, 'followed.txt'), 'utf8'), 'A\n');
    await ok(['cp', 'ctr-cp:/tmp/link', join(out, 'asis')]);
    assert.equal((await lstat(join(out, 'asis'))).isSymbolicLink(), true);
    const missing = await b(['cp', 'ctr-cp:/nope', out]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error response from daemon: Could not find the file \/nope in container /);
  });

  test('diff, commit and export see the container changes', async (t) => {
    cleanup(t, 'ctr-commit');
    t.after(async () => void (await b(['rmi', 'ctrcommitted:1'])));
    await ok(['run', '--name', 'ctr-commit', '--network', 'none', 'busybox', 'sh', '-c', 'echo made > /tmp/made.txt']);
    assert.equal(await ok(['diff', 'ctr-commit']), 'C /tmp\nA /tmp/made.txt\n');
    const img = (await ok(['commit', '-c', 'ENV Z=9', '-m', 'a message', '-a', 'me', 'ctr-commit', 'ctrcommitted:1'])).trim();
    assert.match(img, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await ok(['run', '--rm', '--network', 'none', 'ctrcommitted:1', 'sh', '-c', 'cat /tmp/made.txt; echo $Z']), 'made\n9\n');
    assert.equal(await ok(['image', 'inspect', '--format', '{{.Comment}}|{{.Author}}', 'ctrcommitted:1']), 'a message|me\n');
    const tarPath = join(dir, 'export.tar');
    await ok(['export', '-o', tarPath, 'ctr-commit']);
    const names = await tarNames(await readFile(tarPath));
    assert.ok(names.some((n) => n.replace(/^\.\//, '') === 'tmp/made.txt'), names.slice(0, 20).join(','));
  });

  test('ps prints docker columns, honours -a, -q, -n, --filter, --no-trunc and --format json/table', async (t) => {
    cleanup(t, 'ctr-ps1', 'ctr-ps2');
    const id1 = (await ok(['run', '-d', '--name', 'ctr-ps1', '--network', 'none', '-l', 'role=web', 'busybox', 'sleep', '60'])).trim();
    await ok(['create', '--name', 'ctr-ps2', '--network', 'none', 'busybox', 'true']);
    const table = await ok(['ps']);
    const [header, ...rows] = table.trimEnd().split('\n');
    assert.match(header!, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/);
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, new RegExp(`^${id1.slice(0, 12)} +busybox +"sleep 60" +.* ago +Up .* +ctr-ps1$`));
    assert.equal(await ok(['ps', '-q']), `${id1.slice(0, 12)}\n`);
    assert.equal(await ok(['ps', '-q', '--no-trunc']), `${id1}\n`);
    assert.equal(await ok(['ps', '-a', '--format', '{{.Names}}', '--filter', 'status=created']), 'ctr-ps2\n');
    assert.equal(await ok(['ps', '-n', '1', '--format', '{{.Names}}']), 'ctr-ps2\n');
    assert.equal(await ok(['ps', '-l', '--format', '{{.Names}}']), 'ctr-ps2\n');
    assert.equal(await ok(['container', 'ls', '--filter', 'label=role=web', '--format', '{{.Names}} {{.Labels}}']), 'ctr-ps1 role=web\n');
    const json = JSON.parse(await ok(['ps', '--format', 'json'])) as Record<string, string>;
    assert.equal(json['Names'], 'ctr-ps1');
    assert.equal(json['State'], 'running');
    assert.equal(json['Command'], '"sleep 60"');
    const custom = await ok(['ps', '-a', '--format', 'table {{.Names}}\t{{.State}}', '--filter', 'name=ctr-ps']);
    assert.match(custom, /^NAMES +STATE\n/);
    const bad = await b(['ps', '--filter', 'nonsense']);
    assert.equal(bad.code, 125);
  });

  test('start -a, attach, wait, rename, pause, kill, restart, update, port and inspect act on containers', async (t) => {
    cleanup(t, 'ctr-life', 'ctr-life2', 'ctr-port', 'ctr-att');
    await ok(['create', '--name', 'ctr-life', '--network', 'none', 'busybox', 'sh', '-c', 'echo via start; exit 5']);
    const started = await b(['start', '-a', 'ctr-life']);
    assert.deepEqual([started.code, started.stdout], [5, 'via start\n']);
    assert.equal(await ok(['wait', 'ctr-life']), '5\n');
    await ok(['rename', 'ctr-life', 'ctr-life2']);
    assert.equal(await ok(['inspect', '--type', 'container', '--format', '{{.Name}} {{.State.ExitCode}}', 'ctr-life2']), '/ctr-life2 5\n');
    assert.equal(await ok(['start', 'ctr-life2']), 'ctr-life2\n');

    await ok(['run', '-d', '--name', 'ctr-port', '-p', '127.0.0.1::80', 'busybox', 'sleep', '60']);
    assert.match(await ok(['port', 'ctr-port']), /^80\/tcp -> 127\.0\.0\.1:\d+\n$/);
    assert.match(await ok(['port', 'ctr-port', '80']), /^127\.0\.0\.1:\d+\n$/);
    assert.equal(await ok(['pause', 'ctr-port']), 'ctr-port\n');
    assert.match(await ok(['ps', '--filter', 'name=ctr-port', '--format', '{{.Status}}']), /\(Paused\)/);
    assert.equal(await ok(['unpause', 'ctr-port']), 'ctr-port\n');
    assert.equal(await ok(['update', '-m', '64m', '--pids-limit', '40', 'ctr-port']), 'ctr-port\n');
    assert.equal(await ok(['container', 'inspect', '--format', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}', 'ctr-port']), '67108864 40\n');
    // attach forwards stdin; the container answers and exits, which ends the attach with its status.
    await ok(['run', '-d', '-i', '--name', 'ctr-att', '--network', 'none', 'busybox', 'sh', '-c', 'read l; echo got $l; exit 2']);
    const attached = await b(['attach', 'ctr-att'], { input: 'hello\n' });
    assert.deepEqual([attached.code, attached.stdout], [2, 'got hello\n']);
    assert.equal(await ok(['restart', '-t', '1', 'ctr-port']), 'ctr-port\n');
    assert.equal(await ok(['kill', '-s', 'KILL', 'ctr-port']), 'ctr-port\n');
    assert.equal(await ok(['wait', 'ctr-port']), '137\n');
    const top = await b(['top', 'ctr-port']);
    assert.equal(top.code, 1);
    const rmRunning = await ok(['run', '-d', '--name', 'ctr-life', '--network', 'none', 'busybox', 'sleep', '60']);
    assert.ok(rmRunning);
    const refused = await b(['rm', 'ctr-life']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Error response from daemon: .*(running|stop)/i);
    assert.match(await ok(['top', 'ctr-life']), /^UID +PID +PPID .*CMD\n.*sleep 60\n$/s);
    assert.match(await ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'ctr-life']), /^ctr-life 1\n$/);
  });

  test('create -i then start -ai forwards stdin and ends when it closes', async (t) => {
    cleanup(t, 'ctr-ai');
    await ok(['create', '-i', '--name', 'ctr-ai', '--network', 'none', 'busybox', 'sh', '-c', 'cat; echo done']);
    const r = await b(['start', '-ai', 'ctr-ai'], { input: 'line one\n' });
    assert.deepEqual([r.code, r.stdout], [0, 'line one\ndone\n']);
  });

  test('run forwards SIGTERM to a non-TTY container and exits with its status', async (t) => {
    cleanup(t, 'ctr-sig');
    const child = spawn(process.execPath, [...berthArgv(), '-H', `unix://${sock}`, 'run', '--name', 'ctr-sig', '--network', 'none', 'busybox', 'sh', '-c', "trap 'echo got TERM; exit 42' TERM; echo ready; while true; do sleep 0.1; done"], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    for (let i = 0; i < 200 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    assert.equal(await exited, 42);
    assert.equal(out, 'ready\ngot TERM\n');
  });

  test('stats streams a redrawn table until interrupted; --no-stream prints one', async (t) => {
    cleanup(t, 'ctr-stats');
    await ok(['run', '-d', '--name', 'ctr-stats', '--network', 'none', 'busybox', 'sleep', '60']);
    const child = spawn(process.execPath, [...berthArgv(), '-H', `unix://${sock}`, 'stats', '--format', '{{.Name}} {{.PIDs}}', 'ctr-stats'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    for (let i = 0; i < 200 && out.split('\n').length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.ok(out.split('\n').filter((l) => l === 'ctr-stats 1').length >= 2, out);
    // Without names, a container started later joins the live table.
    cleanup(t, 'ctr-stats2');
    const all = spawn(process.execPath, [...berthArgv(), '-H', `unix://${sock}`, 'stats', '--format', '{{.Name}}'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let allOut = '';
    all.stdout.on('data', (c: Buffer) => (allOut += c.toString()));
    const allExited = new Promise<number | null>((r) => all.on('close', r));
    for (let i = 0; i < 200 && !allOut.includes('ctr-stats\n'); i++) await new Promise((r) => setTimeout(r, 50));
    await ok(['run', '-d', '--name', 'ctr-stats2', '--network', 'none', 'busybox', 'sleep', '60']);
    for (let i = 0; i < 200 && !allOut.includes('ctr-stats2\n'); i++) await new Promise((r) => setTimeout(r, 50));
    all.kill('SIGINT');
    assert.equal(await allExited, 0);
    assert.ok(allOut.includes('ctr-stats2\n'), allOut);
    const once = await ok(['stats', '--no-stream', 'ctr-stats']);
    assert.match(once, /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS\n[0-9a-f]{12} +ctr-stats +\d+\.\d\d% +\S+ \/ \S+ +\d+\.\d\d% +\S+ \/ \S+ +\S+ \/ \S+ +1\n$/);
  });

  test('--cidfile receives the id and refuses an existing file; -d --rm removes the container when it ends', async () => {
    const cidfile = join(dir, 'cid');
    const id = (await ok(['run', '-d', '--rm', '--cidfile', cidfile, '--network', 'none', 'busybox', 'true'])).trim();
    assert.equal(await readFile(cidfile, 'utf8'), id);
    const again = await b(['run', '--cidfile', cidfile, 'busybox', 'true']);
    assert.deepEqual([again.code, again.stderr], [125, `berth: container ID file found, make sure the other container isn't running or delete ${cidfile}\n`]);
    for (let i = 0; i < 100 && (await ok(['ps', '-aq', '--no-trunc'])).includes(id); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await ok(['ps', '-aq']), '');
  });

  test('berth prints byte for byte what the docker CLI prints for the same containers, volumes and networks', async (t) => {
    cleanup(t, 'ctr-cmp1', 'ctr-cmp2');
    t.after(async () => {
      await b(['volume', 'rm', 'cmpvol']);
      await b(['network', 'rm', 'cmpnet']);
    });
    await ok(['volume', 'create', '--label', 'k=v', 'cmpvol']);
    await ok(['network', 'create', '--label', 'k=v', 'cmpnet']);
    await ok(['run', '-d', '--name', 'ctr-cmp1', '--network', 'cmpnet', '-l', 'b=2', '-l', 'a=1', '-v', 'cmpvol:/data', '-p', '127.0.0.1::80', '-p', '127.0.0.1::81/udp', 'busybox', 'sh', '-c', 'touch /tmp/x; sleep 60']);
    await ok(['create', '--name', 'ctr-cmp2', '--network', 'none', 'busybox', 'echo', 'a "quoted" and long command line']);
    const same = async (args: string[]) => {
      const ours = await b(args);
      const theirs = await d.docker(args);
      assert.equal(theirs.code, 0, `docker ${args.join(' ')}: ${theirs.stderr}`);
      assert.deepEqual([ours.code, ours.stdout], [theirs.code, theirs.stdout], `berth ${args.join(' ')}`);
    };
    const stable = '{{.ID}}|{{.Image}}|{{.Command}}|{{.Ports}}|{{.Names}}|{{.Labels}}|{{.State}}|{{.Networks}}|{{.Mounts}}|{{.LocalVolumes}}';
    await same(['ps', '-a', '--format', stable]);
    await same(['ps', '-a', '--no-trunc', '--format', stable]);
    await same(['ps', '-aq']);
    await same(['ps', '-a', '--format', 'table {{.Names}}\t{{.Image}}\t{{.Command}}\t{{.Ports}}']);
    await same(['port', 'ctr-cmp1']);
    await same(['volume', 'ls']);
    await same(['volume', 'ls', '--format', '{{json .}}']);
    await same(['network', 'ls']);
    await same(['network', 'ls', '--no-trunc', '-q']);
    await same(['container', 'inspect', '--format', '{{.Config.Cmd}} {{json .Config.Cmd}} {{.Name}} {{.State.Status}}', 'ctr-cmp2']);
    await same(['logs', 'ctr-cmp1']);
    await same(['diff', 'ctr-cmp1']);
    await same(['top', 'ctr-cmp1', '-o', 'pid,comm']);
    await same(['stats', '--no-stream', '--format', '{{.ID}} {{.Name}} {{.PIDs}}', 'ctr-cmp1']);
    await same(['volume', 'inspect', 'cmpvol']);
    // Failures: the same status and the same message on stderr.
    for (const args of [['rm', 'ctr-cmp1'], ['logs', 'nosuch'], ['exec', 'nosuch', 'true'], ['volume', 'rm', 'nosuch'], ['network', 'rm', 'nosuch'], ['port', 'ctr-cmp1', '9999'], ['stop', 'nosuch'], ['start', 'nosuch']]) {
      const ours = await b(args);
      const theirs = await d.docker(args);
      assert.deepEqual([ours.code, ours.stdout, ours.stderr], [theirs.code, theirs.stdout, theirs.stderr], `berth ${args.join(' ')}`);
    }
  });

  test('container prune removes stopped containers only; system prune reports what it removed', async (t) => {
    cleanup(t, 'ctr-keep', 'ctr-gone');
    await ok(['run', '-d', '--name', 'ctr-keep', '--network', 'none', 'busybox', 'sleep', '60']);
    const goneId = (await ok(['create', '--name', 'ctr-gone', '--network', 'none', 'busybox', 'true'])).trim();
    assert.equal(await ok(['container', 'prune', '-f']), `Deleted Containers:\n${goneId}\n\nTotal reclaimed space: 0B\n`);
    assert.equal(await ok(['ps', '-a', '--format', '{{.Names}}']), 'ctr-keep\n');
    await ok(['network', 'create', 'ctrprunenet']);
    const sys = await ok(['system', 'prune', '-f', '--volumes']);
    assert.match(sys, /Deleted Networks:\nctrprunenet\n/);
    assert.match(sys, /Total reclaimed space: /);
    assert.equal(await ok(['ps', '-a', '--format', '{{.Names}}']), 'ctr-keep\n');
  });
});

describe('berth volume and network commands', { skip }, () => {
  let d: TestDaemon;
  let sock: string;
  const b = (args: string[]) => berth(sock, args, { timeoutMs: 90_000 });
  const ok = async (args: string[]) => {
    const r = await b(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    d = (await startTestDaemon())!;
    sock = d.socketPath;
    await ok(['bootstrap', '--only', 'busybox']);
  });
  after(async () => {
    await d?.stop();
  });

  test('volume create/ls/inspect/rm/prune with labels, options, filters and formats', async () => {
    assert.equal(await ok(['volume', 'create', '--label', 'team=a', 'vol-a']), 'vol-a\n');
    assert.equal(await ok(['volume', 'create', '-d', 'local', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'vol-b']), 'vol-b\n');
    const anon = (await ok(['volume', 'create'])).trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    const table = await ok(['volume', 'ls']);
    assert.match(table, /^DRIVER +VOLUME NAME\n/);
    assert.match(table, /\nlocal +vol-a\n/);
    assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'label=team=a']), 'vol-a\n');
    assert.equal(await ok(['volume', 'ls', '--filter', 'name=vol-', '--format', '{{.Name}} {{.Driver}} {{.Labels}}']), 'vol-a local team=a\nvol-b local \n');
    assert.equal(await ok(['volume', 'inspect', '--format', '{{.Name}} {{.Options.type}}', 'vol-b']), 'vol-b tmpfs\n');
    const both = await b(['volume', 'inspect', 'vol-a', 'nope']);
    assert.equal(both.code, 1);
    assert.equal((JSON.parse(both.stdout) as { Name: string }[])[0]!.Name, 'vol-a');
    const rm1 = await b(['volume', 'rm', 'vol-b', 'nope']);
    assert.deepEqual([rm1.code, rm1.stdout], [1, 'vol-b\n']);
    assert.match(rm1.stderr, /^Error response from daemon: .*nope/);
    const pruned = await ok(['volume', 'prune', '-f']);
    assert.match(pruned, new RegExp(`Deleted Volumes:\\n${anon}\\n`));
    assert.equal(await ok(['volume', 'ls', '-q']), 'vol-a\n');
    const all = await ok(['volume', 'prune', '-f', '-a']);
    assert.match(all, /Deleted Volumes:\nvol-a\n/);
  });

  test('network create/ls/inspect/connect/disconnect/rm/prune, and containers reach each other by alias', async (t) => {
    t.after(async () => {
      await b(['rm', '-f', 'net-srv']);
      await b(['network', 'rm', 'ctrnet', 'ctrnet2']);
    });
    const id = (await ok(['network', 'create', '--subnet', '10.213.7.0/24', '--gateway', '10.213.7.1', '--ip-range', '10.213.7.128/25', '--label', 'x=y', 'ctrnet'])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const bad = await b(['network', 'create', '--gateway', '10.9.9.1', 'badnet']);
    assert.deepEqual([bad.code, bad.stderr], [125, 'berth: every ip-range or gateway must have a corresponding subnet\n']);
    const ls = await ok(['network', 'ls']);
    assert.match(ls, /^NETWORK ID +NAME +DRIVER +SCOPE\n/);
    assert.match(ls, new RegExp(`\\n${id.slice(0, 12)} +ctrnet +bridge +local\\n`));
    assert.equal(await ok(['network', 'ls', '-q', '--no-trunc', '--filter', 'label=x=y']), `${id}\n`);
    assert.equal(
      await ok(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}} {{.Labels.x}}', 'ctrnet']),
      '10.213.7.0/24 10.213.7.1 10.213.7.128/25 y\n',
    );
    await ok(['run', '-d', '--name', 'net-srv', '--network', 'ctrnet', '--network-alias', 'web', 'busybox', 'sleep', '60']);
    assert.equal((await b(['run', '--rm', '--network', 'ctrnet', 'busybox', 'ping', '-c', '1', '-W', '2', 'web'])).code, 0);
    await ok(['network', 'create', 'ctrnet2']);
    t.after(async () => void (await b(['rm', '-f', 'net-two'])));
    await ok(['run', '-d', '--name', 'net-two', '--network', 'ctrnet', '--network', 'ctrnet2', 'busybox', 'sleep', '60']);
    assert.equal(await ok(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'net-two']), 'ctrnet ctrnet2 \n');
    await ok(['rm', '-f', 'net-two']);
    await ok(['network', 'connect', '--alias', 'second', 'ctrnet2', 'net-srv']);
    assert.equal((await b(['run', '--rm', '--network', 'ctrnet2', 'busybox', 'ping', '-c', '1', '-W', '2', 'second'])).code, 0);
    await ok(['network', 'disconnect', 'ctrnet2', 'net-srv']);
    assert.equal(await ok(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'net-srv']), 'ctrnet \n');
    const busy = await b(['network', 'rm', 'ctrnet']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /^Error response from daemon: /);
    await ok(['rm', '-f', 'net-srv']);
    assert.equal(await ok(['network', 'rm', 'ctrnet']), 'ctrnet\n');
    assert.equal(await ok(['network', 'rm', '-f', 'ctrnet']), '');
    assert.equal(await ok(['network', 'prune', '-f']), 'Deleted Networks:\nctrnet2\n');
  });
});

async function tarNames(buf: Buffer): Promise<string[]> {
  const names: string[] = [];
  const ex = extract();
  ex.on('entry', (h, s, next) => {
    names.push(h.name);
    s.on('end', () => next());
    s.resume();
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    Readable.from([buf]).pipe(ex as unknown as NodeJS.WritableStream);
  });
  return names;
}
