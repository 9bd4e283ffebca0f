// What the seeds teach about `docker run` and friends, through the real docker CLI against a
// test berthd (and berth's own CLI where the seeds' commands have a berth twin): run flag
// combinations, exec -it, logs --tail, stop && rm, stats, inspect templates, system prune.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_CLI, runCommand, type TestDaemon } from '../helpers/daemon.js';
import { busyboxSuite } from '../helpers/busybox-suite.js';
import { berth } from '../integration/cli/berth-cli.js';

const suite = busyboxSuite();
const { skip, ok } = suite;

let d: TestDaemon;

before(async () => {
  if (!skip) d = await suite.ready();
});

async function berthOk(args: string[], input?: string): Promise<string> {
  const r = await berth(d.socketPath, args, { input, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `berth ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting until ${what}`);
}

/** A TCP port nobody listens on right now (the kernel picks it). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request({ host: '127.0.0.1', port, path, signal: AbortSignal.timeout(5_000) }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs `argv` under a pseudo-terminal (script(1)) with `input` typed into it. */
function underTty(argv: string[], input: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  const cmd = argv.map((a) => `'${a}'`).join(' ');
  return runCommand('script', ['-qec', cmd, '/dev/null'], { input, env, timeoutMs: 60_000 });
}

test('docker run -d --name -p HOST:CONTAINER publishes the app port on the host, as the seeds run their web apps', { skip }, async () => {
  const host = await freePort();
  const id = (await ok(['run', '-d', '--name', 'seed-web', '-p', `${host}:8000`, 'busybox', 'sh', '-c', 'mkdir -p /www && echo "Hello from Docker!" > /www/index.html && exec httpd -f -p 8000 -h /www'])).trim();
  try {
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal((await ok(['port', 'seed-web'])).trim().split('\n')[0], `8000/tcp -> 0.0.0.0:${host}`);
    assert.match(await ok(['ps', '--filter', 'name=seed-web', '--format', '{{.Names}} {{.Ports}}']), new RegExp(`^seed-web 0\\.0\\.0\\.0:${host}->8000/tcp`));
    let res: { status: number; body: string } | undefined;
    await until('the published port answers', async () => {
      res = await httpGet(host, '/').catch(() => undefined);
      return res?.status === 200;
    });
    assert.equal(res!.body, 'Hello from Docker!\n');
    // The seeds' clean-up: `docker stop myapp && docker rm myapp` prints the name twice.
    const r = await runCommand('sh', ['-c', `${DOCKER_CLI} stop -t 1 seed-web && ${DOCKER_CLI} rm seed-web`], { env: d.env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'seed-web\nseed-web\n');
    await assert.rejects(httpGet(host, '/'), 'nothing listens on the host port once the container is gone');
  } finally {
    await d.docker(['rm', '-f', 'seed-web']);
  }
});

test('shell pipelines work under the default seccomp profile, as in every RUN and sh -c the seeds write', { skip }, async () => {
  // Docker's default profile allows pipe and pipe2 unconditionally.
  assert.equal(await ok(['run', '--rm', 'busybox', 'sh', '-c', 'echo hello | tr a-z A-Z']), 'HELLO\n');
  assert.equal(await ok(['run', '--rm', 'busybox', 'sh', '-c', 'grep -c root /etc/passwd | cat']), '1\n');
  assert.equal(await ok(['run', '--rm', 'busybox', 'sh', '-c', 'echo $(echo sub)']), 'sub\n');
});

test('each container of one image has its own writable layer, kept across stop/start and gone with rm', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-layer1', 'busybox', 'sh', '-c', 'test -e /data.txt || echo one > /data.txt; exec sleep 300']);
  await ok(['run', '-d', '--name', 'seed-layer2', 'busybox', 'sh', '-c', 'echo two > /data.txt; exec sleep 300']);
  try {
    await until('both wrote their file', async () => (await d.docker(['exec', 'seed-layer1', 'test', '-e', '/data.txt'])).code === 0 && (await d.docker(['exec', 'seed-layer2', 'test', '-e', '/data.txt'])).code === 0);
    assert.equal(await ok(['exec', 'seed-layer1', 'cat', '/data.txt']), 'one\n');
    assert.equal(await ok(['exec', 'seed-layer2', 'cat', '/data.txt']), 'two\n');
    await ok(['exec', 'seed-layer1', 'sh', '-c', 'echo later >> /data.txt']);
    await ok(['stop', '-t', '0', 'seed-layer1']);
    await ok(['start', 'seed-layer1']);
    assert.equal(await ok(['exec', 'seed-layer1', 'cat', '/data.txt']), 'one\nlater\n', 'the data survives docker stop');
    await ok(['rm', '-f', 'seed-layer1']);
    assert.equal((await d.docker(['run', '--rm', 'busybox', 'cat', '/data.txt'])).code, 1, 'a new container starts from the image again');
  } finally {
    await d.docker(['rm', '-f', 'seed-layer1', 'seed-layer2']);
  }
});

test('several -e flags and an --env-file reach the process; -e wins over the file', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-seeds-env-'));
  try {
    await writeFile(join(dir, '.env'), '# app settings\nDATABASE_URL=postgres://user:pass@db:5432/mydb\nLOG_LEVEL=INFO\nDB_HOST=from-file\n');
    const args = ['run', '--rm', '--env-file', join(dir, '.env'), '-e', 'DB_HOST=localhost', '-e', 'DB_USER=admin', 'busybox', 'sh', '-c', 'echo "$DATABASE_URL|$LOG_LEVEL|$DB_HOST|$DB_USER"'];
    assert.equal(await ok(args), 'postgres://user:pass@db:5432/mydb|INFO|localhost|admin\n');
    assert.equal(await berthOk(args), 'postgres://user:pass@db:5432/mydb|INFO|localhost|admin\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('run arguments replace the image CMD, and --entrypoint replaces the entrypoint with the arguments appended', { skip }, async () => {
  assert.equal(await ok(['run', '--rm', 'busybox', 'echo', 'replaced']), 'replaced\n');
  assert.equal(await ok(['run', '--rm', '--entrypoint', 'echo', 'busybox', '--port', '9000']), '--port 9000\n');
  assert.equal(await ok(['run', '--rm', '--entrypoint', '/bin/sh', 'busybox', '-c', 'echo via-entrypoint']), 'via-entrypoint\n');
  assert.equal(await berthOk(['run', '--rm', '--entrypoint', 'echo', 'busybox', '--port', '9000']), '--port 9000\n');
  // An empty --entrypoint drops the image's entrypoint.
  assert.equal(await ok(['run', '--rm', '--entrypoint', '', 'busybox', 'echo', 'plain']), 'plain\n');
});

test('-u runs as a user from the image or as a numeric uid:gid', { skip }, async () => {
  assert.match(await ok(['run', '--rm', '-u', 'nobody', 'busybox', 'id']), /^uid=65534\(nobody\) gid=65534\(nogroup\)/);
  assert.equal(await ok(['run', '--rm', '--user', '1000:1000', 'busybox', 'sh', '-c', 'id -u; id -g']), '1000\n1000\n');
  assert.equal(await berthOk(['run', '--rm', '-u', 'nobody', 'busybox', 'id', '-u']), '65534\n');
  const missing = await d.docker(['run', '--rm', '-u', 'appuser', 'busybox', 'true']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /unable to find user appuser: no matching entries in passwd file/);
});

test("a user's primary group is also among its supplementary groups, as dockerd sets them", { skip }, async () => {
  assert.equal(await ok(['run', '--rm', '-u', 'nobody', 'busybox', 'id']), 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n');
  assert.equal(await ok(['run', '--rm', 'busybox', 'id', '-G']), '0\n');
});

test('--read-only keeps the root filesystem read-only while --tmpfs and volumes stay writable', { skip }, async () => {
  const r = await d.docker(['run', '--rm', '--read-only', '--tmpfs', '/tmp', '-v', 'seed-ro-data:/data', 'busybox', 'sh', '-c', 'touch /etc/x 2>/dev/null && echo etc-writable; touch /tmp/x && echo tmp-ok; touch /data/x && echo data-ok']);
  try {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'tmp-ok\ndata-ok\n');
    assert.equal((await ok(['run', '--rm', '--read-only', 'busybox', 'sh', '-c', 'touch /x; echo $?'])).trim(), '1');
    const ro = (await ok(['create', '--read-only', 'busybox'])).trim();
    assert.equal((await ok(['inspect', '-f', '{{.HostConfig.ReadonlyRootfs}}', ro])).trim(), 'true');
    await ok(['rm', ro]);
  } finally {
    await d.docker(['volume', 'rm', 'seed-ro-data']);
  }
});

test('--cap-drop removes capabilities from the process and --cap-add gives one back', { skip }, async () => {
  const capEff = async (args: string[]) => BigInt('0x' + (await ok(['run', '--rm', ...args, 'busybox', 'grep', 'CapEff', '/proc/self/status'])).trim().split(/\s+/)[1]);
  const defaults = await capEff([]);
  const CHOWN = 1n << 0n;
  const NET_RAW = 1n << 13n;
  const NET_ADMIN = 1n << 12n;
  assert.ok(defaults & CHOWN && defaults & NET_RAW, `docker's defaults include CHOWN and NET_RAW: ${defaults.toString(16)}`);
  assert.equal(defaults & NET_ADMIN, 0n);
  assert.equal(await capEff(['--cap-drop', 'NET_RAW']), defaults & ~NET_RAW);
  assert.equal(await capEff(['--cap-drop', 'ALL']), 0n);
  assert.equal(await capEff(['--cap-drop', 'ALL', '--cap-add', 'CHOWN']), CHOWN);
  assert.equal(await capEff(['--cap-add', 'NET_ADMIN']), defaults | NET_ADMIN);
  const denied = await d.docker(['run', '--rm', '--cap-drop', 'ALL', 'busybox', 'chown', 'nobody', '/etc/passwd']);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /Operation not permitted/);
});

test('--init runs an init as pid 1 that reaps and forwards signals to the command', { skip }, async () => {
  const out = await ok(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/comm; echo $$']);
  const [pid1, shPid] = out.trim().split('\n');
  assert.notEqual(pid1, 'sh', 'the init, not the command, is pid 1');
  assert.notEqual(shPid, '1');
  assert.equal((await ok(['inspect', '-f', '{{.HostConfig.Init}}', (await ok(['create', '--init', '--name', 'seed-init', 'busybox'])).trim()])).trim(), 'true');
  await ok(['rm', 'seed-init']);
  // A plain `sleep` as pid 1 ignores SIGTERM; under --init, stop ends it at once with 143.
  await ok(['run', '-d', '--init', '--name', 'seed-init2', 'busybox', 'sleep', '300']);
  try {
    await ok(['stop', '-t', '30', 'seed-init2']);
    assert.equal((await ok(['inspect', '-f', '{{.State.ExitCode}}', 'seed-init2'])).trim(), '143');
  } finally {
    await d.docker(['rm', '-f', 'seed-init2']);
  }
});

test('--restart unless-stopped brings an exited container back until docker stop', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-restart', '--restart', 'unless-stopped', 'busybox', 'sh', '-c', 'sleep 0.3; exit 3']);
  try {
    const field = async (f: string) => (await ok(['inspect', '-f', f, 'seed-restart'])).trim();
    assert.equal(await field('{{.HostConfig.RestartPolicy.Name}}'), 'unless-stopped');
    await until('the container restarted', async () => Number(await field('{{.RestartCount}}')) >= 1);
    await ok(['stop', '-t', '1', 'seed-restart']);
    const count = await field('{{.RestartCount}}');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await field('{{.State.Status}}'), 'exited');
    assert.equal(await field('{{.RestartCount}}'), count, 'a stopped container is not restarted');
  } finally {
    await d.docker(['rm', '-f', 'seed-restart']);
  }
});

