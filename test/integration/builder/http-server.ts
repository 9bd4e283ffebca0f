// A throwaway HTTP server for builder tests: bound on loopback or on the harness bridge's
// gateway (never another address), closed when the test ends.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';

export async function serveHttp(t: TestContext, host: string, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  return { port, url: `http://${host}:${port}` };
}

/** The gateway address of the harness daemon's default bridge. */
export async function bridgeGateway(docker: (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await docker(['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}']);
  if (r.code !== 0 || !r.stdout.trim()) throw new Error(`cannot read the bridge gateway: ${r.stderr}`);
  return r.stdout.trim();
}
