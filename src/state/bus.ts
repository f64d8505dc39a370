import { EventEmitter } from 'node:events';

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
  private readonly ee = new EventEmitter();
  constructor() {
    this.ee.setMaxListeners(0);
  }
  publish(topic: string, data: unknown): void {
    this.ee.emit('message', { topic, data } satisfies TopicMessage);
  }
  subscribe(fn: (m: TopicMessage) => void): () => void {
    this.ee.on('message', fn);
    return () => this.ee.off('message', fn);
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
    for (const l of this.listeners) l(e);
  }
  on(fn: (e: RoomEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
