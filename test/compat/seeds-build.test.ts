// The Dockerfiles the seeds teach, built with the plain `docker build` a reader types (docker 28
// falls back to the legacy builder against berthd) and with `berth build`: a non-root service
// image with HEALTHCHECK/EXPOSE/LABEL, dependency-first layer caching, ENTRYPOINT + CMD,
// .dockerignore with the seeds' patterns, multi-stage to scratch, -f, --target, ARG/ENV,
// secrets left in ENV staying visible in the history, tags for a registry.
import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand, type DockerResult, type TestDaemon } from '../helpers/daemon.js';
import { REPO } from '../helpers/entry-point.js';
import { busyboxSuite } from '../helpers/busybox-suite.js';
import { berth, berthArgv } from '../integration/cli/berth-cli.js';

const suite = busyboxSuite();
const { skip, ok } = suite;
const DEBIAN_TAR = '/var/cache/berth/debian-bookworm-minbase.tar';

let d: TestDaemon;

before(async () => {
  if (!skip) d = await suite.ready();
});

/** A temp build context with `files` (relative path → content), removed after the test. */
async function context(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-seeds-build-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [p, c] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), c);
  }
  return dir;
}

/** `docker build` as the seeds type it: no DOCKER_BUILDKIT, the context directory last. */
function build(dir: string, args: string[]): Promise<DockerResult> {
  const env = { ...d.env };
  delete env['DOCKER_BUILDKIT'];
  return runCommand('/usr/local/bin/docker', ['build', ...args, dir], { env, timeoutMs: 180_000 });
}