test('failures inside --health-start-period keep the container starting; the first success makes it healthy', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-start', '--health-cmd', 'test -e /tmp/ready || exit 1', '--health-interval', '300ms', '--health-retries', '1', '--health-start-period', '40s', 'busybox', 'sleep', '300']);
  try {
    const health = async () => JSON.parse(await ok(['inspect', '-f', '{{json .State.Health}}', 'seed-start'])) as { Status: string; FailingStreak: number; Log: Array<{ ExitCode: number }> };
    await until('a few probes failed', async () => (await health()).Log.length >= 3);
    const h = await health();
    assert.equal(h.Status, 'starting');
    assert.equal(h.FailingStreak, 0, 'failures in the start period are not counted');
    assert.ok(h.Log.every((l) => l.ExitCode === 1));
    assert.match(await ok(['ps', '--filter', 'name=seed-start', '--format', '{{.Status}}']), /\(health: starting\)$/m);
    await ok(['exec', 'seed-start', 'touch', '/tmp/ready']);
    await until('healthy', async () => (await health()).Status === 'healthy');
  } finally {
    await d.docker(['rm', '-f', 'seed-start']);
  }
});

test('an HTTP health check against the app on localhost turns healthy, then unhealthy when /health goes away', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-http-hc', '--health-cmd', 'wget -q -O /dev/null http://localhost:8000/health || exit 1', '--health-interval', '500ms', '--health-timeout', '3s', '--health-retries', '2',
    'busybox', 'sh', '-c', 'mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8000 -h /www']);
  try {
    const status = async () => (await ok(['inspect', '-f', '{{.State.Health.Status}}', 'seed-http-hc'])).trim();
    await until('healthy', async () => (await status()) === 'healthy');
    await ok(['exec', 'seed-http-hc', 'rm', '/www/health']);
    await until('unhealthy', async () => (await status()) === 'unhealthy');
    assert.ok(Number((await ok(['inspect', '-f', '{{.State.Health.FailingStreak}}', 'seed-http-hc'])).trim()) >= 2);
  } finally {
    await d.docker(['rm', '-f', 'seed-http-hc']);
  }
});

