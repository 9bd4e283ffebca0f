// Table-driven Engine API tests against an in-process API server on a temp socket, with the
// real system and events routes over stub counts (no root needed: the engine, which sets up
// iptables and cgroups, is not loaded; docker-cli.test.ts covers the whole daemon).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiServer, Router, type Route } from '../../../src/api/index.js';
import { EngineSystem } from '../../../src/api/engine-system.js';
import { eventRoutes } from '../../../src/api/routes/events.js';
import { systemRoutes } from '../../../src/api/routes/system.js';
import { parseMuxFrames } from '../../../src/api/streams.js';
import { BerthError, EventBus, configureLogging, logger, type ErrorKind } from '../../../src/util/index.js';
import { apiRequest, type ApiResponse } from '../../helpers/daemon.js';

const logLines: string[] = [];
configureLogging({ level: 'debug', write: (l) => void logLines.push(l), pretty: false });

let root: string;
let daemon: { events: EventBus; close(): Promise<void> };
let sock: string;
const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  apiRequest(sock, method, path, body, { headers });

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-api-test-'));
  await mkdir(join(root, 'data'));
  const events = new EventBus();
  const ev = eventRoutes(events);
  const system = new EngineSystem({
    dataRoot: join(root, 'data'),
    runc: 'runc',
    debug: false,
    eventListeners: ev.listenerCount,
    countImages: async () => 3,
    countContainers: async () => ({ containers: 5, running: 2, paused: 1, stopped: 2 }),
  });
  const server = new ApiServer({ router: new Router([...systemRoutes(system), ...ev.routes]), log: logger('api'), serverVersion: '0.1.0' });
  sock = join(root, 'api.sock');
  await server.listen(`unix://${sock}`);
  daemon = { events, close: () => server.close() };
});

after(async () => {
  await daemon.close();
  await rm(root, { recursive: true, force: true });
});

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  status: number;
  check?: (r: ApiResponse) => void;
}

const hasHeaders = (want: Record<string, string | RegExp>) => (r: ApiResponse) => {
  for (const [k, v] of Object.entries(want)) {
    const got = String(r.headers[k.toLowerCase()]);
    if (v instanceof RegExp) assert.match(got, v, k);
    else assert.equal(got, v, k);
  }
};
const message = (m: string | RegExp) => (r: ApiResponse) => {
  assert.equal(r.headers['content-type'], 'application/json');
  const body = r.json<{ message: string }>();
  if (m instanceof RegExp) assert.match(body.message, m);
  else assert.equal(body.message, m);
};
const fields = (want: Record<string, unknown>) => (r: ApiResponse) => {
  const body = r.json<Record<string, unknown>>();
  for (const [k, v] of Object.entries(want)) assert.deepEqual(body[k], v, k);
};

const PING_HEADERS = {
  'API-Version': '1.51',
  'Docker-Experimental': 'false',
  'Builder-Version': '1',
  OSType: 'linux',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
  Server: /^berth\/\d+\.\d+\.\d+ \(linux\)$/,
};

