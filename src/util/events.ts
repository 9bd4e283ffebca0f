// The engine's event stream (docker events). Publishers in every layer call `publish`;
// the API's /events route subscribes. A bounded ring keeps recent events for `since`.

export type EventType = 'image' | 'container' | 'network' | 'volume' | 'daemon' | 'builder' | 'plugin';

export interface EngineEvent {
  type: EventType;
  action: string;
  actor: { id: string; attributes: Record<string, string> };
  /** Unix time in nanoseconds (Docker's timeNano). */
  timeNano: bigint;
}

export type EventListener = (e: EngineEvent) => void;

const HISTORY_LIMIT = 1024;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private readonly history: EngineEvent[] = [];

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const ev: EngineEvent = { type, action, actor: { id, attributes }, timeNano: nowNano() };
    this.history.push(ev);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    for (const l of this.listeners) l(ev);
    return ev;
  }

  /** Recent events at or after `sinceNano`, oldest first. */
  recent(sinceNano: bigint): EngineEvent[] {
    return this.history.filter((e) => e.timeNano >= sinceNano);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function nowNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}