test('docker exec -it opens an interactive shell in a running container', { skip: skip || (!existsSync('/usr/bin/script') && 'needs script(1)') }, async () => {
  await ok(['run', '-d', '--name', 'seed-shell', 'busybox', 'sleep', '300']);
  try {
    const r = await underTty([DOCKER_CLI, 'exec', '-it', 'seed-shell', 'sh'], 'echo inside-$((6*7)); tty\nexit 3\n', d.env);
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stdout, /inside-42/);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    const run = await underTty([DOCKER_CLI, 'run', '--rm', '-it', 'busybox', 'sh'], 'echo run-$((2+3))\nexit 4\n', d.env);
    assert.equal(run.code, 4, run.stdout);
    assert.match(run.stdout, /run-5/);
    // Without a terminal on stdin the docker CLI refuses -t.
    const noTty = await d.docker(['exec', '-it', 'seed-shell', 'sh'], { input: '' });
    assert.equal(noTty.code, 1);
    assert.match(noTty.stderr, /the input device is not a TTY/);
    // The seeds' `docker exec -it <ctr> /bin/bash` on an image without bash: dockerd has already
    // upgraded the connection, so the runtime's message arrives on stdout and the status is nonzero.
    const noBash = await d.docker(['exec', 'seed-shell', '/bin/bash']);
    assert.notEqual(noBash.code, 0);
    assert.match(noBash.stdout, /^OCI runtime exec failed: .*exec: "\/bin\/bash": stat \/bin\/bash: no such file or directory: unknown\r\n$/);
    assert.doesNotMatch(noBash.stderr, /unable to upgrade/);
    const viaBerth = await berth(d.socketPath, ['exec', 'seed-shell', '/bin/bash']);
    assert.deepEqual([viaBerth.code, viaBerth.stdout], [noBash.code, noBash.stdout]);
  } finally {
    await d.docker(['rm', '-f', 'seed-shell']);
  }
});