const cases: Case[] = [
  { name: 'GET /_ping answers OK with the negotiation headers', method: 'GET', path: '/_ping', status: 200,
    check: (r) => { assert.equal(r.text, 'OK'); hasHeaders(PING_HEADERS)(r); } },
  { name: 'HEAD /_ping answers with the same headers and no body', method: 'HEAD', path: '/_ping', status: 200,
    check: (r) => { assert.equal(r.text, ''); hasHeaders(PING_HEADERS)(r); } },
  { name: 'a versioned /_ping still advertises the newest version', method: 'GET', path: '/v1.24/_ping', status: 200,
    check: hasHeaders({ 'API-Version': '1.51' }) },
  { name: 'GET /version has Docker\'s shape', method: 'GET', path: '/version', status: 200,
    check: (r) => {
      fields({ ApiVersion: '1.51', MinAPIVersion: '1.24', Os: 'linux', Platform: { Name: 'berth' } })(r);
      const v = r.json<{ GoVersion: string; Components: { Name: string; Details?: Record<string, string> }[] }>();
      assert.equal(v.GoVersion, `node ${process.version}`);
      assert.equal(v.Components[0]?.Name, 'Engine');
      assert.equal(v.Components[0]?.Details?.['MinAPIVersion'], '1.24');
    } },
  { name: 'every supported version prefix serves /version', method: 'GET', path: '/v1.41/version', status: 200 },
  { name: 'the oldest supported version is served', method: 'GET', path: '/v1.24/version', status: 200 },
  { name: 'a too new version is a 400 in dockerd\'s words', method: 'GET', path: '/v1.99/version', status: 400,
    check: message('client version 1.99 is too new. Maximum supported API version is 1.51') },
  { name: 'a too old version is a 400 in dockerd\'s words', method: 'GET', path: '/v1.12/info', status: 400,
    check: message(/^client version 1\.12 is too old\. Minimum supported API version is 1\.24/) },
  { name: 'an unknown route is dockerd\'s 404', method: 'GET', path: '/no/such/route', status: 404, check: message('page not found') },
  { name: 'a known path with the wrong method is a 404', method: 'DELETE', path: '/_ping', status: 404, check: message('page not found') },
  { name: 'GET /info reports counts, driver and data-root', method: 'GET', path: '/v1.51/info', status: 200,
    check: (r) => {
      fields({ Containers: 5, ContainersRunning: 2, ContainersPaused: 1, ContainersStopped: 2, Images: 3,
        Driver: 'overlay2', CgroupDriver: 'cgroupfs', DefaultRuntime: 'runc',
        DockerRootDir: join(root, 'data'), OSType: 'linux' })(r);
      const info = r.json<{ ID: string; CgroupVersion: string; NCPU: number; MemTotal: number; Runtimes: Record<string, { path: string }> }>();
      assert.match(info.ID, /^[0-9a-f-]{36}$/);
      assert.ok(['1', '2'].includes(info.CgroupVersion));
      assert.ok(info.NCPU > 0 && info.MemTotal > 0);
      assert.ok(info.Runtimes['runc']?.path);
    } },
  { name: 'an unknown events filter is a 400', method: 'GET', path: `/events?until=1&filters=${encodeURIComponent('{"nope":["x"]}')}`, status: 400,
    check: message("invalid filter 'nope'") },
  { name: 'malformed events filters are a 400', method: 'GET', path: '/events?until=1&filters=notjson', status: 400,
    check: message(/invalid filters/) },
  { name: 'a malformed since is a 400 naming it', method: 'GET', path: '/events?since=yesterday', status: 400,
    check: message(/"since"/) },
];

describe('engine API', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const r = await call(c.method, c.path, c.body);
      assert.equal(r.status, c.status, r.text);
      c.check?.(r);
    });
  }

  test('the engine ID stays the same across requests', async () => {
    const a = (await call('GET', '/info')).json<{ ID: string }>().ID;
    const b = (await call('GET', '/info')).json<{ ID: string }>().ID;
    assert.equal(a, b);
  });
});

