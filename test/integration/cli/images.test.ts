// The berth image commands end to end against a real berthd: output in docker's format,
// round trips through save/load, and docker's exit codes and error text for bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { DOCKER_CLI, isRoot, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { berth, tinyRootfs } from './berth-cli.js';

describe('berth image commands', { skip: isRoot() ? false : 'needs root: berthd unpacks layers as root' }, () => {
  let d: TestDaemon;
  let dir: string;
  let sock: string;
  let id: string;

  before(async () => {
    d = (await startTestDaemon())!;
    sock = d.socketPath;
    dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
    await writeFile(join(dir, 'rootfs.tar'), await tinyRootfs());
    const r = await berth(sock, ['import', '-c', 'CMD ["sh"]', '-c', 'ENV A=1', '-m', 'from a test', join(dir, 'rootfs.tar'), 'clitest:1']);
    assert.equal(r.code, 0, r.stderr);
    id = r.stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await d?.stop();
  });

  test('import applies --change instructions and the message to the new image', async () => {
    const r = await berth(sock, ['inspect', '--format', '{{json .Config.Cmd}} {{index .Config.Env 0}} {{.Comment}} {{.Id}}', 'clitest:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `["sh"] A=1 from a test ${id}\n`);
  });

  test('images prints docker header and a row per tag; -q prints short ids', async () => {
    const r = await berth(sock, ['images']);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    assert.match(header!, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
    assert.ok(rows.some((l) => new RegExp(`^clitest +1 +${id.slice(7, 19)} +.* ago +\\S+B$`).test(l)), r.stdout);
    const q = await berth(sock, ['images', '-q', 'clitest']);
    assert.equal(q.stdout, `${id.slice(7, 19)}\n`);
    const f = await berth(sock, ['image', 'ls', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', 'clitest:1']);
    assert.equal(f.stdout, `clitest:1 ${id}\n`);
    const j = await berth(sock, ['images', '--format', 'json', 'clitest']);
    assert.equal((JSON.parse(j.stdout) as { Repository: string }).Repository, 'clitest');
  });

  test('tag adds a name that rmi removes again with docker wording', async () => {
    assert.equal((await berth(sock, ['tag', 'clitest:1', 'clitest:two'])).code, 0);
    const ls = await berth(sock, ['images', '--format', '{{.Tag}}', 'clitest']);
    assert.deepEqual(ls.stdout.trim().split('\n').sort(), ['1', 'two']);
    const rm1 = await berth(sock, ['rmi', 'clitest:two']);
    assert.equal(rm1.code, 0, rm1.stderr);
    assert.equal(rm1.stdout, 'Untagged: clitest:two\n');
  });

  test('history shows the import step with docker columns', async () => {
    const r = await berth(sock, ['history', 'clitest:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.split('\n')[0]!, /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
    assert.match(r.stdout, /from a test/);
    const q = await berth(sock, ['history', '-q', '--no-trunc', 'clitest:1']);
    assert.equal(q.stdout.trim().split('\n')[0], id);
  });

  test('save to a file and load it back restores the same image', async () => {
    const archive = join(dir, 'saved.tar');
    const s = await berth(sock, ['save', '-o', archive, 'clitest:1']);
    assert.equal(s.code, 0, s.stderr);
    assert.ok((await stat(archive)).size > 1024);
    assert.equal((await berth(sock, ['rmi', 'clitest:1'])).code, 0);
    assert.equal((await berth(sock, ['image', 'inspect', 'clitest:1'])).code, 1);
    const l = await berth(sock, ['load', '-i', archive]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /Loaded image: clitest:1/);
    const i = await berth(sock, ['inspect', '--format', '{{.Id}}', 'clitest:1']);
    assert.equal(i.stdout.trim(), id);
  });

  test('save to a pipe streams a tar that load reads from stdin', async () => {
    const s = await berth(sock, ['save', 'clitest:1']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdoutBytes.subarray(257, 262).toString('latin1'), 'ustar');
    assert.equal((await berth(sock, ['rmi', 'clitest:1'])).code, 0);
    const l = await berth(sock, ['load', '-q'], { input: s.stdoutBytes });
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /Loaded image: clitest:1/);
  });

  test('import reads a rootfs tar from stdin with -', async () => {
    const r = await berth(sock, ['import', '-', 'clitest:stdin'], { input: await tinyRootfs('stdin') });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    assert.equal((await berth(sock, ['rmi', 'clitest:stdin'])).code, 0);
  });

  test('a missing image fails with exit 1 and the daemon message', async () => {
    const r = await berth(sock, ['image', 'inspect', 'nothere']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '[]\n');
    assert.match(r.stderr, /^Error response from daemon: No such image: nothere(:latest)?\n$/);
    const h = await berth(sock, ['history', 'nothere']);
    assert.equal(h.code, 1);
    assert.match(h.stderr, /^Error response from daemon: No such image/);
    const i = await berth(sock, ['inspect', 'nothere']);
    assert.equal(i.code, 1);
    assert.equal(i.stderr, 'Error: No such object: nothere\n');
  });

  test('an invalid reference is refused with exit 1 and changes nothing', async () => {
    const before = (await berth(sock, ['images', '-q', '--no-trunc'])).stdout;
    const r = await berth(sock, ['tag', 'clitest:1', 'BAD::NAME']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error response from daemon: .*invalid reference format/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal((await berth(sock, ['images', '-q', '--no-trunc'])).stdout, before);
  });

  test('usage errors exit 125 for flags and 1 for arguments, as docker does', async () => {
    const flag = await berth(sock, ['images', '--bogus']);
    assert.equal(flag.code, 125);
    assert.match(flag.stderr, /unknown flag: --bogus/);
    const args = await berth(sock, ['tag', 'only-one']);
    assert.equal(args.code, 1);
    assert.match(args.stderr, /'berth tag' requires 2 arguments/);
    const filter = await berth(sock, ['image', 'prune', '-f', '--filter', 'nonsense']);
    assert.equal(filter.code, 125);
    assert.match(filter.stderr, /bad format of filter \(expected name=value\)/);
  });

  test('berth prints byte for byte what the docker CLI prints for the same daemon', { skip: existsSync(DOCKER_CLI) ? false : `${DOCKER_CLI} is absent` }, async () => {
    const cases = [
      ['images', '--format', 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}\t{{.Digest}}'],
      ['images', '--format', '{{json .}}', '--filter', 'reference=clitest'],
      ['images', '-q', '--no-trunc'],
      ['images', '-a', '--digests', '--format', 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.Size}}'],
      ['images', '--filter', 'dangling=true', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Containers}} {{.SharedSize}}'],
      ['inspect', 'clitest:1'],
      ['image', 'inspect', '--format', '{{.Id}} {{json .Config}} {{.RootFS.Layers}}', 'clitest:1'],
      ['history', '--format', 'table {{.ID}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}', 'clitest:1'],
      ['history', '-H=false', '--format', '{{.CreatedAt}} {{.Size}}', 'clitest:1'],
      ['system', 'df'],
      ['tag', 'nothere', 'x'],
      ['rmi', 'nothere'],
    ];
    // A dangling image (imported without a name) for the <none> rows.
    assert.equal((await berth(sock, ['import', join(dir, 'rootfs.tar')], {})).code, 0);
    // An age ("4 seconds ago") can tick over between the two calls; everything else must match.
    const ages = (out: string) => out.replace(/"CreatedSince":"[^"]*"/g, '"CreatedSince":"<age>"');
    for (const args of cases) {
      const ours = await berth(sock, args);
      const theirs = await d.docker(args);
      assert.equal(ages(ours.stdout), ages(theirs.stdout), `stdout of ${args.join(' ')}`);
      assert.equal(ours.code, theirs.code, `exit status of ${args.join(' ')}`);
      assert.equal(ours.stderr.replace('berth daemon', 'Docker daemon'), theirs.stderr, `stderr of ${args.join(' ')}`);
    }
    // info: the client part names the client; the server part must match line for line.
    const server = (text: string) => text.slice(text.indexOf('\nServer:'));
    assert.equal(server((await berth(sock, ['info'])).stdout), server((await d.docker(['info'])).stdout));
  });

  test('a missing input file is named before anything is sent', async () => {
    for (const args of [['load', '-i', '/nonexistent/berth.tar'], ['import', '/nonexistent/berth.tar', 'x:1']]) {
      const r = await berth(sock, args);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'berth: open /nonexistent/berth.tar: no such file or directory\n');
    }
  });

  test('load of a corrupt archive fails with exit 1 and one line', async () => {
    const r = await berth(sock, ['load'], { input: Buffer.from('this is not a tar archive at all'.repeat(40)) });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  test('system df and info answer in docker layout', async () => {
    const df = await berth(sock, ['system', 'df']);
    assert.equal(df.code, 0, df.stderr);
    assert.match(df.stdout, /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\nImages +\d+ +\d+ /);
    const info = await berth(sock, ['info', '--format', '{{.DockerRootDir}}']);
    assert.equal(info.stdout.trim(), d.dataRoot);
  });

  test('events replays recent image events between since and until', async () => {
    const r = await berth(sock, ['events', '--since', '10m', '--until', '0s', '--filter', 'type=image', '--format', '{{.Type}} {{.Action}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^image (import|tag|untag|load|delete)/m);
  });

  test('version prints client and server parts', async () => {
    const r = await berth(sock, ['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Client:\n Version: +\S+/);
    assert.match(r.stdout, /\nServer: .*\n Engine:\n  Version: +\S+/);
    const f = await berth(sock, ['version', '--format', '{{.Server.ApiVersion}}']);
    assert.match(f.stdout, /^1\.\d+\n$/);
  });
});

test('berth never starts a daemon for a host that is not the default one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-nohost-'));
  try {
    const sock = join(dir, 'none.sock');
    const r = await berth(sock, ['images']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Cannot connect to the berth daemon at unix://${sock}. Is the daemon running?\n`);
    const v = await berth(sock, ['version']);
    assert.equal(v.code, 1);
    assert.match(v.stdout, /^Client:\n/);
    assert.doesNotMatch(v.stdout + v.stderr, /started the daemon/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe('berth events and prune prompts', { skip: isRoot() ? false : 'needs root: berthd unpacks layers as root' }, () => {
  let d: TestDaemon;
  let dir: string;
  before(async () => {
    d = (await startTestDaemon())!;
    dir = await mkdtemp(join(tmpdir(), 'berth-cli-ev-'));
    await writeFile(join(dir, 'rootfs.tar'), await tinyRootfs());
    assert.equal((await berth(d.socketPath, ['import', join(dir, 'rootfs.tar'), 'evtest:1'])).code, 0);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await d?.stop();
  });

  test('events streams new events until interrupted', async () => {
    const { spawn } = await import('node:child_process');
    const { berthArgv } = await import('./berth-cli.js');
    const child = spawn(process.execPath, [...berthArgv(), '-H', `unix://${d.socketPath}`, 'events', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const seen = new Promise<void>((resolve) =>
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('image tag')) resolve();
      }),
    );
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // The stream is open once the CLI has connected; tag until the event shows up.
      for (let i = 0; i < 50 && !out.includes('image tag'); i++) {
        await berth(d.socketPath, ['tag', 'evtest:1', `evtest:t${i}`]);
        await Promise.race([seen, new Promise((r) => setTimeout(r, 200))]);
      }
      assert.match(out, /^image tag evtest:t\d+$/m);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('image prune asks first and does nothing when the answer is no', async () => {
    assert.equal((await berth(d.socketPath, ['import', join(dir, 'rootfs.tar')])).code, 0);
    const danglingBefore = (await berth(d.socketPath, ['images', '-q', '--filter', 'dangling=true'])).stdout;
    assert.notEqual(danglingBefore, '');
    const no = await berth(d.socketPath, ['image', 'prune'], { input: 'n\n' });
    assert.equal(no.code, 0, no.stderr);
    assert.match(no.stdout, /WARNING! This will remove all dangling images\.\nAre you sure you want to continue\? \[y\/N\] /);
    assert.equal((await berth(d.socketPath, ['images', '-q', '--filter', 'dangling=true'])).stdout, danglingBefore);
    const yes = await berth(d.socketPath, ['image', 'prune'], { input: 'y\n' });
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stdout, /Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n[\s\S]*\nTotal reclaimed space: \S+B\n$/);
    assert.equal((await berth(d.socketPath, ['images', '-q', '--filter', 'dangling=true'])).stdout, '');
  });
});
