// Day-two commands around containers and local images that the seeds and the brief name, through
// the real docker CLI against a test berthd (and berth's CLI for the same command where it
// prints the same thing): container prune with filters, events with --since/--until/--filter,
// wait, top with ps options, cp of directories both ways, commit -c, save | gzip and load -i,
// system df -v, and the volume life cycle the seeds rely on for databases.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

async function berthOk(args: string[]): Promise<string> {
  const r = await berth(d.socketPath, args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `berth ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unixNow = () => Math.floor(Date.now() / 1000);

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-seeds-ops-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('docker container prune -f --filter until= removes only stopped containers created before the time', { skip }, async () => {
  const oldId = (await ok(['create', '--name', 'seed-old', '-l', 'stage=old', 'busybox', 'true'])).trim();
  await sleep(1100);
  const cut = unixNow();
  await sleep(1100);
  const newId = (await ok(['create', '--name', 'seed-new', '-l', 'stage=new', 'busybox', 'true'])).trim();
  await ok(['run', '-d', '--name', 'seed-running', 'busybox', 'sleep', '300']);
  try {
    assert.equal(await ok(['container', 'prune', '-f', '--filter', `until=${cut}`]), `Deleted Containers:\n${oldId}\n\nTotal reclaimed space: 0B\n`);
    assert.equal(await ok(['container', 'prune', '-f', '--filter', 'until=1h']), 'Total reclaimed space: 0B\n', 'nothing is older than an hour');
    assert.equal(await ok(['container', 'prune', '-f', '--filter', 'label=stage=other']), 'Total reclaimed space: 0B\n');
    assert.equal(await ok(['container', 'prune', '-f', '--filter', 'label!=stage=other']), `Deleted Containers:\n${newId}\n\nTotal reclaimed space: 0B\n`);
    assert.equal((await ok(['ps', '-a', '--format', '{{.Names}}'])).trim(), 'seed-running');
    const bad = await d.docker(['container', 'prune', '-f', '--filter', 'until=yesterday']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Error response from daemon: .*yesterday/);
  } finally {
    await d.docker(['rm', '-f', 'seed-old', 'seed-new', 'seed-running']);
  }
});

test('docker events --since/--until with container filters replays a container\'s life', { skip }, async () => {
  const since = unixNow() - 1;
  const r = await d.docker(['run', '--name', 'seed-ev', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3);
  await ok(['rm', 'seed-ev']);
  const until = String(unixNow() + 1);
  const actions = (await ok(['events', '--since', String(since), '--until', until, '--filter', 'container=seed-ev', '--format', '{{.Type}} {{.Action}}'])).trim().split('\n');
  assert.deepEqual(actions, ['container create', 'container attach', 'container start', 'container die', 'container destroy']);
  const die = (await ok(['events', '--since', String(since), '--until', until, '--filter', 'event=die', '--filter', 'container=seed-ev', '--format', '{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}} {{.Actor.Attributes.image}}'])).trim();
  assert.equal(die, 'seed-ev 3 busybox');
  const json = JSON.parse((await ok(['events', '--since', String(since), '--until', until, '--filter', 'type=container', '--filter', 'event=start', '--format', '{{json .}}'])).trim().split('\n').at(-1)!) as Record<string, any>;
  for (const k of ['status', 'id', 'from', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']) assert.ok(k in json, `event has ${k}: ${JSON.stringify(json)}`);
  assert.equal(json['Actor'].Attributes.name, 'seed-ev');
  // A relative --since (Go duration) reaches back the same way, and berth prints the same lines.
  const args = ['events', '--since', '5m', '--until', until, '--filter', 'container=seed-ev', '--format', '{{.Action}} {{.Actor.Attributes.name}}'];
  const viaDocker = await ok(args);
  assert.equal(viaDocker.trim().split('\n').length, 5);
  assert.equal(await berthOk(args), viaDocker);
});

test('docker wait blocks until each container ends and prints their codes in order', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-w1', 'busybox', 'sh', '-c', 'sleep 0.5; exit 2']);
  await ok(['run', '-d', '--name', 'seed-w2', 'busybox', 'sh', '-c', 'exit 0']);
  try {
    assert.equal(await ok(['wait', 'seed-w1', 'seed-w2']), '2\n0\n');
    assert.equal(await berthOk(['wait', 'seed-w1', 'seed-w2']), '2\n0\n');
    const missing = await d.docker(['wait', 'seed-w1', 'seed-nosuch']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '2\n');
    assert.match(missing.stderr, /No such container: seed-nosuch/);
  } finally {
    await d.docker(['rm', '-f', 'seed-w1', 'seed-w2']);
  }
});

test('docker top passes ps options through: aux and -o pid,args', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-top', 'busybox', 'sh', '-c', 'sleep 300 & exec sleep 301']);
  try {
    for (let i = 0; i < 50 && !(await ok(['top', 'seed-top'])).includes('sleep 300'); i++) await sleep(100);
    const aux = await ok(['top', 'seed-top', 'aux']);
    assert.match(aux, /^USER\s+PID\s+%CPU\s+%MEM\s+VSZ\s+RSS\s+TTY\s+STAT\s+START\s+TIME\s+COMMAND$/m);
    assert.match(aux, /sleep 301$/m);
    const cols = await ok(['top', 'seed-top', '-o', 'pid,args']);
    const lines = cols.trim().split('\n');
    assert.match(lines[0]!, /^PID\s+COMMAND$/);
    assert.deepEqual(lines.slice(1).map((l) => l.replace(/^\d+\s+/, '')).sort(), ['sleep 300', 'sleep 301']);
    assert.equal(await berthOk(['top', 'seed-top', '-o', 'pid,args']), cols);
  } finally {
    await d.docker(['rm', '-f', 'seed-top']);
  }
});

test('docker cp copies directories into and out of running and stopped containers', { skip }, async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, 'config');
    await mkdir(join(src, 'nested'), { recursive: true });
    await writeFile(join(src, 'app.yml'), 'port: 8000\n');
    await writeFile(join(src, 'nested', 'db.yml'), 'host: db\n', { mode: 0o640 });
    await ok(['run', '-d', '--name', 'seed-cp', 'busybox', 'sleep', '300']);
    try {
      await ok(['cp', src, 'seed-cp:/etc/app']);
      assert.equal(await ok(['exec', 'seed-cp', 'sh', '-c', 'cat /etc/app/app.yml /etc/app/nested/db.yml; stat -c %a /etc/app/nested/db.yml']), 'port: 8000\nhost: db\n640\n');
      await ok(['cp', `${src}/.`, 'seed-cp:/srv']);
      assert.equal(await ok(['exec', 'seed-cp', 'cat', '/srv/app.yml']), 'port: 8000\n');
      await ok(['exec', 'seed-cp', 'sh', '-c', 'mkdir -p /var/log/app && echo started > /var/log/app/out.log']);
      await ok(['stop', '-t', '0', 'seed-cp']);
      const out = join(dir, 'out');
      await mkdir(out);
      await ok(['cp', 'seed-cp:/var/log/app', out]);
      assert.equal(await readFile(join(out, 'app', 'out.log'), 'utf8'), 'started\n');
      await ok(['cp', join(src, 'app.yml'), 'seed-cp:/tmp/while-stopped.yml']);
      await ok(['start', 'seed-cp']);
      assert.equal(await ok(['exec', 'seed-cp', 'cat', '/tmp/while-stopped.yml']), 'port: 8000\n');
      // A destination ending in / must exist: the docker CLI itself says so (archive.ErrDirNotExists).
      const missingDir = await d.docker(['cp', join(src, 'app.yml'), 'seed-cp:/no/such/dir/']);
      assert.equal(missingDir.code, 1);
      assert.match(missingDir.stderr, /no such directory/);
      const missingParent = await d.docker(['cp', join(src, 'app.yml'), 'seed-cp:/no/such/file.yml']);
      assert.equal(missingParent.code, 1);
      assert.match(missingParent.stderr, /Error response from daemon: .*\/no\/such/);
    } finally {
      await d.docker(['rm', '-f', 'seed-cp']);
    }
  });
});

test('docker commit -c applies Dockerfile instructions to the new image', { skip }, async () => {
  await ok(['run', '--name', 'seed-commit', 'busybox', 'sh', '-c', 'mkdir /app && echo "print(1)" > /app/app.py']);
  try {
    const id = (await ok(['commit', '-c', 'WORKDIR /app', '-c', 'ENV PORT=5000', '-c', 'EXPOSE 5000', '-c', 'CMD ["cat", "app.py"]', '-c', 'LABEL version=1.0.0', '-m', 'snapshot', 'seed-commit', 'seed-committed:1'])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const cfg = JSON.parse(await ok(['image', 'inspect', '-f', '{{json .Config}}', 'seed-committed:1'])) as Record<string, any>;
    assert.equal(cfg['WorkingDir'], '/app');
    assert.deepEqual(cfg['ExposedPorts'], { '5000/tcp': {} });
    assert.deepEqual(cfg['Labels'], { version: '1.0.0' });
    assert.ok((cfg['Env'] as string[]).includes('PORT=5000'));
    assert.equal(await ok(['run', '--rm', 'seed-committed:1']), 'print(1)\n');
    assert.match(await ok(['history', '--format', '{{.Comment}}', 'seed-committed:1']), /^snapshot$/m);
    const bad = await d.docker(['commit', '-c', 'BOGUS x', 'seed-commit']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /BOGUS/i);
  } finally {
    await d.docker(['rm', 'seed-commit']);
    await d.docker(['rmi', 'seed-committed:1']);
  }
});

test('docker save | gzip writes an archive that docker load -i reads back after rmi', { skip }, async () => {
  await withTempDir(async (dir) => {
    await ok(['run', '--name', 'seed-save', 'busybox', 'sh', '-c', 'echo saved > /marker']);
    await ok(['commit', '-c', 'CMD ["cat", "/marker"]', 'seed-save', 'myapp:1.0.0']);
    await ok(['rm', 'seed-save']);
    const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'myapp:1.0.0'])).trim();
    try {
      const gz = join(dir, 'myapp.tar.gz');
      const piped = await runCommand('sh', ['-c', `${DOCKER_CLI} save myapp:1.0.0 | gzip > '${gz}'`], { env: d.env, timeoutMs: 60_000 });
      assert.equal(piped.code, 0, piped.stderr);
      assert.ok((await stat(gz)).size > 100);
      await ok(['rmi', 'myapp:1.0.0']);
      assert.equal((await d.docker(['image', 'inspect', 'myapp:1.0.0'])).code, 1);
      assert.equal(await ok(['load', '-i', gz]), 'Loaded image: myapp:1.0.0\n');
      assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', 'myapp:1.0.0'])).trim(), id);
      assert.equal(await ok(['run', '--rm', 'myapp:1.0.0']), 'saved\n');
      // `docker load < file` reads stdin; a second load of the same image changes nothing.
      const again = await runCommand('sh', ['-c', `${DOCKER_CLI} load < '${gz}'`], { env: d.env, timeoutMs: 60_000 });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /Loaded image: myapp:1\.0\.0/);
      const tarPath = join(dir, 'myapp.tar');
      await ok(['image', 'save', '-o', tarPath, 'myapp:1.0.0']);
      const viaBerth = await berth(d.socketPath, ['load', '-i', tarPath], { timeoutMs: 60_000 });
      assert.deepEqual([viaBerth.code, viaBerth.stdout], [0, 'Loaded image: myapp:1.0.0\n']);
    } finally {
      await d.docker(['rmi', 'myapp:1.0.0']);
    }
  });
});

test('docker system df -v lists images, containers, volumes and build cache in Docker\'s sections', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-df', '-v', 'seed-df-vol:/data', 'busybox', 'sh', '-c', 'echo x > /data/f; sleep 300']);
  try {
    const out = await ok(['system', 'df', '-v']);
    assert.match(out, /^Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS$/m);
    assert.match(out, /^busybox\s+latest\s+[0-9a-f]{12}\s+.+\s+1$/m);
    assert.match(out, /^Containers space usage:\n\nCONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES$/m);
    assert.match(out, /^[0-9a-f]{12}\s+busybox\s+"sh -c \\"echo x > \/da…"\s+1\s+\S+\s+.+ ago\s+Up .+\s+seed-df$/m);
    assert.match(out, /^Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE$/m);
    assert.match(out, /^seed-df-vol\s+1\s+\S+$/m);
    assert.match(out, /^Build cache usage: \S+$/m);
    const summary = await ok(['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}}']);
    assert.match(summary, /^Images \d+ 1\nContainers 1 1\nLocal Volumes 1 1\nBuild Cache \d+ 0\n$/);
    // berth prints the same summary and the same verbose sections.
    assert.equal(await berthOk(['system', 'df']), await ok(['system', 'df']));
    // Ages move between the two calls, and with them the width of their columns (headers included).
    const strip = (s: string) => s.replace(/ {2,}\S.*? ago {2,}/g, '  <age>  ').replace(/Up .*? {2,}/g, 'Up <age>  ').replace(/ {2,}/g, '  ');
    assert.equal(strip(await berthOk(['system', 'df', '-v'])), strip(await ok(['system', 'df', '-v'])));
  } finally {
    await d.docker(['rm', '-f', 'seed-df']);
    await d.docker(['volume', 'rm', 'seed-df-vol']);
  }
});

test('docker ps -s shows the writable layer and the virtual size that includes the image', { skip }, async () => {
  await ok(['run', '-d', '--name', 'seed-size', 'busybox', 'sh', '-c', 'echo hi > /f; sleep 300']);
  try {
    for (let i = 0; i < 50 && (await d.docker(['exec', 'seed-size', 'test', '-e', '/f'])).code !== 0; i++) await sleep(100);
    const imageSize = (await ok(['images', '--format', '{{.Size}}', 'busybox'])).trim();
    const size = (await ok(['ps', '-s', '--filter', 'name=seed-size', '--format', '{{.Size}}'])).trim();
    assert.match(size, /^\d+B \(virtual \S+\)$/);
    assert.equal(size.replace(/^.*\(virtual (\S+)\)$/, '$1'), imageSize, 'a few bytes on top of the image');
    assert.equal(await berthOk(['ps', '-s', '--filter', 'name=seed-size', '--format', '{{.Size}}']), `${size}\n`);
    const [info] = JSON.parse(await ok(['inspect', '-s', 'seed-size'])) as Array<{ SizeRw: number; SizeRootFs: number }>;
    assert.ok(info!.SizeRw > 0 && info!.SizeRootFs > info!.SizeRw, JSON.stringify(info));
  } finally {
    await d.docker(['rm', '-f', 'seed-size']);
  }
});

test('a named volume keeps database files across container removal until docker volume rm', { skip }, async () => {
  await ok(['run', '--name', 'seed-db1', '-v', 'pgdata:/var/lib/postgresql/data', 'busybox', 'sh', '-c', 'echo row1 >> /var/lib/postgresql/data/table']);
  try {
    await ok(['rm', 'seed-db1']);
    assert.equal(await ok(['run', '--rm', '-v', 'pgdata:/var/lib/postgresql/data', 'busybox', 'cat', '/var/lib/postgresql/data/table']), 'row1\n');
    assert.match(await ok(['volume', 'ls']), /^local\s+pgdata$/m);
    assert.match((await ok(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Mountpoint}}', 'pgdata'])).trim(), /^pgdata local \/\S+\/volumes\/pgdata\/_data$/);
    await ok(['run', '-d', '--name', 'seed-db2', '-v', 'pgdata:/data', 'busybox', 'sleep', '300']);
    const inUse = await d.docker(['volume', 'rm', 'pgdata']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /volume is in use/);
    await ok(['rm', '-f', 'seed-db2']);
    // Like `docker compose down -v`: removing the volume is the only thing that loses the data.
    assert.equal(await ok(['volume', 'rm', 'pgdata']), 'pgdata\n');
    assert.equal(await ok(['run', '--rm', '-v', 'pgdata:/data', 'busybox', 'ls', '/data']), '');
  } finally {
    await d.docker(['rm', '-f', 'seed-db1', 'seed-db2']);
    await d.docker(['volume', 'rm', 'pgdata']);
  }
});

test('the prune commands ask first as docker does; berth asks the same and keeps everything on no', { skip }, async () => {
  const id = (await ok(['create', '--name', 'seed-prompt', 'busybox', 'true'])).trim();
  try {
    for (const args of [['system', 'prune'], ['system', 'prune', '-a', '--volumes'], ['container', 'prune'], ['image', 'prune', '-a'], ['volume', 'prune']]) {
      const theirs = await d.docker(args, { input: 'n\n' });
      const ours = await berth(d.socketPath, args, { input: 'n\n', timeoutMs: 60_000 });
      assert.match(theirs.stdout, /^WARNING! This will remove/);
      assert.deepEqual([ours.code, ours.stdout, ours.stderr], [theirs.code, theirs.stdout, theirs.stderr], args.join(' '));
    }
    assert.equal((await ok(['ps', '-aq', '--no-trunc'])).trim(), id, 'answering no removed nothing');
    const yes = await berth(d.socketPath, ['container', 'prune'], { input: 'y\n', timeoutMs: 60_000 });
    assert.equal(yes.stdout, `WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] Deleted Containers:\n${id}\n\nTotal reclaimed space: 0B\n`);
  } finally {
    await d.docker(['rm', '-f', 'seed-prompt']);
  }
});
