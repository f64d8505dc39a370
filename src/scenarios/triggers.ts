import type { Logger } from 'pino';
import { systemZone, toWallClock, fromWallClock } from '../calendar/zone.js';
import type { Bus, RoomEvents } from '../state/bus.js';
import type { Db } from '../store/db.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { RunTrigger } from './engine.js';
import type { Condition, Scenario } from './schema.js';

/** A meeting as the triggers need it (from the calendar feature). */
export interface TriggerMeeting {
  id: string;
  title: string;
  start: string;
  end: string;
}

export interface MeetingSource {
  meetings(fromMs: number, toMs: number): Promise<TriggerMeeting[]> | TriggerMeeting[];
}

export interface TriggerDeps {
  clock: Clock;
  logger: Logger;
  db: Db;
  bus: Bus;
  events: RoomEvents;
  timezone: string | undefined;
  catchUpMinutes: number;
  scenarios(): Map<string, Scenario>;
  holds(c: Condition): boolean;
  /** Automatic triggers paused? (manual runs still work) */
  enabled(): boolean;
  fire(scenario: string, trigger: RunTrigger): void;
  calendar(): MeetingSource | null;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
/** How often the calendar is re-read for edges (also catches list changes). */
const CALENDAR_POLL_MS = 60_000;

/**
 * Automatic triggers. Edges that must fire once (calendar, time of day) are
 * recorded in SQLite under a unique key before the run starts, and on start-up
 * the agent asks "what should have fired by now?" — so an edge missed while
 * the agent was down still runs, and one that already ran never runs twice.
 */
export class Triggers {
  private readonly offs: (() => void)[] = [];
  private readonly timers = new Set<TimerHandle>();
  private readonly stateTruth = new Map<string, boolean>();
  private calendarTimer: TimerHandle | null = null;
  private stopped = false;
  private readonly claim;

  constructor(private readonly d: TriggerDeps) {
    this.claim = d.db.prepare('INSERT OR IGNORE INTO scenario_edges (key, fired_at) VALUES (?, ?)');
  }

  start(): void {
    this.stopped = false;
    this.offs.push(this.d.events.on((e) => this.onRoomEvent(e.type, e.data)));
    this.offs.push(this.d.bus.subscribe((m) => m.topic === 'devices' && this.checkStates()));
    for (const [key, t] of this.stateTriggers()) this.stateTruth.set(key, this.d.holds(t.when));
    this.scheduleTimes(true);
    void this.reconcileCalendar();
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    for (const t of this.timers) this.d.clock.clearTimeout(t);
    this.timers.clear();
    this.d.clock.clearTimeout(this.calendarTimer);
  }

  /** Fires once per unique edge key; false when it already fired (or triggers are paused). */
  private fireOnce(key: string, scenario: string, trigger: RunTrigger): boolean {
    if (!this.d.enabled()) return false;
    const r = this.claim.run(key, new Date(this.d.clock.now()).toISOString());
    if (r.changes === 0) return false;
    this.d.fire(scenario, trigger);
    return true;
  }

  private onRoomEvent(type: string, data: Record<string, unknown>): void {
    if (type !== 'mic' || data.on !== true || !this.d.enabled()) return;
    for (const sc of this.d.scenarios().values()) {
      for (const t of sc.triggers) {
        if (t.type !== 'mic' || t.device !== data.device) continue;
        if (t.channel !== undefined && t.channel !== data.channel) continue;
        this.d.fire(sc.name, { kind: 'mic', detail: `${String(data.device)} channel ${String(data.channel)} on` });
      }
    }
  }

  private *stateTriggers(): Generator<[string, Extract<Scenario['triggers'][number], { type: 'state' }>, string]> {
    for (const sc of this.d.scenarios().values()) {
      for (const [i, t] of sc.triggers.entries()) if (t.type === 'state') yield [`${sc.name}#${i}`, t, sc.name];
    }
  }

  /** A state trigger fires when its condition goes from false to true. */
  private checkStates(): void {
    // Runs on every device state change (each camera ACK and Completion): plain loops, no
    // generator or entry arrays, and a key string only for the state triggers there are.
    for (const sc of this.d.scenarios().values()) {
      const triggers = sc.triggers;
      for (let i = 0; i < triggers.length; i++) {
        const t = triggers[i];
        if (t.type !== 'state') continue;
        const key = `${sc.name}#${i}`;
        const now = this.d.holds(t.when);
        const before = this.stateTruth.get(key) ?? false;
        this.stateTruth.set(key, now);
        if (now && !before && this.d.enabled()) {
          this.d.fire(sc.name, { kind: 'state', detail: `${t.when.device}.${t.when.key} became true` });
        }
      }
    }
  }