async function built(dir: string, args: string[]): Promise<string> {
  const r = await build(dir, args);
  assert.equal(r.code, 0, `docker build ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const serviceDockerfile = `# 1. Choose a base image
FROM busybox

# Metadata
LABEL author="DevOps Team"
LABEL version="1.0.0"

# 2. Set working directory inside the container
WORKDIR /app

# 3. Create a non-root user early (busybox has no adduser: the same lines it would write)
RUN echo 'appgroup:x:1001:' >> /etc/group \\
 && echo 'appuser:x:1001:1001::/home/appuser:/bin/sh' >> /etc/passwd \\
 && mkdir -p /home/appuser && chown appuser:appgroup /home/appuser

# 4. Install dependencies FIRST
COPY requirements.txt .
RUN sed 's/==.*//' requirements.txt > installed.txt && echo installing-deps

# 5. Copy application code last
COPY --chown=appuser:appgroup app/ ./app/

ENV PORT=5000
# 6. Document which port the app listens on
EXPOSE 8000
# 7. Switch to the non-root user
USER appuser
HEALTHCHECK --interval=30s --timeout=3s --start-period=40s --retries=3 \\
  CMD wget -q -O /dev/null http://localhost:8000/health || exit 1
# 8. Define the default startup command
CMD ["sh", "-c", "echo port=$PORT; id -un; pwd; cat installed.txt; stat -c '%u %g %n' app/main.py"]
`;

test('the seeds\' service Dockerfile builds with docker build -t and runs as its non-root user with its config', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: serviceDockerfile,
    'requirements.txt': 'flask==3.0.0\ngunicorn==21.2.0\n',
    'app/main.py': 'print("v1")\n',
  });
  const out = await built(dir, ['-t', 'my-python-app:1.0']);
  assert.match(out, /^Step 1\/13 : FROM busybox$/m);
  assert.match(out, /^installing-deps$/m);
  assert.match(out, /^Successfully built [0-9a-f]{12}$/m);
  assert.match(out, /^Successfully tagged my-python-app:1\.0$/m);
  t.after(async () => void (await d.docker(['rmi', '-f', 'my-python-app:1.0'])));

  assert.match(await ok(['images', 'my-python-app']), /^my-python-app\s+1\.0\s+[0-9a-f]{12}\s+.+ ago\s+\d/m);
  const [img] = JSON.parse(await ok(['image', 'inspect', 'my-python-app:1.0'])) as Array<{ Config: Record<string, any> }>;
  const c = img!.Config;
  assert.equal(c['User'], 'appuser');
  assert.equal(c['WorkingDir'], '/app');
  assert.deepEqual(c['ExposedPorts'], { '8000/tcp': {} });
  assert.ok((c['Env'] as string[]).includes('PORT=5000'));
  assert.deepEqual(c['Labels'], { author: 'DevOps Team', version: '1.0.0' });
  assert.deepEqual(c['Healthcheck'], {
    Test: ['CMD-SHELL', 'wget -q -O /dev/null http://localhost:8000/health || exit 1'],
    Interval: 30_000_000_000,
    Timeout: 3_000_000_000,
    StartPeriod: 40_000_000_000,
    Retries: 3,
  });

  assert.equal(await ok(['run', '--rm', 'my-python-app:1.0']), 'port=5000\nappuser\n/app\nflask\ngunicorn\n1001 1001 app/main.py\n');
  // Runtime env overrides the image's ENV; run arguments replace the CMD.
  assert.match(await ok(['run', '--rm', '-e', 'PORT=9000', 'my-python-app:1.0']), /^port=9000\nappuser\n/);
  assert.equal(await ok(['run', '--rm', 'my-python-app:1.0', 'id', '-u']), '1001\n');
  // The image's HEALTHCHECK applies to its containers (state starting until the first probe).
  const id = (await ok(['create', 'my-python-app:1.0'])).trim();
  t.after(async () => void (await d.docker(['rm', '-f', id])));
  assert.equal((await ok(['inspect', '-f', '{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Retries}}', id])).trim(), '["CMD-SHELL","wget -q -O /dev/null http://localhost:8000/health || exit 1"] 3');
});

test('an image HEALTHCHECK turns its container healthy, then unhealthy; docker itself does not restart an unhealthy one', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: 'FROM busybox\nHEALTHCHECK --interval=1s --timeout=3s --start-period=0s --retries=1 \\\n  CMD test -e /tmp/healthy || exit 1\nCMD ["sh", "-c", "touch /tmp/healthy; exec sleep 300"]\n',
  });
  t.after(async () => {
    await d.docker(['rm', '-f', 'seed-hc']);
    await d.docker(['rmi', '-f', 'hc-app:1']);
  });
  await built(dir, ['-t', 'hc-app:1']);
  await ok(['run', '-d', '--name', 'seed-hc', '--restart', 'unless-stopped', 'hc-app:1']);
  const status = async () => (await ok(['inspect', '-f', '{{.State.Health.Status}}', 'seed-hc'])).trim();
  const until = async (want: string) => {
    for (let i = 0; i < 100 && (await status()) !== want; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await status(), want);
  };
  await until('healthy');
  assert.match(await ok(['ps', '--filter', 'name=seed-hc', '--format', '{{.Status}}']), /^Up .* \(healthy\)$/m);
  await ok(['exec', 'seed-hc', 'rm', '/tmp/healthy']);
  await until('unhealthy');
  // The seeds say an unhealthy container is restarted "with the right restart policy": dockerd
  // never does that (only Swarm/orchestrators act on health); it keeps running, unhealthy.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}} {{.RestartCount}} {{.State.Health.Status}}', 'seed-hc'])).trim(), 'running 0 unhealthy');
});

test('EXPOSE only documents a port: nothing is published without -p', { skip }, async (t) => {
  const dir = await context(t, { Dockerfile: 'FROM busybox\nEXPOSE 8000\nCMD ["sleep", "300"]\n' });
  t.after(async () => {
    await d.docker(['rm', '-f', 'seed-exp1']);
    await d.docker(['rmi', '-f', 'exposed:1']);
  });
  await built(dir, ['-t', 'exposed:1']);
  await ok(['run', '-d', '--name', 'seed-exp1', 'exposed:1']);
  assert.equal(await ok(['port', 'seed-exp1']), '');
  assert.match(await ok(['ps', '--filter', 'name=seed-exp1', '--format', '{{.Ports}}']), /^8000\/tcp$/m);
});

test('-P publishes the ports the image EXPOSEs on random host ports', {
  skip,
}, async (t) => {
  const dir = await context(t, { Dockerfile: 'FROM busybox\nEXPOSE 8000\nCMD ["sleep", "300"]\n' });
  t.after(async () => {
    await d.docker(['rm', '-f', 'seed-exp2']);
    await d.docker(['rmi', '-f', 'exposed:2']);
  });
  await built(dir, ['-t', 'exposed:2']);
  await ok(['run', '-d', '--name', 'seed-exp2', '-P', 'exposed:2']);
  assert.match(await ok(['port', 'seed-exp2', '8000']), /^0\.0\.0\.0:\d+$/m);
});

test('ENTRYPOINT ["/sbin/tini", "--"] runs the CMD under an init as pid 1 (the seeds\' init-process pattern)', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: 'FROM busybox\n# Use init process (handles signals properly)\nENTRYPOINT ["/sbin/tini", "--"]\nCOPY tini /sbin/tini\nCMD ["sh", "-c", "echo pid=$$; cat /proc/1/cmdline"]\n',
  });
  // catatonit (Debian) is a static init with tini's `--` convention: it stands in for tini.
  await writeFile(join(dir, 'tini'), await readFile('/usr/bin/catatonit'), { mode: 0o755 });
  t.after(async () => void (await d.docker(['rmi', '-f', 'tini-app:1'])));
  await built(dir, ['-t', 'tini-app:1']);
  const out = (await ok(['run', '--rm', 'tini-app:1'])).replaceAll('\0', ' ');
  assert.doesNotMatch(out, /^pid=1$/m, 'the command is not pid 1');
  assert.match(out, /^\/sbin\/tini -- sh -c /m);
  // SIGTERM from docker stop reaches sh through the init.
  await ok(['run', '-d', '--name', 'seed-tini', 'tini-app:1', 'sh', '-c', "trap 'exit 7' TERM; while true; do sleep 0.1; done"]);
  t.after(async () => void (await d.docker(['rm', '-f', 'seed-tini'])));
  await ok(['stop', '-t', '10', 'seed-tini']);
  assert.equal((await ok(['inspect', '-f', '{{.State.ExitCode}}', 'seed-tini'])).trim(), '7');
});

test('copying the dependency list before the code keeps the install step cached when only code changes', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: serviceDockerfile,
    'requirements.txt': 'flask==3.0.0\n',
    'app/main.py': 'print("v1")\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'cache-order:1'])));
  await built(dir, ['-t', 'cache-order:1']);
  const again = await built(dir, ['-t', 'cache-order:1']);
  assert.equal((again.match(/---> Using cache/g) ?? []).length, 12, again);
  assert.doesNotMatch(again, /^installing-deps$/m);

  await writeFile(join(dir, 'app/main.py'), 'print("v2")\n');
  const codeChange = await built(dir, ['-t', 'cache-order:1']);
  assert.doesNotMatch(codeChange, /^installing-deps$/m, 'the dependency install stays cached');
  assert.match(codeChange, /Step 7\/13 : RUN sed .*\n ---> Using cache/);
  assert.match(codeChange, /Step 8\/13 : COPY --chown=appuser:appgroup app\/ \.\/app\/\n ---> (?!Using cache)/);

  await writeFile(join(dir, 'requirements.txt'), 'flask==3.0.1\nredis==5.0\n');
  const depChange = await built(dir, ['-t', 'cache-order:1']);
  assert.match(depChange, /^installing-deps$/m, 'a changed requirements.txt re-runs the install');
  assert.equal(await ok(['run', '--rm', 'cache-order:1', 'cat', 'installed.txt']), 'flask\nredis\n');

  // --no-cache runs every step again.
  const fresh = await built(dir, ['--no-cache', '-t', 'cache-order:1']);
  assert.doesNotMatch(fresh, /Using cache/);
  assert.match(fresh, /^installing-deps$/m);
});

test('ENTRYPOINT with CMD makes the image a command whose default arguments docker run replaces', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: 'FROM busybox\nENTRYPOINT ["echo", "gunicorn"]\nCMD ["--port", "8000"]\n',
    'cmd-only.Dockerfile': 'FROM busybox\nCMD ["echo", "python", "app.py"]\n',
    'shell-form.Dockerfile': 'FROM busybox\nENV GREETING=hi\nCMD echo "$GREETING from $HOME"\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'ep:1', 'cmdonly:1', 'shellform:1'])));
  await built(dir, ['-t', 'ep:1']);
  assert.equal(await ok(['run', '--rm', 'ep:1']), 'gunicorn --port 8000\n');
  assert.equal(await ok(['run', '--rm', 'ep:1', '--port', '9000']), 'gunicorn --port 9000\n');
  await built(dir, ['-f', join(dir, 'cmd-only.Dockerfile'), '-t', 'cmdonly:1']);
  assert.equal(await ok(['run', '--rm', 'cmdonly:1']), 'python app.py\n');
  assert.equal(await ok(['run', '--rm', 'cmdonly:1', 'ls', '-d', '/etc']), '/etc\n');
  await built(dir, ['--file', join(dir, 'shell-form.Dockerfile'), '-t', 'shellform:1']);
  assert.equal((await ok(['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'shellform:1'])).trim(), '["/bin/sh","-c","echo \\"$GREETING from $HOME\\""]');
  assert.equal(await ok(['run', '--rm', 'shellform:1']), 'hi from /root\n');
});

test('docker build -f ./custom.Dockerfile reads the named file from the context', { skip }, async (t) => {
  const dir = await context(t, {
    'custom.Dockerfile': 'FROM busybox\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n',
    'hello.txt': 'custom\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'myapp:1.0.0'])));
  // The seeds' relative form, typed in the context directory.
  const rel = await runCommand('sh', ['-c', `cd '${dir}' && /usr/local/bin/docker build -f ./custom.Dockerfile -t myapp:1.0.0 .`], { env: d.env, timeoutMs: 120_000 });
  assert.equal(rel.code, 0, rel.stdout + rel.stderr);
  assert.equal(await ok(['run', '--rm', 'myapp:1.0.0']), 'custom\n');
  const missing = await runCommand('sh', ['-c', `cd '${dir}' && /usr/local/bin/docker build -f ./nope.Dockerfile .`], { env: d.env, timeoutMs: 60_000 });
  assert.notEqual(missing.code, 0);
});

test('.dockerignore with the seeds\' patterns keeps exactly what Docker keeps out of COPY . .', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: 'FROM busybox\nWORKDIR /app\nCOPY . .\nCMD ["find", ".", "-type", "f"]\n',
    '.dockerignore': [
      '# .dockerignore',
      '.git',
      '.venv/',
      '__pycache__/',
      '*.pyc',
      '.env',
      '.env.*',
      'node_modules',
      'dist/',
      'build/',
      '*.egg-info',
      '*.log',
      '.pytest_cache',
      'workspace/',
      '',
    ].join('\n'),
    '.git/HEAD': 'ref\n',
    '.venv/lib/site.py': 'x\n',
    '__pycache__/main.cpython-312.pyc': 'x\n',
    'main.pyc': 'x\n',
    'main.py': 'print(1)\n',
    '.env': 'API_KEY=secret\n',
    '.env.production': 'API_KEY=secret\n',
    'env.example': 'API_KEY=\n',
    'node_modules/left-pad/index.js': 'x\n',
    'dist/bundle.js': 'x\n',
    'build/out.o': 'x\n',
    'pkg.egg-info/PKG-INFO': 'x\n',
    'debug.log': 'x\n',
    '.pytest_cache/v/cache': 'x\n',
    'workspace/clone/README': 'x\n',
    // Patterns without a slash match at the context root only (Go's filepath.Match per path).
    'src/__pycache__/mod.cpython-312.pyc': 'x\n',
    'src/mod.pyc': 'x\n',
    'src/app.log': 'x\n',
    'src/node_modules/x.js': 'x\n',
    'src/mod.py': 'x\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'ignored:1'])));
  await built(dir, ['-t', 'ignored:1']);
  assert.deepEqual((await ok(['run', '--rm', 'ignored:1'])).trim().split('\n').sort(), [
    './.dockerignore',
    './Dockerfile',
    './env.example',
    './main.py',
    './src/__pycache__/mod.cpython-312.pyc',
    './src/app.log',
    './src/mod.py',
    './src/mod.pyc',
    './src/node_modules/x.js',
  ]);
  // `**/` reaches into subdirectories, and `!` brings a file back.
  await writeFile(join(dir, '.dockerignore'), '**/*.pyc\n**/__pycache__\n*.log\n!debug.log\n.git\n.venv\n.env*\nnode_modules\nsrc/node_modules\ndist\nbuild\n*.egg-info\n.pytest_cache\nworkspace\n');
  await built(dir, ['-t', 'ignored:1']);
  assert.deepEqual((await ok(['run', '--rm', 'ignored:1'])).trim().split('\n').sort(), [
    './.dockerignore',
    './Dockerfile',
    './debug.log',
    './env.example',
    './main.py',
    './src/app.log',
    './src/mod.py',
  ]);
});

test('a multi-stage build into scratch ships only the copied artifact; --target stops at the builder', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: [
      '# Stage 1: Build',
      'FROM busybox AS builder',
      'WORKDIR /app',
      'COPY go.mod ./',
      // The "compiled binary" is the static busybox (it picks its applet from argv[0], hence its name).
      'RUN mkdir -p /out && cp /bin/busybox /out/busybox && echo built > /app/build.log',
      '',
      '# Stage 2: Runtime (only the binary)',
      'FROM scratch',
      'COPY --from=builder /out/busybox /bin/busybox',
      'EXPOSE 8080',
      'CMD ["/bin/busybox", "echo", "from scratch"]',
      '',
    ].join('\n'),
    'go.mod': 'module example.com/server\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'server:1', 'server:builder'])));
  await built(dir, ['-t', 'server:1']);
  assert.equal(await ok(['run', '--rm', 'server:1']), 'from scratch\n');
  assert.equal(await ok(['run', '--rm', 'server:1', '/bin/busybox', 'ls', '/bin']), 'busybox\n');
  const layers = JSON.parse(await ok(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'server:1'])) as string[];
  assert.equal(layers.length, 1, 'one layer: the copied binary');
  const hist = (await ok(['history', '--format', '{{.CreatedBy}}', 'server:1'])).trim().split('\n');
  assert.equal(hist.length, 3, hist.join('\n'));
  assert.match(hist[0]!, /^CMD \[/);
  assert.match(hist[2]!, /COPY/);
  const size = (name: string) => ok(['image', 'inspect', '-f', '{{.Size}}', name]).then((s) => Number(s.trim()));
  assert.ok((await size('server:1')) < (await size('busybox')), 'the runtime image is smaller than its builder base');

  const target = await built(dir, ['--target', 'builder', '-t', 'server:builder']);
  assert.doesNotMatch(target, /FROM scratch/);
  assert.equal(await ok(['run', '--rm', 'server:builder', 'cat', '/app/build.log']), 'built\n');
});

test('the history records a JSON-form CMD and ENTRYPOINT as BuildKit does (Go %q of the list)', { skip }, async (t) => {
  const dir = await context(t, { Dockerfile: 'FROM busybox\nENTRYPOINT ["echo", "gunicorn"]\nCMD ["--port", "8000"]\n' });
  t.after(async () => void (await d.docker(['rmi', '-f', 'histfmt:1'])));
  await built(dir, ['-t', 'histfmt:1']);
  const hist = (await ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'histfmt:1'])).trim().split('\n');
  assert.equal(hist[0], 'CMD ["--port" "8000"]');
  assert.equal(hist[1], 'ENTRYPOINT ["echo" "gunicorn"]');
});

test('ARG defaults, --build-arg and ENV reach RUN steps and the running container', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: 'FROM busybox\nARG VERSION=1.0.0\nARG BUILD_ENV\nENV APP_VERSION=$VERSION DB_HOST=localhost DB_PORT=5432 LOG_LEVEL=INFO\nRUN echo "built $VERSION for ${BUILD_ENV:-dev}" > /build.txt\nCMD ["sh", "-c", "cat /build.txt; echo $APP_VERSION $DB_HOST:$DB_PORT $LOG_LEVEL ${VERSION:-no-arg-at-runtime}"]\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'args:1', 'args:2'])));
  await built(dir, ['-t', 'args:1']);
  assert.equal(await ok(['run', '--rm', 'args:1']), 'built 1.0.0 for dev\n1.0.0 localhost:5432 INFO no-arg-at-runtime\n');
  await built(dir, ['--build-arg', 'VERSION=2.1.0', '--build-arg', 'BUILD_ENV=prod', '-t', 'args:2']);
  assert.equal(await ok(['run', '--rm', '-e', 'LOG_LEVEL=DEBUG', 'args:2']), 'built 2.1.0 for prod\n2.1.0 localhost:5432 DEBUG no-arg-at-runtime\n');
});

test('a secret set with ENV stays readable in docker history and docker inspect even after it is unset', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: 'FROM busybox\n# WRONG: the secret is permanently embedded\nENV API_KEY=supersecretkey123\nRUN echo using-key\nENV API_KEY=\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'leaky:1'])));
  await built(dir, ['-t', 'leaky:1']);
  const hist = await ok(['image', 'history', '--no-trunc', '--format', '{{.CreatedBy}}', 'leaky:1']);
  assert.match(hist, /ENV API_KEY=supersecretkey123/);
  const table = await ok(['history', 'leaky:1']);
  assert.match(table, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/m);
  assert.match(table, /API_KEY=supersecre/);
  assert.ok((await ok(['image', 'inspect', '-f', '{{json .Config.Env}}', 'leaky:1'])).includes('"API_KEY="'));
  assert.ok((await ok(['run', '--rm', 'leaky:1', 'sh', '-c', 'echo "[$API_KEY]"'])).includes('[]'));
});

test('one combined RUN with && and line continuations is one layer; separate RUNs are several', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: 'FROM busybox\nRUN mkdir -p /var/cache/apt && \\\n    echo pkg > /var/cache/apt/list && \\\n    echo curl wget git > /installed \\\n  && rm -rf /var/cache/apt\n',
    'separate.Dockerfile': 'FROM busybox\nRUN mkdir -p /var/cache/apt && echo pkg > /var/cache/apt/list\nRUN echo curl wget git > /installed\nRUN rm -rf /var/cache/apt\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'combined:1', 'separate:1'])));
  await built(dir, ['-t', 'combined:1']);
  await built(dir, ['-f', join(dir, 'separate.Dockerfile'), '-t', 'separate:1']);
  const layerCount = async (img: string) => (JSON.parse(await ok(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', img])) as string[]).length;
  const base = await layerCount('busybox');
  assert.equal(await layerCount('combined:1'), base + 1);
  assert.equal(await layerCount('separate:1'), base + 3);
  assert.equal(await ok(['run', '--rm', 'combined:1', 'sh', '-c', 'cat /installed; test -e /var/cache/apt || echo cache-gone']), 'curl wget git\ncache-gone\n');
});

test('docker tag adds a registry name beside the local one and docker rmi of a tag only untags', { skip }, async (t) => {
  const dir = await context(t, { Dockerfile: 'FROM busybox\nLABEL version="1.0.0"\n' });
  t.after(async () => void (await d.docker(['rmi', '-f', 'myapp:1.0.0', 'ghcr.io/user/myapp:1.0.0', '123456789.dkr.ecr.us-east-1.amazonaws.com/myapp:abc123'])));
  await built(dir, ['-t', 'myapp:1.0.0']);
  await ok(['tag', 'myapp:1.0.0', 'ghcr.io/user/myapp:1.0.0']);
  await ok(['image', 'tag', 'myapp:1.0.0', '123456789.dkr.ecr.us-east-1.amazonaws.com/myapp:abc123']);
  const rows = (await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).trim().split('\n').filter((l) => l.includes('myapp'));
  assert.equal(rows.length, 3, rows.join('\n'));
  assert.equal(new Set(rows.map((r) => r.split(' ')[1])).size, 1, 'one image id behind the three names');
  assert.equal(await ok(['rmi', 'ghcr.io/user/myapp:1.0.0']), 'Untagged: ghcr.io/user/myapp:1.0.0\n');
  assert.equal((await ok(['images', '-q', 'myapp:1.0.0'])).trim().length, 12);
});

test('a rebuild under the same tag leaves the old image dangling, and docker image prune removes it', { skip }, async (t) => {
  const dir = await context(t, { Dockerfile: 'FROM busybox\nCOPY app.txt /app.txt\n', 'app.txt': 'v1\n' });
  t.after(async () => void (await d.docker(['rmi', '-f', 'bloat:latest'])));
  await built(dir, ['-t', 'bloat']);
  const oldId = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'bloat'])).trim();
  await writeFile(join(dir, 'app.txt'), 'v2\n');
  await built(dir, ['-t', 'bloat']);
  assert.notEqual((await ok(['image', 'inspect', '-f', '{{.Id}}', 'bloat'])).trim(), oldId);
  assert.match(await ok(['images']), new RegExp(`^<none>\\s+<none>\\s+${oldId.slice(7, 19)}\\s`, 'm'));
  // Earlier rebuilds in this file left dangling images too: look for this one among them.
  assert.ok((await ok(['images', '-q', '--no-trunc', '--filter', 'dangling=true'])).split('\n').includes(oldId));
  const pruned = await ok(['image', 'prune', '-f']);
  assert.match(pruned, /^Deleted Images:\n/);
  assert.match(pruned, new RegExp(`^deleted: ${oldId}$`, 'm'));
  assert.match(pruned, /^Total reclaimed space: \S+$/m);
  assert.equal((await ok(['images', '-q', '--filter', 'dangling=true'])).trim(), '');
  assert.equal(await ok(['run', '--rm', 'bloat', 'cat', '/app.txt']), 'v2\n');
});

test('after a rebuild moves the tag, ps shows the old container\'s image by id and the new one by name', { skip }, async (t) => {
  const dir = await context(t, { Dockerfile: 'FROM busybox\nCOPY app.txt /app.txt\nCMD ["sleep", "300"]\n', 'app.txt': 'v1\n' });
  t.after(async () => {
    await d.docker(['rm', '-f', 'seed-oldapp', 'seed-newapp']);
    await d.docker(['rmi', '-f', 'redeploy:1']);
  });
  await built(dir, ['-t', 'redeploy:1']);
  const oldId = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'redeploy:1'])).trim();
  await ok(['run', '-d', '--name', 'seed-oldapp', 'redeploy:1']);
  await writeFile(join(dir, 'app.txt'), 'v2\n');
  await built(dir, ['-t', 'redeploy:1']);
  await ok(['run', '-d', '--name', 'seed-newapp', 'redeploy:1']);
  const rows = (await ok(['ps', '--filter', 'name=seed-', '--format', '{{.Names}} {{.Image}}'])).trim().split('\n').sort();
  assert.deepEqual(rows, [`seed-newapp redeploy:1`, `seed-oldapp ${oldId.slice(7, 19)}`]);
  assert.deepEqual((await berth(d.socketPath, ['ps', '--filter', 'name=seed-', '--format', '{{.Names}} {{.Image}}'])).stdout.trim().split('\n').sort(), rows);
  // The container keeps its original reference in Config.Image, as dockerd's inspect does.
  assert.equal((await ok(['inspect', '-f', '{{.Config.Image}}', 'seed-oldapp'])).trim(), 'redeploy:1');
});

test('COPY --chown or USER before the user exists fails on its Dockerfile line, which is why the seeds create the user first', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: 'FROM busybox\nCOPY --chown=appuser:appgroup app/ ./app/\n',
    'user-first.Dockerfile': 'FROM busybox\nUSER appuser\nRUN id\n',
    'app/main.py': 'x\n',
  });
  const chown = await build(dir, ['-t', 'chown-early:1']);
  assert.equal(chown.code, 1);
  assert.match(chown.stderr, /Dockerfile:2: COPY --chown=appuser:appgroup app\/ \.\/app\/: .*unable to find user appuser/);
  const user = await build(dir, ['-f', join(dir, 'user-first.Dockerfile'), '-t', 'user-early:1']);
  assert.equal(user.code, 1);
  assert.match(user.stderr, /Dockerfile:3: RUN id: unable to find user appuser: no matching entries in passwd file/);
  assert.equal((await d.docker(['image', 'inspect', 'chown-early:1'])).code, 1, 'no image and no tag are left behind');
  assert.equal((await d.docker(['image', 'inspect', 'user-early:1'])).code, 1);
});

test('berth build makes the same image as docker build for the same context', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: 'FROM busybox\nWORKDIR /app\nCOPY requirements.txt .\nRUN cat requirements.txt > installed.txt\nCOPY . .\nCMD ["cat", "installed.txt"]\n',
    'requirements.txt': 'flask==3.0.0\n',
    'main.py': 'x\n',
    '.dockerignore': '*.pyc\n',
    'junk.pyc': 'x\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'twin:docker', 'twin:berth'])));
  const dockerOut = await built(dir, ['-t', 'twin:docker']);
  const viaBerth = await berth(d.socketPath, ['build', '-q', '-t', 'twin:berth', dir], { timeoutMs: 120_000 });
  assert.equal(viaBerth.code, 0, viaBerth.stderr);
  const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'twin:docker'])).trim();
  assert.equal(viaBerth.stdout.trim(), id);
  assert.match(dockerOut, new RegExp(`Successfully built ${id.slice(7, 19)}`));
  assert.equal(await ok(['run', '--rm', 'twin:berth']), 'flask==3.0.0\n');
  const ls = await berth(d.socketPath, ['run', '--rm', 'twin:berth', 'ls']);
  assert.equal(ls.stdout, 'Dockerfile\ninstalled.txt\nmain.py\nrequirements.txt\n');
});

/** `berth …` typed in `cwd` (relative paths as the seeds write them: `.`, `./custom.Dockerfile`). */
function berthIn(cwd: string, args: string[]): Promise<DockerResult> {
  // tsx is resolved from the working directory; name it by path so any cwd works.
  const argv = berthArgv().map((a) => (a === 'tsx' ? pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href : a));
  const quoted = [process.execPath, ...argv, '-H', `unix://${d.socketPath}`, ...args].map((a) => `'${a}'`).join(' ');
  return runCommand('sh', ['-c', `cd '${cwd}' && ${quoted}`], { env: { ...process.env, DOCKER_HOST: '' }, timeoutMs: 120_000 });
}

test('berth build -t NAME . and -f ./custom.Dockerfile, typed in the project directory as the seeds do', { skip }, async (t) => {
  const dir = await context(t, {
    Dockerfile: 'FROM busybox\nWORKDIR /app\nCOPY . .\nCMD ["cat", "hello.txt"]\n',
    'custom.Dockerfile': 'FROM busybox\nCOPY hello.txt /srv/\nCMD ["cat", "/srv/hello.txt"]\n',
    '.dockerignore': '.env\n',
    '.env': 'API_KEY=secret\n',
    'hello.txt': 'hello from the project\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'my-app:latest', 'myapp:1.0.0'])));
  const r = await berthIn(dir, ['build', '-t', 'my-app:latest', '.']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await ok(['run', '--rm', 'my-app']), 'hello from the project\n');
  assert.equal((await d.docker(['run', '--rm', 'my-app', 'test', '-e', '/app/.env'])).code, 1, '.env stays out of the image');
  const f = await berthIn(dir, ['build', '-f', './custom.Dockerfile', '-t', 'myapp:1.0.0', '.']);
  assert.equal(f.code, 0, f.stderr);
  assert.equal(await ok(['run', '--rm', 'myapp:1.0.0']), 'hello from the project\n');
  // A relative bind mount, as compose files and newer docker CLIs accept it.
  const v = await berthIn(dir, ['run', '--rm', '-v', './:/project:ro', 'busybox', 'cat', '/project/hello.txt']);
  assert.deepEqual([v.code, v.stdout], [0, 'hello from the project\n'], v.stderr);
});

test('on a Debian base, useradd then USER and COPY --chown run the app as that user, as the seeds write it', {
  skip: skip || (!existsSync(DEBIAN_TAR) && `needs ${DEBIAN_TAR} (berth bootstrap --only debian)`),
}, async (t) => {
  const imp = await d.docker(['import', '--change', 'CMD ["bash"]', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', DEBIAN_TAR, 'seeds-debian:bookworm-slim'], { timeoutMs: 180_000 });
  assert.equal(imp.code, 0, imp.stderr);
  const dir = await context(t, {
    Dockerfile: [
      'FROM seeds-debian:bookworm-slim',
      'WORKDIR /app',
      'RUN groupadd --system appgroup && useradd --system --create-home -g appgroup appuser',
      'COPY --chown=appuser:appgroup src/ ./src/',
      'RUN useradd -m other',
      'USER appuser',
      'CMD ["bash", "-c", "id -un; id -gn; stat -c %U:%G src/main.py; echo $HOME; test -d /home/other && echo other-home"]',
      '',
    ].join('\n'),
    'src/main.py': 'print(1)\n',
  });
  t.after(async () => void (await d.docker(['rmi', '-f', 'debian-app:1', 'seeds-debian:bookworm-slim'])));
  await built(dir, ['-t', 'debian-app:1']);
  assert.equal(await ok(['run', '--rm', 'debian-app:1']), 'appuser\nappgroup\nappuser:appgroup\n/home/appuser\nother-home\n');
});
