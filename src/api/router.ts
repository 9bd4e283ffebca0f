// The route table: `/containers/{id}/json`-style templates, a trailing-greedy `{name*}`
// that may span slashes (image names), and the optional `/v1.NN` prefix.
import { BerthError, errorMessage } from '../util/index.js';
import { checkApiVersion, MAX_API_VERSION } from './api-version.js';
import type { RequestContext } from './context.js';

export type { RequestContext } from './context.js';
export { Filters } from './filters.js';
export { apiVersionAtLeast, compareApiVersions, MAX_API_VERSION, MIN_API_VERSION } from './api-version.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface Route {
  method: HttpMethod;
  /** e.g. `/containers/{id}/json`, `/images/{name*}/tag`. */
  path: string;
  handler: (ctx: RequestContext) => Promise<void>;
}

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

interface CompiledRoute {
  route: Route;
  segments: Segment[];
  greedyAt: number;
  /** Higher wins: literals beat parameters, parameters beat greedy parameters. */
  score: number;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export type ResolvedPath =
  | { kind: 'ok'; path: string; apiVersion: string }
  /** The `/vX.Y` prefix named a version outside what berth serves. */
  | { kind: 'bad-version'; error: Error };

function compile(route: Route): CompiledRoute {
  const parts = splitPath(route.path);
  const segments: Segment[] = parts.map((p) => {
    const m = /^\{([A-Za-z_][A-Za-z0-9_]*)(\*)?\}$/.exec(p);
    if (!m) return { kind: 'literal', value: p };
    return m[2] ? { kind: 'greedy', name: m[1]! } : { kind: 'param', name: m[1]! };
  });
  const greedyAt = segments.findIndex((s) => s.kind === 'greedy');
  if (segments.filter((s) => s.kind === 'greedy').length > 1) {
    throw new Error(`route ${route.method} ${route.path}: at most one greedy parameter`);
  }
  let score = 0;
  for (const s of segments) score += s.kind === 'literal' ? 100 : s.kind === 'param' ? 10 : 1;
  return { route, segments, greedyAt, score };
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegment(seg: Segment, value: string, params: Record<string, string>): boolean {
  if (seg.kind === 'literal') return seg.value === value;
  params[seg.name] = value;
  return true;
}

function matchCompiled(c: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const segs = c.segments;
  if (c.greedyAt < 0) {
    if (parts.length !== segs.length) return undefined;
    for (let i = 0; i < segs.length; i++) if (!matchSegment(segs[i]!, parts[i]!, params)) return undefined;
    return params;
  }
  const after = segs.length - c.greedyAt - 1;
  const greedyLen = parts.length - c.greedyAt - after;
  if (greedyLen < 1) return undefined;
  for (let i = 0; i < c.greedyAt; i++) if (!matchSegment(segs[i]!, parts[i]!, params)) return undefined;
  for (let i = 0; i < after; i++) {
    if (!matchSegment(segs[c.greedyAt + 1 + i]!, parts[c.greedyAt + greedyLen + i]!, params)) return undefined;
  }
  const g = segs[c.greedyAt] as { name: string };
  params[g.name] = parts.slice(c.greedyAt, c.greedyAt + greedyLen).join('/');
  return params;
}

const VERSION_PREFIX = /^\/v([0-9.]+)(\/.*)$/;

/** Strips and checks a `/vX.Y` prefix; unprefixed paths get the newest version. */
export function resolveApiPath(pathname: string): ResolvedPath {
  const m = VERSION_PREFIX.exec(pathname);
  if (!m) return { kind: 'ok', path: pathname, apiVersion: MAX_API_VERSION };
  try {
    return { kind: 'ok', path: m[2]!, apiVersion: checkApiVersion(m[1]!) };
  } catch (error) {
    return { kind: 'bad-version', error: error as Error };
  }
}

/** How long a request for a route still loading waits before a 503 (engine start-up is ~0.5 s). */
export const ROUTE_LOAD_WAIT_MS = 60_000;

export class Router {
  private readonly compiled: CompiledRoute[] = [];
  private pending: Promise<void> | undefined;
  private loadError: unknown;

  constructor(
    routes: readonly Route[] = [],
    private readonly loadWaitMs = ROUTE_LOAD_WAIT_MS,
  ) {
    this.add(...routes);
  }

  add(...routes: Route[]): void {
    for (const r of routes) {
      const c = compile(r);
      const dup = this.compiled.find((x) => x.route.method === r.method && x.route.path === r.path);
      if (dup) throw new Error(`route ${r.method} ${r.path} registered twice`);
      this.compiled.push(c);
    }
    this.compiled.sort((a, b) => b.score - a.score);
  }

  /**
   * Finds the route for an unprefixed path. Segments are percent-decoded one by one, so
   * `%2F` inside an image name stays part of that segment. HEAD falls back to GET.
   */
  match(method: string, path: string): RouteMatch | undefined {
    let parts: string[];
    try {
      parts = splitPath(path).map((p) => decodeURIComponent(p));
    } catch {
      // Malformed percent-encoding cannot name any route.
      return undefined;
    }
    const found = this.find(method, parts);
    if (found || method !== 'HEAD') return found;
    return this.find('GET', parts);
  }

  /**
   * Registers routes that are still loading (heavy modules imported after the socket is
   * up, so /_ping answers early). Until they are in, a miss waits for them.
   */
  addLater(loading: Promise<Route[]>): void {
    const p: Promise<void> = loading.then(
      (routes) => this.add(...routes),
      (err: unknown) => {
        // The daemon reports the load failure itself; a miss then answers 503, not 404.
        this.loadError = err;
      },
    );
    const all: Promise<void> = this.pending ? Promise.all([this.pending, p]).then(() => undefined) : p;
    this.pending = all;
    void all.then(() => {
      if (this.pending === all) this.pending = undefined;
    });
  }

  /**
   * `match`, waiting (at most `loadWaitMs`) for routes still loading before answering a miss:
   * a request sent right after the socket appears gets its real answer, never a 404 that only
   * means "not loaded yet". A load that fails or takes too long is `unavailable` (503).
   */
  async resolve(method: string, path: string): Promise<RouteMatch | undefined> {
    const m = this.match(method, path);
    if (m) return m;
    if (this.pending) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.pending.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.loadWaitMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) throw new BerthError('unavailable', `berthd is still starting: its engine did not load within ${this.loadWaitMs} ms`);
      const late = this.match(method, path);
      if (late) return late;
    }
    if (this.loadError !== undefined) throw new BerthError('unavailable', `berthd's engine failed to load: ${errorMessage(this.loadError)}`);
    return undefined;
  }

  private find(method: string, parts: string[]): RouteMatch | undefined {
    for (const c of this.compiled) {
      if (c.route.method !== method) continue;
      const params = matchCompiled(c, parts);
      if (params) return { route: c.route, params };
    }
    return undefined;
  }

  routes(): Route[] {
    return this.compiled.map((c) => c.route);
  }
}
