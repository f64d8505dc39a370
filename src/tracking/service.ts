// Meeting tracking: takes conference events (validated here, stored by the
// commit path in commit.ts), pushes changed meetings' insight on a timer, and
// answers insight — live, "as of", or the stored final one — and the queries.
import type { AgentContext } from '../app-context.js';
import type { Clock } from '../util/clock.js';
import { AgentError } from '../util/errors.js';
import { MeetingCache } from './cache.js';
import { EventCommitter, type EventGroup, type IncomingEvent, type IngestResult } from './commit.js';
import type { TrackingConfig } from './config.js';
import { insightAt } from './insight.js';
import { DIAL_FAILURES } from './interruptions.js';
import { InsightPublisher } from './publish.js';
import { Roster } from './roster.js';
import {
  bindingText,
  dialText,
  EventInputError,
  parseBinding,
  parseConfEvent,
  parseDial,
  parseTime,
  userDataMemoSize,
} from './parse.js';
import { eventTexts } from './raw.js';
import { type EventRow, TrackingStore } from './store.js';
import { iso } from '../util/iso.js';
import type {
  BindingRecord,
  ConfEvent,
  DialRecord,
  Insight,
  MeetingState,
  MeetingSummary,
  RosterEntry,
  ScheduledMeeting,
} from './types.js';

export type { IncomingEvent, IngestResult } from './commit.js';

export interface LoggedEvent {
  seq: number;
  meeting_id: string;
  instance_id: string;
  event: string;
  known: boolean;
  time: string;
  received_at: string;
  source: string;
  duplicates: number;
  duplicate: boolean;
  late: boolean;
  data: unknown;
}

export class TrackingService {
  readonly store: TrackingStore;
  private readonly cache: MeetingCache;
  private readonly committer: EventCommitter;
  private readonly publisher: InsightPublisher;
  private readonly pending = new Set<string>();
  private flushTimer: ReturnType<Clock['setTimeout']> | null = null;
  private stopped = false;
  private queue: (EventGroup & { resolve(r: IngestResult): void; reject(e: unknown): void })[] = [];

  constructor(
    private readonly ctx: Pick<AgentContext, 'store' | 'events' | 'bus' | 'clock' | 'logger'>,
    private readonly cfg: TrackingConfig,
  ) {
    this.store = new TrackingStore(ctx.store);
    this.cache = new MeetingCache(this.store, cfg, this.pending);
    this.committer = new EventCommitter(ctx, this.store, this.cache, this, cfg.dedup_conferences);
    this.publisher = new InsightPublisher(cfg.delta_base_meetings);
  }

  /**
   * Ingest path for callback-format events from any source (HTTP, MQTT relay):
   * validates every event first and stores none of a batch with an invalid
   * member (throws EventInputError naming the event and field).
   */
  ingest(input: unknown, source: string): IngestResult {
    return this.ingestParsed(this.validate(input, source), source);
  }

  /**
   * Validates callback-format events (one or an array); throws EventInputError naming the event and field.
   * `body`: the JSON text `input` was parsed from, whose slices are then logged as each event's text.
   */
  validate(input: unknown, _source: string, body?: string): IncomingEvent[] {
    const list = Array.isArray(input) ? input : [input];
    if (list.length > this.cfg.max_batch) {
      throw new AgentError('INVALID_PARAMS', `batch of ${list.length} events exceeds max_batch ${this.cfg.max_batch}`);
    }
    const now = this.ctx.clock.now();
    const texts = body === undefined ? undefined : eventTexts(body, list.length);
    return list.map((raw, i): IncomingEvent => ({ ev: parseConfEvent(raw, i, now), raw, fromRaw: true, text: texts?.[i] }));
  }

  /**
   * One status callback of an outbound call (the Twilio dial-out): stored as a
   * `dial.status` event with source `twilio`, deduplicated by call_sid + status
   * + sequence. Returns after the commit; throws EventInputError (INVALID_PARAMS,
   * naming the field) and stores nothing on a bad record. The meeting need not be
   * known yet: the status is kept and counts once its meeting's events arrive.
   */
  recordDial(d: DialRecord): IngestResult {
    const ev = parseDial(d, this.ctx.clock.now());
    const r = this.ingestParsed([{ ev, raw: dialText(ev) }], 'twilio');
    if (r.accepted > 0) this.announceDial(ev);
    return r;
  }

