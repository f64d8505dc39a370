// Shared pieces of the console: the client in context, live topics, actions
// with visible errors, small display helpers.
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { ResultOf, RoomAgentClient, TopicEvent, TopicName } from '../../client/client.js';
import { RpcError } from '../../client/errors.js';

export type DeviceRecord = ResultOf<'devices.list'>[number];

export interface Notice {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}

export interface ConsoleContext {
  client: RoomAgentClient;
  token: string;
  /** Counts reconnects: one-off reads (decision log, run history) are asked again when it changes. */
  epoch: number;
  notify(kind: Notice['kind'], text: string): void;
}

export const Ctx = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const c = useContext(Ctx);
  if (!c) throw new Error('console context missing');
  return c;
}

/** Describes an error for a person: the agent's message and its stable code name. */
export function describeError(e: unknown): string {
  if (e instanceof RpcError) return `${e.message} (${e.codeName} ${e.code})`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Live state of one topic: the reducer gets the snapshot (on subscribe and
 * after every reconnect) and each pushed change. `available` is false when
 * the agent has no such topic (the feature is not configured).
 */
export function useTopic<S, T extends TopicName>(
  topic: T,
  reduce: (prev: S | undefined, e: TopicEvent<T>) => S,
): { state: S | undefined; available: boolean | undefined } {
  const { client } = useConsole();
  const [state, setState] = useState<S | undefined>(undefined);
  const [available, setAvailable] = useState<boolean | undefined>(undefined);
  const reducer = useRef(reduce);
  reducer.current = reduce;
  useEffect(() => {
    let sub: { close(): Promise<void> } | null = null;
    let gone = false;
    client
      .subscribe([topic], (e) => setState((prev) => reducer.current(prev, e)))
      .then((s) => {
        if (gone) void s.close();
        else {
          sub = s;
          setAvailable(true);
        }
      })
      .catch((e) => {
        // INVALID_PARAMS = no such topic on this agent; other errors leave it "not known yet".
        if (!gone && e instanceof RpcError && e.is('INVALID_PARAMS')) setAvailable(false);
      });
    return () => {
      gone = true;
      void sub?.close().catch(() => undefined);
    };
  }, [client, topic]);
  return { state, available };
}

/** Runs an operator action; failures (and, when asked, successes) are shown as notices. */
export function useRun(): (label: string, fn: () => Promise<unknown>, okText?: string) => Promise<void> {
  const { notify } = useConsole();
  return async (label, fn, okText) => {
    try {
      await fn();
      if (okText) notify('ok', okText);
    } catch (e) {
      notify('error', `${label}: ${describeError(e)}`);
    }
  };
}

export function Badge({ value, title }: { value: string; title?: string }) {
  return (
    <span class={`badge badge-${value.replace(/[^a-z_]/gi, '')}`} title={title} data-badge={value}>
      {value}
    </span>
  );
}

export function Card(props: { id: string; title: string; children: ComponentChildren; extra?: ComponentChildren }) {
  return (
    <section class="card" id={props.id} aria-labelledby={`${props.id}-title`}>
      <header>
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        {props.extra}
      </header>
      {props.children}
    </section>
  );
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(h)}:${pad(m)}:${pad(s % 60)}`;
}

/** Re-renders every `ms` while `on`, for clocks that tick between pushes. */
export function useTick(ms: number, on = true): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms, on]);
  return now;
}