test('a failed exec start reports dockerd\'s message and status: 127 not found, 126 not executable or unknown user', {
  skip,
}, async () => {
  await ok(['run', '-d', '--name', 'seed-execfail', 'busybox', 'sleep', '300']);
  try {
    const cases: Array<[string[], number, RegExp]> = [
      [['nosuch'], 127, /^OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in \$PATH: unknown\r\n$/],
      [['/bin/bash'], 127, /^OCI runtime exec failed: exec failed: unable to start container process: exec: "\/bin\/bash": stat \/bin\/bash: no such file or directory: unknown\r\n$/],
      [['-w', '/nope', 'seed-execfail', 'pwd'], 127, /chdir to cwd \("\/nope"\) set in config\.json failed: no such file or directory/],
      [['/etc/passwd'], 126, /permission denied/],
      [['-u', 'appuser', 'seed-execfail', 'id'], 126, /^unable to find user appuser: no matching entries in passwd file\r\n$/],
    ];
    for (const [args, code, message] of cases) {
      const full = args[0]!.startsWith('-') ? ['exec', ...args] : ['exec', 'seed-execfail', ...args];
      const r = await d.docker(full);
      assert.equal(r.code, code, `docker ${full.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, message);
    }
  } finally {
    await d.docker(['rm', '-f', 'seed-execfail']);
  }
});

test('docker logs --tail 50 prints only the last 50 lines, with -t adding timestamps', { skip }, async () => {
  await ok(['run', '--name', 'seed-logs', 'busybox', 'sh', '-c', 'i=1; while [ $i -le 80 ]; do echo line$i; i=$((i+1)); done']);
  try {
    const tail = (await ok(['logs', 'seed-logs', '--tail', '50'])).trim().split('\n');
    assert.equal(tail.length, 50);
    assert.equal(tail[0], 'line31');
    assert.equal(tail.at(-1), 'line80');
    assert.equal(await berthOk(['logs', '--tail', '50', 'seed-logs']), await ok(['logs', '--tail', '50', 'seed-logs']));
    assert.match(await ok(['logs', '-t', '--tail', '1', 'seed-logs']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line80\n$/);
  } finally {
    await d.docker(['rm', 'seed-logs']);
  }
});

test('docker stats --no-stream lists every running container; --format picks columns', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-stats1', 'busybox', 'sleep', '300']);
  await ok(['run', '-d', '--name', 'seed-stats2', '-m', '32m', 'busybox', 'sleep', '300']);
  try {
    const table = await ok(['stats', '--no-stream']);
    const [header, ...rows] = table.trimEnd().split('\n');
    assert.match(header!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    assert.deepEqual(rows.map((r) => r.split(/\s+/)[1]).sort(), ['seed-stats1', 'seed-stats2']);
    const fmt = (await ok(['stats', '--no-stream', '--format', 'table {{.Name}}\t{{.MemUsage}}', 'seed-stats2'])).split('\n');
    assert.match(fmt[0]!, /^NAME\s+MEM USAGE \/ LIMIT$/);
    assert.match(fmt[1]!, /^seed-stats2\s+\S+ \/ 32MiB$/);
    const json = JSON.parse(await ok(['stats', '--no-stream', '--format', 'json', 'seed-stats1'])) as Record<string, string>;
    assert.deepEqual(Object.keys(json).sort(), ['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']);
  } finally {
    await d.docker(['rm', '-f', 'seed-stats1', 'seed-stats2']);
  }
});

test('docker inspect answers the templates the seeds use for debugging', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-insp', '-e', 'DB_HOST=localhost', '-l', 'version=1.0.0', '-v', 'seed-insp-vol:/data', '-w', '/data', '-h', 'apphost', 'busybox', 'sleep', '300']);
  try {
    const [info] = JSON.parse(await ok(['inspect', 'seed-insp'])) as Array<Record<string, unknown>>;
    for (const k of ['Id', 'Created', 'Path', 'Args', 'State', 'Image', 'Name', 'RestartCount', 'HostConfig', 'Mounts', 'Config', 'NetworkSettings']) assert.ok(k in info!, `inspect has ${k}`);
    const f = async (tmpl: string) => (await ok(['inspect', '-f', tmpl, 'seed-insp'])).trimEnd();
    // The test image sets no ENV of its own, so Config.Env holds only what -e gave.
    assert.equal(await f('{{json .Config.Env}}'), '["DB_HOST=localhost"]');
    assert.equal(await f('{{range .Config.Env}}{{println .}}{{end}}'), 'DB_HOST=localhost');
    assert.equal((await ok(['exec', 'seed-insp', 'sh', '-c', 'echo $DB_HOST'])).trim(), 'localhost');
    assert.equal(await f('{{index .Config.Labels "version"}}'), '1.0.0');
    assert.equal(await f('{{.Config.WorkingDir}} {{.Config.Hostname}}'), '/data apphost');
    assert.equal(await f('{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{end}}'), 'volume seed-insp-vol /data');
    assert.match(await f('{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'), /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(await f('{{.NetworkSettings.IPAddress}}'), /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(await f('{{.State.Running}} {{.State.Status}}'), 'true running');
    assert.equal(await f('{{if .State.Running}}up{{else}}down{{end}}'), 'up');
    assert.equal(await f('{{.Name}}'), '/seed-insp');
    assert.equal(await f('{{upper .State.Status}} {{len .Config.Cmd}}'), 'RUNNING 2');
    assert.equal((await berthOk(['inspect', '-f', '{{index .Config.Labels "version"}} {{.Config.WorkingDir}}', 'seed-insp'])).trim(), '1.0.0 /data');
  } finally {
    await d.docker(['rm', '-f', '-v', 'seed-insp']);
    await d.docker(['volume', 'rm', 'seed-insp-vol']);
  }
});

test('docker system prune -f removes stopped containers, unused networks and dangling images; -a also unused images', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-keep', 'busybox', 'sleep', '300']);
  try {
    const stoppedId = (await ok(['create', '--name', 'seed-stopped', 'busybox', 'true'])).trim();
    await ok(['network', 'create', 'seed-unused-net']);
    // An image no container uses, so that -a has something to remove.
    await ok(['commit', 'seed-keep', 'seed-unused-image:1']);
    const out = await ok(['system', 'prune', '-f']);
    assert.match(out, new RegExp(`^Deleted Containers:\n${stoppedId}\n`, 'm'));
    assert.match(out, /^Deleted Networks:\nseed-unused-net\n/m);
    assert.match(out, /^Total reclaimed space: \S+$/m);
    assert.equal((await ok(['ps', '-a', '--format', '{{.Names}}'])).trim(), 'seed-keep');
    assert.match(await ok(['images', '--format', '{{.Repository}}']), /^seed-unused-image$/m, 'without -a an unused tagged image stays');
    const all = await ok(['system', 'prune', '-a', '-f']);
    assert.match(all, /^untagged: seed-unused-image:1$/m);
    assert.match(all, /^Deleted Images:$/m);
    assert.deepEqual((await ok(['images', '--format', '{{.Repository}}'])).trim().split('\n'), ['busybox'], 'the image of a running container stays');
  } finally {
    await d.docker(['rm', '-f', 'seed-keep', 'seed-stopped']);
    await d.docker(['network', 'rm', 'seed-unused-net']);
    await d.docker(['rmi', 'seed-unused-image:1']);
  }
});

test('berth run prints and exits exactly as docker run for the seeds\' flag combinations', { skip }, async () => {
  const cases: string[][] = [
    ['--read-only', '--tmpfs', '/tmp', 'busybox', 'sh', '-c', 'touch /tmp/ok && echo tmp-ok; touch /x 2>&1; echo $?'],
    ['--cap-drop', 'ALL', '--cap-add', 'CHOWN', 'busybox', 'grep', 'Cap[EPB][fnr][fmd]', '/proc/self/status'],
    ['--init', 'busybox', 'cat', '/proc/1/comm'],
    ['-u', '1000:1000', '-w', '/tmp', '-e', 'LOG_LEVEL=INFO', '-h', 'api', 'busybox', 'sh', '-c', 'id -u; id -g; pwd; echo $LOG_LEVEL; hostname'],
    ['--entrypoint', 'echo', 'busybox', 'gunicorn', '--port', '9000'],
    ['-l', 'version=1.0.0', '--stop-signal', 'SIGINT', '--pids-limit', '50', '-m', '64m', '--cpus', '0.5', 'busybox', 'cat', '/sys/fs/cgroup/pids/pids.max'],
    ['busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'],
    ['busybox', 'nosuchcmd'],
  ];
  for (const c of cases) {
    const args = ['run', '--rm', ...c];
    const theirs = await d.docker(args);
    const ours = await berth(d.socketPath, args, { timeoutMs: 60_000 });
    assert.deepEqual([ours.code, ours.stdout], [theirs.code, theirs.stdout], `berth ${args.join(' ')}\ndocker stderr: ${theirs.stderr}\nberth stderr: ${ours.stderr}`);
    if (theirs.code === 0) assert.equal(ours.stderr, theirs.stderr, `stderr of berth ${args.join(' ')}`);
  }
  assert.equal((await ok(['ps', '-aq'])).trim(), '', '--rm removed every container');
});

test('berth container prune and system prune -a remove what docker\'s would, with the same report', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-bkeep', 'busybox', 'sleep', '300']);
  try {
    const old = (await ok(['create', '--name', 'seed-bold', 'busybox', 'true'])).trim();
    await new Promise((r) => setTimeout(r, 1100));
    const cut = String(Math.floor(Date.now() / 1000));
    await new Promise((r) => setTimeout(r, 1100));
    const young = (await ok(['create', '--name', 'seed-byoung', 'busybox', 'true'])).trim();
    assert.equal(await berthOk(['container', 'prune', '-f', '--filter', `until=${cut}`]), `Deleted Containers:\n${old}\n\nTotal reclaimed space: 0B\n`);
    assert.equal(await berthOk(['container', 'prune', '--force', '--filter', 'label=none=1']), 'Total reclaimed space: 0B\n');
    await ok(['commit', 'seed-bkeep', 'seed-bunused:1']);
    const out = await berthOk(['system', 'prune', '-a', '-f']);
    assert.match(out, new RegExp(`^Deleted Containers:\n${young}\n`, 'm'));
    assert.match(out, /^untagged: seed-bunused:1$/m);
    assert.match(out, /^Total reclaimed space: \S+$/m);
    assert.deepEqual((await ok(['images', '--format', '{{.Repository}}'])).trim().split('\n'), ['busybox']);
  } finally {
    await d.docker(['rm', '-f', 'seed-bkeep', 'seed-bold', 'seed-byoung']);
    await d.docker(['rmi', 'seed-bunused:1']);
  }
});
