// GET /events: recent history (when `since`/`until` ask for it) and then live events, one
// JSON object per line in Docker's EventMessage shape, filtered like dockerd's events filter.
import type { EventMessage, EventMessageType } from '../../client/index.js';
import type { EngineEvent, EventListener } from '../../util/index.js';
import type { Filters } from '../filters.js';
import type { Route } from '../router.js';
import { parseTimestamp } from '../timestamps.js';

/** What the events route needs of the EventBus. */
export interface EventSource {
  recent(sinceNano: bigint): EngineEvent[];
  subscribe(listener: EventListener): () => void;
}

const FILTER_KEYS = [
  'config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node',
  'plugin', 'scope', 'secret', 'service', 'type', 'volume',
] as const;

const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;

export function toEventMessage(e: EngineEvent): EventMessage {
  const msg: EventMessage = {
    Type: e.type as EventMessageType,
    Action: e.action,
    Actor: { ID: e.actor.id, Attributes: e.actor.attributes },
    scope: 'local',
    time: Number(e.timeNano / 1_000_000_000n),
    timeNano: Number(e.timeNano),
  };
  // Old clients (docker-py) still read the pre-1.22 fields for containers and images.
  if (e.type === 'container' || e.type === 'image') {
    msg.status = e.action;
    msg.id = e.actor.id;
    if (e.type === 'container' && e.actor.attributes['image'] !== undefined) msg.from = e.actor.attributes['image'];
  }
  return msg;
}

/**
 * One event as a JSON line. timeNano (~1.7e18) is past what a JS number holds exactly, so it
 * is written from the bigint's digits: clients that resume with `since=<timeNano>` see the
 * exact value.
 */
export function eventLine(e: EngineEvent): string {
  const msg = toEventMessage(e);
  return JSON.stringify({ ...msg, timeNano: 0 }).replace('"timeNano":0', `"timeNano":${e.timeNano.toString()}`);
}

function stripTag(ref: string): string {
  if (ref.includes('@')) return ref.slice(0, ref.indexOf('@'));
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
}

/** dockerd's FuzzyMatch: absent key, or a value equal to or a prefix of the source. */
function fuzzy(f: Filters, key: string, ...sources: (string | undefined)[]): boolean {
  const want = f.get(key);
  if (want.length === 0) return true;
  return sources.some((s) => s !== undefined && want.some((w) => s === w || s.startsWith(w)));
}

function exact(f: Filters, key: string, ...sources: (string | undefined)[]): boolean {
  const want = f.get(key);
  if (want.length === 0) return true;
  return sources.some((s) => s !== undefined && want.includes(s));
}

/** Mirrors dockerd's events filter (daemon/events/filter.go): every present key must match. */
export function eventMatches(f: Filters, e: EngineEvent): boolean {
  const a = e.actor.attributes;
  const byName = (type: string) => e.type !== type ? !f.has(type) : fuzzy(f, type, e.actor.id, a['name']);
  const action = e.action;
  const imageName = e.type === 'image' ? a['name'] : a['image'];
  return (
    exact(f, 'event', action, action.split(':', 1)[0]) &&
    exact(f, 'type', e.type) &&
    exact(f, 'scope', 'local') &&
    byName('container') &&
    byName('daemon') &&
    byName('plugin') &&
    byName('volume') &&
    byName('network') &&
    exact(f, 'image', e.actor.id, imageName, stripTag(e.actor.id), imageName === undefined ? undefined : stripTag(imageName)) &&
    !f.has('node') &&
    !f.has('service') &&
    !f.has('secret') &&
    !f.has('config') &&
    f.matchLabels(a)
  );
}

export interface EventRoutes {
  routes: Route[];
  /** Open /events streams (for /info's NEventsListener). */
  listenerCount(): number;
}

export function eventRoutes(source: EventSource): EventRoutes {
  let listeners = 0;
  const route: Route = {
    method: 'GET',
    path: '/events',
    handler: async (ctx) => {
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      const sinceRaw = ctx.queryString('since');
      const untilRaw = ctx.queryString('until');
      const since = sinceRaw ? parseTimestamp(sinceRaw, 'since', nowNs) : undefined;
      const until = untilRaw ? parseTimestamp(untilRaw, 'until', nowNs) : undefined;
      const filters = ctx.queryFilters().validate(FILTER_KEYS);
      const wanted = (e: EngineEvent) =>
        (since === undefined || e.timeNano >= since) && (until === undefined || e.timeNano <= until) && eventMatches(filters, e);

      // Subscribe before reading history so nothing published in between is lost; the
      // history's own events are skipped when they also arrive live.
      const queued: EngineEvent[] = [];
      let deliver: ((e: EngineEvent) => void) | undefined;
      const unsubscribe = source.subscribe((e) => (deliver ? deliver(e) : queued.push(e)));
      listeners++;
      try {
        const out = ctx.startJsonStream();
        const history = since !== undefined || until !== undefined ? source.recent(since ?? 0n).filter(wanted) : [];
        const seen = new Set(history);
        for (const e of history) await out.writeSerialized(eventLine(e));
        if (until !== undefined && until <= nowNs) {
          out.end();
          return;
        }
        await new Promise<void>((resolve) => {
          const finish = () => {
            clearTimeout(timer);
            ctx.signal.removeEventListener('abort', finish);
            resolve();
          };
          const waitMs = until === undefined ? undefined : Number((until - nowNs) / 1_000_000n) + 1;
          // setTimeout cannot wait longer than 2^31-1 ms; a later `until` waits for the client.
          const timer = waitMs === undefined || waitMs > MAX_TIMER_MS ? undefined : setTimeout(finish, waitMs);
          ctx.signal.addEventListener('abort', finish, { once: true });
          deliver = (e) => {
            if (seen.has(e) || !wanted(e)) return;
            // Publishers never wait for a reader; a client that stops reading is cut off
            // instead of letting its backlog grow without bound.
            if (ctx.res.writableLength > MAX_BACKLOG_BYTES) {
              ctx.log.warn('events client is not reading: closing its stream', { backlogBytes: ctx.res.writableLength });
              finish();
              return;
            }
            void out.writeSerialized(eventLine(e));
          };
          for (const e of queued.splice(0)) deliver(e);
        });
        out.end();
      } finally {
        listeners--;
        unsubscribe();
      }
    },
  };
  return { routes: [route], listenerCount: () => listeners };
}
