/** A live notification on a topic (WS `event` notifications, MQTT fan-out). */
export interface TopicMessage {
  topic: string;
  data: unknown;
}

/**
 * One path for fan-out: every module publishes here, the WS API and the MQTT
 * link subscribe. Listeners run synchronously; they must not throw or block.
 */
export class Bus {
  /**
   * Replaced, never changed, on (un)subscribe: publish walks the array it found, as an
   * EventEmitter walks a copy, without copying the listeners on every message (every
   * device state change publishes: two per camera action).
   */
  private listeners: readonly ((m: TopicMessage) => void)[] = [];
  publish(topic: string, data: unknown): void {
    const listeners = this.listeners;
    if (listeners.length === 0) return;
    const m: TopicMessage = { topic, data };
    for (let i = 0; i < listeners.length; i++) listeners[i](m);
  }
  subscribe(fn: (m: TopicMessage) => void): () => void {
    this.listeners = [...this.listeners, fn];
    return () => {
      const i = this.listeners.lastIndexOf(fn);
      if (i >= 0) this.listeners = [...this.listeners.slice(0, i), ...this.listeners.slice(i + 1)];
    };
  }
}

/** A durable room event (device status change, action, decision, meeting event…). */
export interface RoomEvent {
  type: string;
  at: string;
  data: Record<string, unknown>;
}

/**
 * Room events are the history the central service receives. Listeners are
 * called synchronously so a caller inside a SQLite transaction gets the
 * outbox row written in the same transaction as its own record.
 */
export class RoomEvents {
  private readonly listeners = new Set<(e: RoomEvent) => void>();
  emit(e: RoomEvent): void {
    // forEach with the event as `this`: the Set's live iteration as before, without an
    // iterator or a closure per event (every device action emits one).
    this.listeners.forEach(callWithThis, e);
  }
  on(fn: (e: RoomEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

function callWithThis(this: RoomEvent, listener: (e: RoomEvent) => void): void {
  listener(this);
}