  /**
   * Room event `meeting.dial` for each new dial status, saying whether the call
   * failed and whether it was for a participant the meeting expects (on its
   * roster, by person or by number): the alerts module raises `dial_failed` on it.
   */
  private announceDial(ev: ConfEvent): void {
    const meeting = ev.meeting as string;
    const roster = new Roster(this.store.roster(meeting));
    const expected =
      (ev.person !== null && roster.entry(ev.person, null) !== undefined) ||
      (ev.part_uri !== null && roster.entry(null, ev.part_uri) !== undefined);
    const person = ev.person ?? (ev.part_uri !== null ? (roster.entry(null, ev.part_uri)?.person ?? null) : null);
    this.ctx.events.emit({
      type: 'meeting.dial',
      at: iso(ev.at),
      data: {
        meeting_id: meeting,
        call_sid: ev.call_id,
        status: ev.status,
        failed: DIAL_FAILURES.has(ev.status as string),
        expected,
        person,
        number: ev.part_uri,
        reason: ev.error,
      },
    });
  }

  /**
   * A joiner bound to a person by a verified code: stored as an
   * `identity.bound` event with source `identity` (deduplicated by participant,
   * person, time and `by`). From `at` on the participant is that person
   * (`matched_by: "code"`, the person's role in the timer). Returns after the
   * commit; throws EventInputError on a bad record.
   */
  recordBinding(b: BindingRecord): IngestResult {
    const ev = parseBinding(b, this.ctx.clock.now());
    return this.ingestParsed([{ ev, raw: bindingText(ev) }], 'identity');
  }

  /** Stores validated events in one transaction; returns after the commit. */
  ingestParsed(items: readonly IncomingEvent[], source: string): IngestResult {
    return this.commit([{ items, source }])[0];
  }