describe('events', () => {
  const eventLines = (r: ApiResponse) =>
    r.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown> & { Actor: { ID: string } });
  let t0: number;
  let t1: number;

  before(async () => {
    t0 = Date.now() / 1000 - 1;
    daemon.events.publish('image', 'pull', 'busybox:latest', { name: 'busybox:latest' });
    daemon.events.publish('image', 'tag', 'sha256:aaaa', { name: 'example.com/app:1', team: 'web' });
    daemon.events.publish('container', 'create', 'c0ffee', { name: 'web1', image: 'busybox:latest', team: 'web' });
    daemon.events.publish('network', 'create', 'n1', { name: 'mynet', type: 'bridge' });
    daemon.events.publish('container', 'exec_start: sh -c true', 'c0ffee', { name: 'web1', image: 'busybox:latest' });
    await new Promise((r) => setTimeout(r, 5));
    t1 = Date.now() / 1000;
  });

  const f = (v: object) => encodeURIComponent(JSON.stringify(v));
  const table: [name: string, query: () => string, ids: string[]][] = [
    ['since and until in the past return the history in order', () => `since=${t0}&until=${t1}`,
      ['busybox:latest', 'sha256:aaaa', 'c0ffee', 'n1', 'c0ffee']],
    ['until alone returns the history up to it', () => `until=${t1}`, ['busybox:latest', 'sha256:aaaa', 'c0ffee', 'n1', 'c0ffee']],
    ['since after every event returns nothing', () => `since=${t1 + 0.001}&until=${t1 + 0.002}`, []],
    ['a type filter keeps that type', () => `since=${t0}&until=${t1}&filters=${f({ type: ['image'] })}`, ['busybox:latest', 'sha256:aaaa']],
    ['the legacy map form of filters works', () => `since=${t0}&until=${t1}&filters=${f({ type: { network: true } })}`, ['n1']],
    ['an event filter matches the action before the colon', () => `since=${t0}&until=${t1}&filters=${f({ event: ['exec_start'] })}`, ['c0ffee']],
    ['a container filter matches the name', () => `since=${t0}&until=${t1}&filters=${f({ container: ['web1'] })}`, ['c0ffee', 'c0ffee']],
    ['an image filter matches image events and containers of that image', () => `since=${t0}&until=${t1}&filters=${f({ image: ['busybox'] })}`,
      ['busybox:latest', 'c0ffee', 'c0ffee']],
    ['a label filter matches attributes', () => `since=${t0}&until=${t1}&filters=${f({ label: ['team=web'] })}`, ['sha256:aaaa', 'c0ffee']],
    ['several keys must all match', () => `since=${t0}&until=${t1}&filters=${f({ type: ['container'], label: ['team'] })}`, ['c0ffee']],
  ];
  for (const [name, query, ids] of table) {
    test(name, async () => {
      const r = await call('GET', `/events?${query()}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.deepEqual(eventLines(r).map((e) => e.Actor.ID), ids);
    });
  }

  test('events carry Docker\'s wire fields and legacy fields for containers', async () => {
    const r = await call('GET', `/events?since=${t0}&until=${t1}&filters=${f({ type: ['container'], event: ['create'] })}`);
    const [ev] = eventLines(r);
    assert.ok(ev);
    assert.equal(ev['Type'], 'container');
    assert.equal(ev['Action'], 'create');
    assert.deepEqual(ev['Actor'], { ID: 'c0ffee', Attributes: { name: 'web1', image: 'busybox:latest', team: 'web' } });
    assert.equal(ev['scope'], 'local');
    assert.equal(ev['status'], 'create');
    assert.equal(ev['id'], 'c0ffee');
    assert.equal(ev['from'], 'busybox:latest');
    assert.equal(typeof ev['time'], 'number');
    assert.equal(Math.floor((ev['timeNano'] as number) / 1e9), ev['time']);
    // timeNano is written exactly (a JS number would round the last digits).
    const raw = /"timeNano":(\d+)/.exec(r.text)?.[1];
    const published = daemon.events.recent(0n).find((e) => e.type === 'container' && e.action === 'create');
    assert.equal(raw, published?.timeNano.toString());
  });

  test('a live stream delivers events published after it opened and ends when the client leaves', async () => {
    const ac = new AbortController();
    const got = new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: sock, path: `/events?filters=${f({ type: ['volume'] })}`, signal: ac.signal }, (res) => {
        assert.equal(res.statusCode, 200);
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          if (buf.includes('\n')) resolve(buf);
        });
        res.on('error', () => undefined);
      });
      req.on('error', (e) => (ac.signal.aborted ? undefined : reject(e)));
      req.end();
    });
    // Let the stream open, then publish one event it must skip and one it must deliver.
    await new Promise((r) => setTimeout(r, 50));
    daemon.events.publish('image', 'pull', 'ignored');
    daemon.events.publish('volume', 'create', 'vol1', { driver: 'local' });
    const line = await got;
    assert.equal((JSON.parse(line.split('\n')[0]!) as { Actor: { ID: string } }).Actor.ID, 'vol1');
    ac.abort();
  });

  test('until in the near future ends the live stream by itself', async () => {
    const until = Date.now() / 1000 + 0.3;
    const pending = call('GET', `/events?until=${until}&filters=${f({ type: ['daemon'] })}`);
    await new Promise((r) => setTimeout(r, 50));
    daemon.events.publish('daemon', 'reload', 'engine');
    const r = await pending;
    assert.deepEqual(eventLines(r).map((e) => e.Action), ['reload']);
  });
});

describe('request handling', () => {
  let server: ApiServer;
  let testSock: string;
  const kinds: [ErrorKind, number][] = [
    ['not-found', 404], ['invalid-argument', 400], ['conflict', 409], ['unauthorized', 401], ['forbidden', 403],
    ['unavailable', 503], ['not-implemented', 501], ['internal', 500], ['cancelled', 500],
  ];
  const bodySchema = z.object({ Name: z.string(), Count: z.number().int().optional() });

  before(async () => {
    const routes: Route[] = [
      { method: 'GET', path: '/kind/{kind}', handler: async (ctx) => { throw new BerthError(ctx.param('kind') as ErrorKind, `failed as ${ctx.param('kind')}`); } },
      { method: 'POST', path: '/start', handler: async () => { throw new BerthError('not-modified', 'container already started'); } },
      { method: 'GET', path: '/plain-error', handler: async () => { throw new Error('boom'); } },
      { method: 'GET', path: '/wrapped', handler: async () => { throw new Error('outer', { cause: new BerthError('not-found', 'No such image: x') }); } },
      { method: 'POST', path: '/echo', handler: async (ctx) => ctx.sendJson(201, await ctx.readJson(bodySchema, 64)) },
      { method: 'GET', path: '/query', handler: async (ctx) => ctx.sendJson(200, {
        all: ctx.queryBool('all'), force: ctx.queryBool('force', true), limit: ctx.queryInt('limit') ?? null,
        filters: Object.fromEntries(ctx.queryFilters().keys().map((k) => [k, ctx.queryFilters().get(k)])),
        json: ctx.queryJson('j', z.array(z.string())) ?? null, version: ctx.apiVersion,
      }) },
      { method: 'GET', path: '/silent', handler: async () => undefined },
      { method: 'POST', path: '/progress', handler: async (ctx) => {
        const out = ctx.startJsonStream();
        await out.write({ status: 'Loading layer' });
        await out.error('unexpected EOF');
      } },
      { method: 'GET', path: '/logs', handler: async (ctx) => {
        const out = ctx.startOutputStream({ tty: ctx.queryBool('tty') });
        out.stdout.write('hello\n');
        out.stderr.write('oops\n', () => out.end());
      } },
      { method: 'POST', path: '/exec-start', handler: async (ctx) => {
        const body = await ctx.readJson(z.object({ Detach: z.boolean() }));
        const h = ctx.hijack({ tty: true });
        h.output.stdout.write(`body ${JSON.stringify(body)}\n`);
        const stdin: Buffer[] = [];
        h.conn.on('data', (d: Buffer) => stdin.push(d));
        h.conn.once('end', () => h.output.stdout.write(`stdin ${Buffer.concat(stdin).toString()}`, () => h.close()));
      } },
      { method: 'POST', path: '/attach', handler: async (ctx) => {
        const h = ctx.hijack({ tty: false });
        h.output.stdout.write('ready\n');
        await new Promise<void>((resolve) => {
          h.conn.once('data', (d: Buffer) => h.output.stderr.write(`got ${d.toString()}`, () => { h.close(); resolve(); }));
        });
      } },
    ];
    server = new ApiServer({ router: new Router(routes), log: logger('api-test'), serverVersion: '0.0.0' });
    testSock = join(root, 'handlers.sock');
    await server.listen(`unix://${testSock}`);
  });
  after(() => server.close());

  const req = (method: string, path: string, body?: unknown) => apiRequest(testSock, method, path, body);

  for (const [kind, status] of kinds) {
    test(`a ${kind} error is answered with ${status} and its message`, async () => {
      const r = await req('GET', `/kind/${kind}`);
      assert.equal(r.status, status);
      assert.deepEqual(r.json(), { message: `failed as ${kind}` });
    });
  }

  test('a not-modified error is a bare 304', async () => {
    const r = await req('POST', '/start');
    assert.equal(r.status, 304);
    assert.equal(r.text, '');
  });

  test('an untyped error is a 500 and is logged at error level', async () => {
    logLines.length = 0;
    const r = await req('GET', '/plain-error');
    assert.equal(r.status, 500);
    assert.deepEqual(r.json(), { message: 'boom' });
    assert.ok(logLines.some((l) => l.includes('"level":"error"') && l.includes('boom')));
  });

  test('a 4xx is logged at debug level, not error', async () => {
    logLines.length = 0;
    await req('GET', '/kind/not-found');
    assert.ok(logLines.some((l) => l.includes('"level":"debug"') && l.includes('failed as not-found')));
    assert.ok(!logLines.some((l) => l.includes('"level":"error"')));
  });

  test('the kind of a wrapped error decides the status', async () => {
    const r = await req('GET', '/wrapped');
    assert.equal(r.status, 404);
  });

  test('a handler that sends nothing gets a 500 instead of a hung request', async () => {
    const r = await req('GET', '/silent');
    assert.equal(r.status, 500);
    assert.match(r.json<{ message: string }>().message, /sent no reply/);
  });

  const bodies: [name: string, body: unknown, status: number, check: RegExp | object][] = [
    ['a valid body is parsed', { Name: 'x', Count: 2 }, 201, { Name: 'x', Count: 2 }],
    ['a body that is not JSON is a 400', '{"Name":', 400, /invalid JSON in request body/],
    ['a body of the wrong shape names the field', { Name: 3 }, 400, /invalid request body: Name: /],
    ['an empty body is validated as missing', '', 400, /invalid request body/],
    ['a body over the size cap is a 400', { Name: 'x'.repeat(100) }, 400, /larger than 64 bytes/],
  ];
  for (const [name, body, status, check] of bodies) {
    test(name, async () => {
      const r = await req('POST', '/echo', body);
      assert.equal(r.status, status, r.text);
      if (check instanceof RegExp) assert.match(r.json<{ message: string }>().message, check);
      else assert.deepEqual(r.json(), check);
    });
  }

  const queries: [query: string, expected: Record<string, unknown> | RegExp][] = [
    ['', { all: false, force: true, limit: null, filters: {}, json: null, version: '1.51' }],
    ['all=1&force=0&limit=5', { all: true, force: false, limit: 5 }],
    ['all=true&force=false', { all: true, force: false }],
    ['all=True&force=no', { all: true, force: false }],
    ['all=&force=none', { all: false, force: false }],
    ['limit=-1', { limit: -1 }],
    ['limit=abc', /invalid value for "limit": "abc" is not an integer/],
    [`filters=${encodeURIComponent('{"dangling":["true"],"label":{"a=b":true,"c":false}}')}`, { filters: { dangling: ['true'], label: ['a=b'] } }],
    [`j=${encodeURIComponent('["a","b"]')}`, { json: ['a', 'b'] }],
    [`j=${encodeURIComponent('[1]')}`, /invalid value for "j"/],
  ];
  for (const [query, expected] of queries) {
    test(`query "${decodeURIComponent(query)}" is parsed like dockerd`, async () => {
      const r = await req('GET', `/v1.43/query?${query}`);
      if (expected instanceof RegExp) {
        assert.equal(r.status, 400);
        assert.match(r.json<{ message: string }>().message, expected);
        return;
      }
      assert.equal(r.status, 200, r.text);
      const got = r.json<Record<string, unknown>>();
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(got[k], k === 'version' ? '1.43' : v, k);
    });
  }

  test('a progress stream ends with Docker\'s in-band error line', async () => {
    const r = await req('POST', '/progress');
    assert.equal(r.status, 200);
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines, [{ status: 'Loading layer' }, { errorDetail: { message: 'unexpected EOF' }, error: 'unexpected EOF' }]);
  });

  test('non-TTY output is multiplexed with the newer content type', async () => {
    const r = await req('GET', '/v1.42/logs');
    assert.equal(r.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
    const { frames, rest } = parseMuxFrames(r.body);
    assert.equal(rest.length, 0);
    assert.deepEqual(frames.map((fr) => [fr.stream, fr.payload.toString()]), [[1, 'hello\n'], [2, 'oops\n']]);
  });

  test('old API versions get the raw-stream content type for the same frames', async () => {
    const r = await req('GET', '/v1.41/logs');
    assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.equal(parseMuxFrames(r.body).frames.length, 2);
  });

  test('TTY output is raw bytes', async () => {
    const r = await req('GET', '/logs?tty=1');
    assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.equal(r.text, 'hello\noops\n');
  });

  test('an upgrade request is hijacked with 101 UPGRADED and carries stdin both ways', async () => {
    const { connect } = await import('node:net');
    const s = connect(testSock);
    let buf = Buffer.alloc(0);
    const done = new Promise<void>((resolve) => s.on('close', () => resolve()));
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.includes('ready\n')) s.write('ping');
    });
    s.write('POST /v1.51/attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
    await done;
    const headEnd = buf.indexOf('\r\n\r\n');
    const head = buf.subarray(0, headEnd).toString();
    assert.match(head, /^HTTP\/1\.1 101 UPGRADED\r\n/);
    assert.match(head, /Upgrade: tcp/);
    assert.match(head, /Content-Type: application\/vnd\.docker\.multiplexed-stream/);
    const { frames } = parseMuxFrames(buf.subarray(headEnd + 4));
    assert.deepEqual(frames.map((fr) => [fr.stream, fr.payload.toString()]), [[1, 'ready\n'], [2, 'got ping']]);
  });

  test('a hijack without an upgrade answers 200 with an unframed body that ends with the connection', async () => {
    const { connect } = await import('node:net');
    const s = connect(testSock);
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => (buf = Buffer.concat([buf, c])));
    const done = new Promise<void>((resolve) => s.on('close', () => resolve()));
    s.write('POST /v1.41/attach HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nping');
    await done;
    const headEnd = buf.indexOf('\r\n\r\n');
    const head = buf.subarray(0, headEnd).toString();
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /Content-Type: application\/vnd\.docker\.raw-stream/i);
    assert.doesNotMatch(head, /Transfer-Encoding: chunked/i);
    const { frames } = parseMuxFrames(buf.subarray(headEnd + 4));
    assert.deepEqual(frames.map((fr) => [fr.stream, fr.payload.toString()]), [[1, 'ready\n'], [2, 'got ping']]);
  });

  for (const split of [false, true]) {
    test(`an upgrade request's body is parsed and stdin after it reaches the stream intact${split ? ' when the body arrives in pieces' : ''}`, async () => {
      const { connect } = await import('node:net');
      const s = connect(testSock);
      let buf = '';
      s.on('data', (c: Buffer) => (buf += c.toString()));
      const done = new Promise<void>((resolve) => s.on('close', () => resolve()));
      const body = '{"Detach":false}';
      const head = `POST /exec-start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      if (split) {
        s.write(head + body.slice(0, 5));
        await new Promise((r) => setTimeout(r, 30));
        s.write(body.slice(5) + 'abc');
        await new Promise((r) => setTimeout(r, 30));
        s.end('def');
      } else {
        s.end(head + body + 'abcdef');
      }
      await done;
      const payload = buf.slice(buf.indexOf('\r\n\r\n') + 4);
      assert.equal(payload, 'body {"Detach":false}\nstdin abcdef');
    });
  }

  test('an unknown route on an upgrade request still gets a JSON 404', async () => {
    const { connect } = await import('node:net');
    const s = connect(testSock);
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString()));
    const done = new Promise<void>((resolve) => s.on('close', () => resolve()));
    s.write('POST /nope HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    await done;
    assert.match(text, /^HTTP\/1\.1 404/);
    assert.match(text, /\{"message":"page not found"\}/);
  });
});
