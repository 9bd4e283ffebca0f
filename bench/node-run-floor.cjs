#!/usr/bin/env node
// The least any node program can take for `run --rm busybox true`: the docker CLI's own requests
// (create, attach hijacked before the start, wait?condition=removed, start), hand-written over
// node:net with no library, no flag parsing and no output handling. bench/run-latency.ts times it
// beside the docker CLI and the berth CLI against the same berthd: what it takes above the docker
// CLI is node's own start, which no CLI written for node can avoid.
//   node bench/node-run-floor.cjs /path/to/berth.sock
'use strict';
const net = require('node:net');

const sock = process.argv[2];
const API = '/v1.50';

/** One request on its own connection; resolves with the body once Content-Length bytes are in. */
function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const s = net.connect(sock);
    const text = body ? JSON.stringify(body) : '';
    s.write(`${method} ${API}${path} HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    let got = '';
    s.on('data', (d) => {
      got += d;
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = Number(got.slice(9, 12));
      const len = Number(/content-length: (\d+)/i.exec(got.slice(0, end))?.[1] ?? 0);
      if (got.length - end - 4 < len) return;
      s.destroy();
      if (status >= 300) reject(new Error(`${method} ${path}: ${status} ${got.slice(end + 4)}`));
      else resolve(got.slice(end + 4));
    });
    s.on('error', reject);
  });
}

/** A request whose answer is a stream (attach hijack, wait): resolves with the socket once `ready` matches. */
function stream(path, headers, ready) {
  return new Promise((resolve, reject) => {
    const s = net.connect(sock);
    s.write(`POST ${API}${path} HTTP/1.1\r\nHost: api\r\n${headers}Content-Length: 0\r\n\r\n`);
    let got = '';
    const onData = (d) => {
      got += d;
      if (!ready.test(got)) return;
      s.off('data', onData);
      resolve(s);
    };
    s.on('data', onData);
    s.on('error', reject);
  });
}

async function main() {
  const { Id: id } = JSON.parse(await request('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], AttachStdout: true, AttachStderr: true, HostConfig: { AutoRemove: true } }));
  const attach = await stream(`/containers/${id}/attach?stream=1&stdout=1&stderr=1`, 'Connection: Upgrade\r\nUpgrade: tcp\r\n', /^HTTP\/1\.1 101/);
  attach.resume();
  const removed = stream(`/containers/${id}/wait?condition=removed`, '', /"StatusCode":\s*(\d+)/);
  await request('POST', `/containers/${id}/start`);
  const wait = await removed;
  wait.destroy();
  attach.destroy();
}

main().catch((err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
