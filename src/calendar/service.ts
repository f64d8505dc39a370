// The calendar service: keeps the last good copy of every calendar source in
// SQLite, merges them into the room's meetings, and emits meeting.upcoming /
// meeting.start / meeting.end as durable room events and on the bus.
import type { AgentContext, Feature } from '../app-context.js';
import type { DeviceChange } from '../state/devices.js';
import type { TimerHandle } from '../util/clock.js';
import { AgentError, errorMessage } from '../util/errors.js';
import type { CalendarSection } from './config.js';
import { type Meeting, mergeEvents, type SourcedEvent, type SourcedRoom, sourceKeys } from './merge.js';
import { type CalendarEvent, type CalendarRoom, type CalendarSnapshot, LIST_ACTION, SNAPSHOT_KEY } from './model.js';
import { CalendarStore, type SourceRow } from './store.js';
import { addDays, startOfDay } from './zone.js';

export type MeetingEventType = 'meeting.upcoming' | 'meeting.start' | 'meeting.end';

export interface MeetingEvent {
  type: MeetingEventType;
  at: string;
  meeting: Meeting;
  /** meeting.upcoming: minutes before the start it was configured to fire. */
  minutes_before?: number;
  /** meeting.start: seconds after the scheduled start it fired (late after a restart). */
  late_s?: number;
  /** meeting.end: the meeting vanished from the calendar while running (cancelled or moved). */
  removed?: boolean;
}

export interface SourceInfo {
  id: string;
  status: string;
  /** Last successful sync (this run or, from SQLite, an earlier one). */
  synced_at: string | null;
  stale: boolean;
}

export interface CalendarList {
  from: string;
  to: string;
  time_zone: string;
  /** True when any source's copy may be out of date (offline, not synced since start, or too old). */
  stale: boolean;
  /** Oldest last-successful-sync among the sources; null if one never synced. */
  synced_at: string | null;
  sources: SourceInfo[];
  meetings: Meeting[];
  rooms: SourcedRoom[];
}

/** What one source contributes to a CalendarList. */
interface SourcePart {
  id: string;
  events: CalendarEvent[];
  rooms: CalendarRoom[];
  synced_at: string | null;
  stale: boolean;
}

/** Check the schedule at least this often, so new sync data is picked up. */
const MAX_TICK_MS = 60_000;
const DAY_MS = 86_400_000;
const MAX_RANGE_MS = 92 * DAY_MS;

export class CalendarService implements Feature {
  readonly name = 'calendar';
  private store: CalendarStore | null = null;
  private readonly syncedThisRun = new Set<string>();
  private readonly listeners = new Set<(e: MeetingEvent) => void>();
  private timer: TimerHandle | null = null;
  private unsubscribe: (() => void) | null = null;
  private lastPublished = '';
  private running = false;

  constructor(
    private readonly ctx: AgentContext,
    private readonly cfg: Required<Pick<CalendarSection, 'upcoming_minutes' | 'stale_after_s' | 'keep_days'>>,
    readonly sources: string[],
    readonly zone: string,
  ) {}