  private zone(): string {
    return this.d.timezone ?? systemZone();
  }

  /** Schedules every time-of-day trigger's next occurrence; at start-up, catches up recent misses. */
  private scheduleTimes(catchUp: boolean): void {
    const now = this.d.clock.now();
    for (const sc of this.d.scenarios().values()) {
      sc.triggers.forEach((t, i) => {
        if (t.type !== 'time') return;
        const [hh, mm] = t.at.split(':').map(Number);
        const zone = this.zone();
        const occurrence = (dayOffset: number) => {
          const w = toWallClock(now + dayOffset * 86_400_000, zone);
          const at = fromWallClock({ ...w, hour: hh, minute: mm, second: 0 }, zone);
          const day = DAYS[new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay()];
          return { at, day, date: `${w.year}-${w.month}-${w.day}` };
        };
        const ok = (day: string) => !t.days || (t.days as string[]).includes(day);
        const key = (date: string) => `time:${sc.name}:${i}:${date}`;
        if (catchUp) {
          const today = occurrence(0);
          if (ok(today.day) && today.at <= now && now - today.at <= this.d.catchUpMinutes * 60_000) {
            this.fireOnce(key(today.date), sc.name, { kind: 'time', detail: `${t.at} (caught up after start)` });
          }
        }
        for (let off = 0; off <= 8; off++) {
          const o = occurrence(off);
          if (o.at > now && ok(o.day)) {
            const h = this.d.clock.setTimeout(() => {
              this.timers.delete(h);
              if (this.stopped) return;
              this.fireOnce(key(o.date), sc.name, { kind: 'time', detail: t.at });
              this.rescheduleTimes();
            }, o.at - now);
            this.timers.add(h);
            break;
          }
        }
      });
    }
  }

  private rescheduleTimes(): void {
    for (const t of this.timers) this.d.clock.clearTimeout(t);
    this.timers.clear();
    this.scheduleTimes(false);
  }

  /** Fires every calendar edge that is due and has not fired; sets a timer for the next one. */
  async reconcileCalendar(): Promise<void> {
    this.d.clock.clearTimeout(this.calendarTimer);
    this.calendarTimer = null;
    if (this.stopped) return;
    const source = this.d.calendar();
    const wanted = [...this.d.scenarios().values()].filter((s) => s.triggers.some((t) => t.type === 'calendar'));
    let next = Number.POSITIVE_INFINITY;
    if (source && wanted.length) {
      const now = this.d.clock.now();
      let meetings: TriggerMeeting[] = [];
      try {
        meetings = await source.meetings(now - 24 * 3_600_000, now + 48 * 3_600_000);
      } catch (e) {
        this.d.logger.warn({ err: (e as Error).message }, 'calendar unavailable for scenario triggers');
      }
      const t = this.d.clock.now();
      const windowMs = this.d.catchUpMinutes * 60_000;
      for (const m of meetings) {
        const start = Date.parse(m.start);
        const end = Date.parse(m.end);
        for (const sc of wanted) {
          sc.triggers.forEach((tr, i) => {
            if (tr.type !== 'calendar') return;
            const edge = tr.event === 'before' ? start - (tr.minutes ?? 5) * 60_000 : tr.event === 'start' ? start : end;
            if (edge > t) {
              next = Math.min(next, edge);
              return;
            }
            // Due: still meaningful now? (before: not started yet; start: still running; end: recently)
            const relevant = tr.event === 'before' ? t < start : tr.event === 'start' ? t < end : t - end <= windowMs;
            if (!relevant) return;
            this.fireOnce(`calendar:${sc.name}:${i}:${m.id}:${m.start}`, sc.name, {
              kind: 'calendar',
              detail: `${tr.event}${tr.event === 'before' ? ` ${tr.minutes ?? 5} min` : ''}: ${m.title} (${m.id})`,
            });
          });
        }
      }
    }
    if (this.stopped) return;
    const wait = Math.max(0, Math.min(CALENDAR_POLL_MS, next - this.d.clock.now()));
    this.calendarTimer = this.d.clock.setTimeout(() => void this.reconcileCalendar(), wait);
  }
}
