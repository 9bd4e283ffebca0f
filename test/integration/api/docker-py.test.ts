// docker-py (the library docker-compose 1.29 is built on) against a harness berthd: version
// negotiation from /version, ping, info, and events with since/until.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, startTestDaemon } from '../../helpers/daemon.js';

const SCRIPT = `
import docker, json, sys, time
sock = sys.argv[1]
c = docker.DockerClient(base_url='unix://' + sock, version='auto')
out = {'ping': c.ping(), 'negotiated': c.api.api_version}
v = c.version()
out['platform'] = v['Platform']['Name']
out['driver'] = c.info()['Driver']
t0 = time.time() - 1
c.api.import_image(src=sys.argv[2], repository='pyevents', tag='1')
c.api.tag('pyevents:1', 'pyevents', '2')
evs = list(c.events(since=t0, until=time.time() + 0.01, decode=True, filters={'type': 'image'}))
out['events'] = [[e['Type'], e['Action'], e.get('status')] for e in evs]
out['old_info'] = docker.APIClient(base_url='unix://' + sock, version='1.24').info()['ServerVersion']
print(json.dumps(out))
`;

test('docker-py negotiates from /version and reads ping, info and image events', async (t) => {
  const probe = await runCommand('python3', ['-c', 'import docker'], { timeoutMs: 20_000 }).catch(() => ({ code: 1, stdout: '', stderr: '' }));
  if (probe.code !== 0) {
    t.skip('python3 with the docker package (docker-py) is not installed');
    return;
  }
  const d = await startTestDaemon(t);
  if (!d) return;
  const { mkdtemp, writeFile, rm, mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'berth-py-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'rootfs'));
  await writeFile(join(dir, 'rootfs/hello'), 'hi\n');
  assert.equal((await runCommand('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'r.tar'), '.'])).code, 0);
  const r = await runCommand('python3', ['-c', SCRIPT, d.socketPath, join(dir, 'r.tar')], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ping: boolean; negotiated: string; platform: string; driver: string; events: string[][]; old_info: string };
  assert.equal(out.ping, true);
  assert.equal(out.negotiated, '1.51');
  assert.equal(out.platform, 'berth');
  assert.equal(out.driver, 'overlay2');
  assert.ok(out.events.some(([type, action, status]) => type === 'image' && action === 'import' && status === 'import'), r.stdout);
  assert.ok(out.events.some(([, action]) => action === 'tag'), r.stdout);
  assert.match(out.old_info, /^\d+\.\d+\.\d+$/);
});