  async start(): Promise<void> {
    this.store = new CalendarStore(this.ctx.store);
    this.store.prune(this.ctx.clock.now() - this.cfg.keep_days * DAY_MS);
    this.running = true;
    this.unsubscribe = this.ctx.bus.subscribe((m) => {
      if (m.topic !== 'devices') return;
      const change = m.data as DeviceChange;
      if (!this.sources.includes(change.device)) return;
      if ('state' in change && change.state[SNAPSHOT_KEY]) this.ingest(change.device);
      else if ('status' in change) this.publishIfChanged();
    });
    // Devices started before us may already have synced.
    for (const s of this.sources) this.ingest(s);
    this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.ctx.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Subscribe to meeting.upcoming / start / end; returns the unsubscribe function. */
  onMeeting(listener: (e: MeetingEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Today (room time zone) as [from, to). */
  today(now = this.ctx.clock.now()): { from: number; to: number } {
    const from = startOfDay(now, this.zone);
    return { from, to: addDays(from, 1, this.zone) };
  }

  /**
   * Meetings in [from, to) (default: today). Ranges the sources' last sync
   * covers come from SQLite; others are read from online sources now, falling
   * back to the stored copy (marked stale) when that fails.
   */
  async list(fromMs?: number, toMs?: number): Promise<CalendarList> {
    const { from, to } = this.checkRange(fromMs, toMs);
    const store = this.requireStore();
    const stored = store.sources();
    const parts: SourcePart[] = [];
    for (const src of this.sources) {
      const row = stored.get(src);
      let stale = this.isStale(src, row);
      let events: CalendarEvent[] | null = null;
      let srcRooms: CalendarRoom[] = row?.rooms ?? [];
      const covered = !!row && from >= row.window_from && to <= row.window_to;
      if (!covered && this.online(src)) {
        try {
          const r = (await this.ctx.host.invoke(
            src,
            LIST_ACTION,
            { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
            { kind: 'calendar', name: 'calendar.list', detail: 'range outside the synced window' },
          )) as { events: CalendarEvent[]; rooms: CalendarRoom[] };
          events = r.events;
          srcRooms = r.rooms;
        } catch (e) {
          this.ctx.logger.warn({ source: src, err: errorMessage(e) }, 'calendar: live read failed; serving the stored copy');
          stale = true;
        }
      }
      events ??= store.events(src, from, to);
      parts.push({ id: src, events, rooms: srcRooms, synced_at: row?.synced_at ?? null, stale });
    }
    return this.result(from, to, parts);
  }

  /** The meeting in progress now (the latest started if several overlap), from the stored copy. */
  current(): Meeting | null {
    const now = this.ctx.clock.now();
    const live = this.storedMeetings(now - DAY_MS, now + 1).filter(
      (m) => !m.all_day && Date.parse(m.start) <= now && Date.parse(m.end) > now,
    );
    return live.sort((a, b) => Date.parse(b.start) - Date.parse(a.start))[0] ?? null;
  }

  /** The next meeting that has not started yet (within 14 days), from the stored copy. */
  next(): Meeting | null {
    const now = this.ctx.clock.now();
    return this.storedMeetings(now, now + 14 * DAY_MS).find((m) => !m.all_day && Date.parse(m.start) > now) ?? null;
  }

  /** Freshness summary for API answers around current()/next(). */
  freshness(): { stale: boolean; synced_at: string | null; sources: SourceInfo[] } {
    const stored = this.requireStore().sources();
    const sources = this.sources.map((id) => ({
      id,
      status: this.status(id),
      synced_at: stored.get(id)?.synced_at ?? null,
      stale: this.isStale(id, stored.get(id)),
    }));
    return { stale: sources.some((s) => s.stale), synced_at: oldest(sources), sources };
  }

  // ------------------------------------------------------------------ internals

  private result(from: number, to: number, parts: SourcePart[]): CalendarList {
    const items: SourcedEvent[] = [];
    const rooms: SourcedRoom[] = [];
    const infos: SourceInfo[] = [];
    for (const { id, events, rooms: srcRooms, synced_at, stale } of parts) {
      for (const event of events) items.push({ source: id, event, stale });
      for (const r of srcRooms) rooms.push({ ...r, source: id });
      infos.push({ id, status: this.status(id), synced_at, stale });
    }
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      time_zone: this.zone,
      stale: infos.some((s) => s.stale),
      synced_at: oldest(infos),
      sources: infos,
      meetings: mergeEvents(items, this.sources),
      rooms,
    };
  }

  private storedMeetings(from: number, to: number): Meeting[] {
    const store = this.requireStore();
    const stored = store.sources();
    const items: SourcedEvent[] = [];
    for (const src of this.sources) {
      const stale = this.isStale(src, stored.get(src));
      for (const event of store.events(src, from, to)) items.push({ source: src, event, stale });
    }
    return mergeEvents(items, this.sources);
  }

  private requireStore(): CalendarStore {
    if (!this.store) throw new AgentError('UNAVAILABLE', 'calendar service is not started');
    return this.store;
  }

  private checkRange(fromMs?: number, toMs?: number): { from: number; to: number } {
    const today = this.today();
    const from = fromMs ?? (toMs !== undefined ? startOfDay(toMs - 1, this.zone) : today.from);
    const to = toMs ?? addDays(from, 1, this.zone);
    if (!(to > from)) throw new AgentError('INVALID_PARAMS', '"to" must be after "from"');
    if (to - from > MAX_RANGE_MS) throw new AgentError('INVALID_PARAMS', 'the range may span at most 92 days');
    return { from, to };
  }

  private status(src: string): string {
    return this.ctx.devices.get(src)?.status.status ?? 'unknown';
  }

  private online(src: string): boolean {
    return this.status(src) === 'online';
  }

  /** `row`: the source's stored sync record (callers read all of them once). */
  private isStale(src: string, row: SourceRow | undefined): boolean {
    if (!this.online(src) || !this.syncedThisRun.has(src)) return true;
    return !row || this.ctx.clock.now() - Date.parse(row.synced_at) > this.cfg.stale_after_s * 1000;
  }

  /** Stores a source's new snapshot (device state) and reacts to the change. */
  private ingest(src: string): void {
    if (!this.running || !this.store) return;
    const snap = this.ctx.devices.values(src)[SNAPSHOT_KEY] as CalendarSnapshot | undefined;
    if (!snap || !Array.isArray(snap.events) || !snap.window || typeof snap.synced_at !== 'string') return;
    try {
      this.store.saveSnapshot(src, snap);
    } catch (e) {
      this.ctx.logger.error({ source: src, err: errorMessage(e) }, 'calendar: cannot store snapshot');
      return;
    }
    this.syncedThisRun.add(src);
    this.publishIfChanged();
    this.tick();
  }

  private publishIfChanged(): void {
    if (!this.running || !this.store) return;
    const { from, to } = this.today();
    const snapshot = this.todaySnapshot(from, to);
    const json = JSON.stringify(snapshot);
    if (json === this.lastPublished) return;
    this.lastPublished = json;
    this.ctx.bus.publish('calendar', { type: 'calendar.updated', ...snapshot });
  }

  /** Today from the stored copy (topic snapshot and change pushes). */
  todaySnapshot(from = this.today().from, to = this.today().to): CalendarList {
    const store = this.requireStore();
    const stored = store.sources();
    const parts = this.sources.map((src): SourcePart => {
      const row = stored.get(src);
      const stale = this.isStale(src, row);
      return { id: src, events: store.events(src, from, to), rooms: row?.rooms ?? [], synced_at: row?.synced_at ?? null, stale };
    });
    return this.result(from, to, parts);
  }

  /** Emits due meeting events and arms the timer for the next boundary. */
  private tick(): void {
    if (!this.running) return;
    this.ctx.clock.clearTimeout(this.timer);
    this.timer = null;
    const now = this.ctx.clock.now();
    const lead = this.cfg.upcoming_minutes * 60_000;
    let nextAt = now + MAX_TICK_MS;
    try {
      const meetings = this.storedMeetings(now - DAY_MS, now + DAY_MS + lead).filter((m) => !m.all_day);
      const liveKeys = new Set<string>();
      for (const m of meetings) {
        const s = Date.parse(m.start);
        const e = Date.parse(m.end);
        const keys = sourceKeys(m);
        for (const k of keys) liveKeys.add(k);
        const fired = (t: MeetingEventType) => keys.some((k) => this.store?.fired(k, t));
        if (lead > 0 && now >= s - lead && now < s && !fired('meeting.upcoming') && !fired('meeting.start')) {
          this.fire('meeting.upcoming', m, keys, { minutes_before: this.cfg.upcoming_minutes });
        }
        if (now >= s && now < e && !fired('meeting.start')) {
          this.fire('meeting.start', m, keys, { late_s: Math.round((now - s) / 1000) });
        }
        if (now >= e && fired('meeting.start') && !fired('meeting.end')) this.fire('meeting.end', m, keys, {});
        for (const b of [s - lead, s, e]) if (b > now && b < nextAt) nextAt = b;
      }
      // Started meetings that vanished from the calendar (cancelled or moved while running).
      // A meeting still seen through any of its sources is not gone.
      const handled = new Set<string>();
      for (const row of this.store?.startedNotEnded() ?? []) {
        const m = JSON.parse(row.meeting) as Meeting;
        const keys = [row.key, ...sourceKeys(m)];
        if (handled.has(m.id) || keys.some((k) => liveKeys.has(k) || this.store?.fired(k, 'meeting.end'))) continue;
        handled.add(m.id);
        this.fire('meeting.end', m, keys, { removed: now < row.end_ms });
      }
    } catch (e) {
      this.ctx.logger.error({ err: errorMessage(e) }, 'calendar: schedule check failed');
    }
    // Also catches what changes with time alone: the day rolling over, a source going stale.
    this.publishIfChanged();
    this.timer = this.ctx.clock.setTimeout(() => this.tick(), Math.max(1, nextAt - now));
  }

  private fire(type: MeetingEventType, m: Meeting, keys: string[], extra: Partial<MeetingEvent>): void {
    const at = new Date(this.ctx.clock.now()).toISOString();
    const data = {
      meeting_id: m.id,
      title: m.title,
      start: m.start,
      end: m.end,
      join_url: m.join_url,
      sources: m.sources.map((s) => s.source),
      ...extra,
      meeting: m,
    };
    // The fired mark and the durable room event commit together.
    this.store?.markFired([...new Set(keys)], type, at, Date.parse(m.end), JSON.stringify(m), () =>
      this.ctx.events.emit({ type, at, data }),
    );
    this.ctx.logger.info({ type, meeting: m.id, title: m.title }, 'calendar: meeting event');
    this.ctx.bus.publish('calendar', { type, at, ...data });
    const ev: MeetingEvent = { type, at, meeting: m, ...extra };
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (e) {
        this.ctx.logger.warn({ err: errorMessage(e), type }, 'calendar: meeting listener failed');
      }
    }
  }
}

function oldest(infos: { synced_at: string | null }[]): string | null {
  if (!infos.length || infos.some((s) => !s.synced_at)) return null;
  return infos.map((s) => s.synced_at as string).sort()[0] ?? null;
}