  /**
   * Group commit for concurrent webhook requests: requests that arrive in the
   * same turn of the event loop share one transaction, and each is answered
   * only after that commit. If the shared transaction fails, each request is
   * retried alone so one bad request cannot fail its neighbours.
   */
  ingestQueued(items: readonly IncomingEvent[], source: string): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ items, source, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => this.drain());
    });
  }

  private drain(): void {
    const q = this.queue;
    this.queue = [];
    if (q.length === 0) return;
    try {
      const results = this.commit(q);
      for (const [i, g] of q.entries()) g.resolve(results[i]);
    } catch {
      for (const g of q) {
        try {
          g.resolve(this.commit([g])[0]);
        } catch (e) {
          g.reject(e);
        }
      }
    }
  }

  private commit(groups: readonly EventGroup[]): IngestResult[] {
    if (this.stopped) throw new AgentError('UNAVAILABLE', 'meeting tracking is stopping');
    return this.committer.commit(groups);
  }

  /** Queues a push of the meeting's insight (coalesced over publish_delay_ms); the commit path calls it for each meeting it changed. */
  schedulePublish(meeting: string): void {
    this.pending.add(meeting);
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = this.ctx.clock.setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, this.publishDelay(meeting));
  }

  /**
   * How long a change of the meeting waits before its push: publish_delay_ms, and for a big meeting
   * publish_delay_ms per 1,000 calls up to publish_delay_max_ms. A push costs in proportion to the
   * meeting (its index rebuilt, its insight diffed), so a 1,000-person webinar with people coming
   * and going would otherwise spend most of a core on pushes nobody can read that fast.
   */
  private publishDelay(meeting: string): number {
    const base = this.cfg.publish_delay_ms;
    const scaled = base * Math.max(1, this.cache.callCount(meeting) / 1000);
    return Math.round(Math.min(scaled, Math.max(base, this.cfg.publish_delay_max_ms)));
  }

  /** Pushes a delta of every meeting changed since the last push (and stores final insights). */
  flush(): void {
    // Each id leaves `pending` only when its turn comes, so the folds of those still waiting stay pinned in the cache.
    for (const id of [...this.pending]) {
      this.pending.delete(id);
      if (!this.exists(id)) continue;
      try {
        this.ctx.bus.publish('meetings', this.publisher.next(this.current(id)));
        this.cache.maybeSnapshot(id);
      } catch (e) {
        this.ctx.logger.error({ meeting: id, err: (e as Error).message }, 'meeting insight failed');
      }
    }
    this.cache.trim();
  }

  private exists(id: string): boolean {
    return this.store.meeting(id) !== undefined || this.store.schedule(id) !== undefined;
  }

  /** Drops a meeting's in-memory fold, final insight and delta base (the next read loads its snapshot); for tests and benchmarks. */
  forget(id: string): void {
    this.cache.dropFold(id);
    this.cache.forgetFinal(id);
    this.publisher.forget(id);
  }

  /**
   * The state a follower of the `meetings` deltas starts from: the insight now
   * with the epoch and seq it carries. Taking it publishes that state as a
   * delta too, so every follower stays on one numbered sequence.
   */
  followState(id: string): MeetingState {
    if (!this.exists(id)) throw new AgentError('NOT_FOUND', `no meeting "${id}"`);
    const insight = this.current(id);
    const d = this.publisher.next(insight);
    this.ctx.bus.publish('meetings', d);
    return { epoch: d.epoch, seq: d.seq, insight };
  }

  /** The insight now (a final one is stored so later reads need no fold). */
  private current(id: string): Insight {
    const row = this.store.meeting(id);
    const ix = this.cache.index(id);
    const insight = insightAt(ix, Math.max(this.ctx.clock.now(), ix.lastAt));
    if (insight.final && row && row.final_dirty === 1) {
      const json = JSON.stringify(insight);
      this.store.storeFinal(id, json, row.updated_at);
      this.cache.rememberFinal(id, json);
    }
    return insight;
  }

  /** Ended meetings' final insights held in memory (bounded by `final_cache_mb`). */
  finalsInMemory(): { count: number; chars: number } {
    return this.cache.finalsInMemory();
  }

  /** How full the in-memory caches are, against their caps (the soak bench prints it). */
  cacheLevels(): {
    folds: { count: number; cap: number };
    finals: { count: number; chars: number; capChars: number };
    deltaBases: { count: number; cap: number };
    dedup: { conferences: number; maxConferences: number; keys: number; budget: number };
    userData: { count: number; cap: number };
  } {
    return {
      folds: this.cache.foldsInMemory(),
      finals: { ...this.cache.finalsInMemory(), capChars: this.cfg.final_cache_mb * 1024 * 1024 },
      deltaBases: this.publisher.size(),
      dedup: this.committer.dedupSize(),
      userData: userDataMemoSize(),
    };
  }

  /** The stored final insight as JSON text, when the meeting has ended and nothing changed since. */
  finalJson(id: string): string | undefined {
    return this.cache.finalJson(id);
  }

  /** Insight now, or as of `at` (ISO 8601 or epoch seconds/ms). */
  insight(id: string, at?: string | number): Insight {
    if (!this.exists(id)) throw new AgentError('NOT_FOUND', `no meeting "${id}"`);
    if (at === undefined || at === '') {
      const stored = this.finalJson(id);
      return stored ? (JSON.parse(stored) as Insight) : this.current(id);
    }
    const t = parseTime(at);
    if (t === undefined) {
      throw new AgentError('INVALID_PARAMS', `at: expected an ISO 8601 time with a zone or epoch seconds/milliseconds`);
    }
    return insightAt(this.cache.index(id), t);
  }

  list(from?: string | number, to?: string | number): MeetingSummary[] {
    const f = from === undefined || from === '' ? Number.NEGATIVE_INFINITY : parseTime(from);
    const t = to === undefined || to === '' ? Number.POSITIVE_INFINITY : parseTime(to);
    if (f === undefined) throw new AgentError('INVALID_PARAMS', 'from: expected an ISO 8601 time or epoch seconds/milliseconds');
    if (t === undefined) throw new AgentError('INVALID_PARAMS', 'to: expected an ISO 8601 time or epoch seconds/milliseconds');
    const out: MeetingSummary[] = [];
    for (const r of this.store.list()) {
      const start = r.actual_start ?? r.first_at ?? r.sched_start;
      const end = r.actual_end ?? (r.status === 'live' ? null : (r.sched_end ?? start));
      if (start !== null && start > t) continue;
      if (end !== null && end < f) continue;
      out.push({
        id: r.id,
        status: r.status as MeetingSummary['status'],
        actual_start_time: iso(r.actual_start),
        actual_end_time: iso(r.actual_end),
        error: r.error,
        instances: r.instances,
        title: r.title,
        scheduled_start: iso(r.sched_start),
        scheduled_end: iso(r.sched_end),
      });
    }
    // ISO-8601 UTC strings order by code unit; localeCompare would load ICU's collator (docs/performance.md).
    return out.sort((a, b) => {
      const ta = sortTime(a);
      const tb = sortTime(b);
      if (ta !== tb) return ta < tb ? -1 : 1;
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
  }

  /**
   * The raw events of a meeting as received, in event-time order; with
   * `afterSeq`, only those stored after that seq (a follower asks for what is new).
   */
  events(id: string, limit = 1000, offset = 0, afterSeq = 0): LoggedEvent[] {
    if (!this.exists(id)) throw new AgentError('NOT_FOUND', `no meeting "${id}"`);
    return this.store.eventsOf(id, limit, offset, afterSeq).map((r: EventRow) => ({
      seq: r.seq,
      meeting_id: id,
      instance_id: r.conference,
      event: r.event,
      known: r.known === 1,
      time: iso(r.at),
      received_at: iso(r.received_at),
      source: r.source,
      duplicates: r.duplicates,
      duplicate: r.duplicates > 0,
      late: r.late === 1,
      data: JSON.parse(r.raw),
    }));
  }

  /**
   * Calendar hook: a scheduled meeting and its roster (invitees with person,
   * role and the contacts they may join from). Meetings known only this way
   * are `scheduled`; the roster names and gives roles to participants whose
   * user_data does not.
   */
  schedule(m: ScheduledMeeting): void {
    if (typeof m.id !== 'string' || m.id === '') throw new AgentError('INVALID_PARAMS', 'id: expected a non-empty string');
    const time = (field: string, v: unknown): number | null => {
      if (v === undefined || v === null) return null;
      const t = parseTime(v);
      if (t === undefined) throw new AgentError('INVALID_PARAMS', `${field}: expected a time`);
      return t;
    };
    const roster: RosterEntry[] = (m.roster ?? []).map((r, i) => {
      if (!r || typeof r.person !== 'string' || r.person === '') {
        throw new AgentError('INVALID_PARAMS', `roster.${i}.person: expected a non-empty string`);
      }
      return {
        person: r.person,
        role: typeof r.role === 'string' ? r.role : null,
        contacts: (r.contacts ?? []).filter((c) => typeof c === 'string'),
      };
    });
    this.store.putSchedule({
      id: m.id,
      title: m.title ?? null,
      start: time('start', m.start),
      end: time('end', m.end),
      roster: JSON.stringify(roster),
    });
    this.cache.invalidateIndex(m.id);
    this.cache.forgetFinal(m.id);
    this.store.touchMeeting(m.id, this.ctx.clock.now());
    this.schedulePublish(m.id);
  }

  /** Snapshot for the `meetings` topic: meetings live now or changed in the last day. */
  snapshot(): { meetings: MeetingSummary[] } {
    const now = this.ctx.clock.now();
    return { meetings: this.list(now - 24 * 3600_000) };
  }

  stop(): void {
    this.stopped = true;
    this.ctx.clock.clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.pending.clear();
  }

  start(): void {
    this.stopped = false;
  }
}

const sortTime = (m: MeetingSummary): string => m.actual_start_time ?? m.scheduled_start ?? '';

export { EventInputError };
