// Meeting tracking: stores conference events (deduplicated, durably, with
// room events in the same transaction), keeps meeting summaries current, and
// answers insight — live, "as of", or the stored final one.
import type { AgentContext } from '../app-context.js';
import type { Clock } from '../util/clock.js';
import { AgentError } from '../util/errors.js';
import type { TrackingConfig } from './config.js';
import { applyToConference, type ConferenceFacts, mayChangeConference, newConference } from './fold.js';
import { instanceOf, insightAt, statusAt } from './insight.js';
import { dedupKey, EventInputError, parseConfEvent, parseTime } from './parse.js';
import { MeetingCache } from './cache.js';
import { DedupIndex } from './dedup.js';
import { eventTexts } from './raw.js';
import { type EventRow, TrackingStore } from './store.js';
import { iso } from '../util/iso.js';
import type { ConfEvent, Insight, MeetingSummary, RosterEntry, ScheduledMeeting } from './types.js';

export interface IngestResult {
  /** Events stored now for the first time. */
  accepted: number;
  /** Events that were already stored (counted on the stored event, not stored again). */
  duplicates: number;
}

/** One event ready to store: validated, with what was received for the log. */
export interface IncomingEvent {
  ev: ConfEvent;
  /** The object as received (its JSON is logged). */
  raw: unknown;
  /** True when `ev` is parseConfEvent(raw): then only raw is stored and the event is derived again when folding. */
  fromRaw?: boolean;
  /** raw's JSON text as received (else JSON.stringify(raw) is logged). */
  text?: string;
}

interface Group {
  items: readonly IncomingEvent[];
  source: string;
}

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
  private readonly dedup: DedupIndex;
  private readonly pending = new Set<string>();
  private flushTimer: ReturnType<Clock['setTimeout']> | null = null;
  private stopped = false;
  private queue: (Group & { resolve(r: IngestResult): void; reject(e: unknown): void })[] = [];

  constructor(
    private readonly ctx: Pick<AgentContext, 'store' | 'events' | 'bus' | 'clock' | 'logger'>,
    private readonly cfg: TrackingConfig,
  ) {
    this.store = new TrackingStore(ctx.store);
    this.cache = new MeetingCache(this.store, cfg, this.pending);
    this.dedup = new DedupIndex((conference) => this.store.keysOf(conference));
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

  private commit(groups: readonly Group[]): IngestResult[] {
    if (this.stopped) throw new AgentError('UNAVAILABLE', 'meeting tracking is stopping');
    const now = this.ctx.clock.now();
    const nowIso = iso(now) as string;
    const appended: { meeting: string; ev: ConfEvent; seq: number }[] = [];
    const dropCaches = new Set<string>();
    // Meetings that had no row before this commit: all their foldable events are in `appended`.
    const fresh = new Map<string, boolean>();
    const touched = new Map<string, boolean>();
    const tx = this.store.db.transaction((): IngestResult[] => {
      this.store.resetEvents();
      const confs = new Map<string, { meetingKey: string; facts: ConferenceFacts | null } | undefined>();
      const statusBefore = new Map<string, string | undefined>();
      const out = groups.map(({ items, source }) => {
        let accepted = 0;
        let duplicates = 0;
        for (const { ev, raw, fromRaw, text } of items) {
          if (!confs.has(ev.conference)) confs.set(ev.conference, this.store.conference(ev.conference));
          const conf = confs.get(ev.conference);
          const oldKey = conf?.meetingKey ?? ev.conference;
          if (!statusBefore.has(oldKey)) statusBefore.set(oldKey, this.store.meetingStatus(oldKey));
          const st = statusBefore.get(oldKey);
          const late = st === 'ended' || st === 'failed';
          const keys = this.dedup.of(ev.conference);
          const key = dedupKey(ev, raw);
          const stored = keys.get(key);
          if (stored !== undefined) {
            duplicates++;
            this.store.countDuplicate(stored, late);
            // A delayed duplicate of an ended meeting recomputes (and re-stores) its final insight.
            if (late && !touched.has(oldKey)) touched.set(oldKey, false);
            continue;
          }
          const seq = this.store.appendEvent(
            key,
            ev,
            now,
            source,
            text ?? JSON.stringify(raw),
            fromRaw ? null : JSON.stringify(ev),
            late,
          );
          this.dedup.add(keys, key, seq);
          accepted++;
          let facts = conf?.facts ?? null;
          let changed = conf === undefined;
          // No copy and compare for the joins and quits that cannot move the facts.
          if (ev.known && (facts === null || mayChangeConference(facts, ev))) {
            const next = facts ? { ...facts } : newConference(ev.conference, ev);
            applyToConference(next, ev);
            changed ||= !sameFacts(next, facts);
            facts = next;
          }
          let meeting = oldKey;
          if (changed) {
            meeting = this.store.putConference(ev.conference, facts);
            confs.set(ev.conference, { meetingKey: meeting, facts });
          }
          if (conf !== undefined && meeting !== oldKey) {
            // Older events now belong to `meeting`: its snapshot (and the old one) no longer match the log.
            dropCaches.add(oldKey).add(meeting);
            touched.set(oldKey, true);
            this.store.deleteSnapshot(oldKey);
            this.store.deleteSnapshot(meeting);
          }
          touched.set(meeting, touched.get(meeting) === true || changed);
          if (!fresh.has(meeting)) fresh.set(meeting, this.store.meetingStatus(meeting) === undefined);
          appended.push({ meeting, ev, seq });
          this.ctx.events.emit({
            type: 'meeting.event',
            at: iso(ev.at) as string,
            data: {
              meeting_id: meeting,
              instance_id: ev.conference,
              seq,
              event: ev.event,
              known: ev.known,
              source,
              received_at: nowIso,
              late,
              raw,
            },
          });
        }
        return { accepted, duplicates };
      });
      for (const [meeting, recompute] of touched) {
        if (recompute) {
          this.summarize(meeting, now);
          continue;
        }
        // Only an ended/failed meeting can have a stored final insight to invalidate;
        // a live one stays dirty until it ends (saves a row write per commit).
        const st = statusBefore.has(meeting) ? statusBefore.get(meeting) : this.store.meetingStatus(meeting);
        if (st === 'ended' || st === 'failed') this.store.touchMeeting(meeting, now);
      }
      this.store.flushEvents();
      return out;
    });
    let results: IngestResult[];
    try {
      results = tx();
    } catch (e) {
      // Rolled back: the in-memory keys may name events that were never stored.
      this.dedup.clear();
      this.store.resetEvents();
      throw e;
    }
    // After the commit: schedule the push (first: that pins the meetings' folds) and bring cached folds up to date.
    for (const m of touched.keys()) {
      this.cache.forgetFinal(m);
      this.schedulePublish(m);
    }
    for (const m of dropCaches) this.cache.dropFold(m);
    // A brand-new meeting's fold is built from this commit's events, not read back from SQLite.
    for (const [m, isNew] of fresh) if (isNew && !dropCaches.has(m)) this.cache.seed(m);
    for (const { meeting, ev, seq } of appended) this.cache.appended(meeting, ev, seq);
    return results;
  }

  /** Recomputes a meeting's stored summary from its instances; emits meeting.status when it changes. */
  private summarize(meeting: string, now: number): void {
    const facts = this.store.conferencesOf(meeting);
    const prev = this.store.meeting(meeting);
    if (facts.length === 0) {
      this.store.deleteMeeting(meeting);
      return;
    }
    const instances = facts.map(instanceOf);
    const st = statusAt(instances, Number.POSITIVE_INFINITY);
    const row = {
      id: meeting,
      status: st.status,
      actual_start: st.start,
      actual_end: st.end,
      error: st.error,
      first_at: Math.min(...instances.map((i) => i.visibleFrom)),
      instances: instances.length,
      updated_at: now,
    };
    this.store.putMeeting(row);
    if (prev?.status !== st.status) {
      this.ctx.events.emit({
        type: 'meeting.status',
        at: iso(now) as string,
        data: {
          meeting_id: meeting,
          status: st.status,
          previous: prev?.status ?? null,
          actual_start_time: iso(st.start),
          actual_end_time: iso(st.end),
          error: st.error,
        },
      });
    }
  }

  private schedulePublish(meeting: string): void {
    this.pending.add(meeting);
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = this.ctx.clock.setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, this.cfg.publish_delay_ms);
  }

  /** Pushes the current insight of every meeting changed since the last push (and stores final ones). */
  flush(): void {
    // Each id leaves `pending` only when its turn comes, so the folds of those still waiting stay pinned in the cache.
    for (const id of [...this.pending]) {
      this.pending.delete(id);
      if (!this.exists(id)) continue;
      try {
        this.ctx.bus.publish('meetings', this.current(id));
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

  /** Drops a meeting's in-memory fold and final insight (the next read loads its snapshot); for tests and benchmarks. */
  forget(id: string): void {
    this.cache.dropFold(id);
    this.cache.forgetFinal(id);
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
    return out.sort((a, b) => sortTime(a).localeCompare(sortTime(b)) || (a.id < b.id ? -1 : 1));
  }

  /** The raw events of a meeting as received, in event-time order. */
  events(id: string, limit = 1000, offset = 0): LoggedEvent[] {
    if (!this.exists(id)) throw new AgentError('NOT_FOUND', `no meeting "${id}"`);
    return this.store.eventsOf(id, limit, offset).map((r: EventRow) => ({
      seq: r.seq,
      meeting_id: id,
      instance_id: r.conference,
      event: r.event,
      known: r.known === 1,
      time: iso(r.at) as string,
      received_at: iso(r.received_at) as string,
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

/** Field-by-field equality of conference facts (most joins and quits change nothing). */
function sameFacts(a: ConferenceFacts, b: ConferenceFacts | null): boolean {
  if (b === null) return false;
  for (const k of Object.keys(a) as (keyof ConferenceFacts)[]) {
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    if (Array.isArray(x) && Array.isArray(y) && x.join('\u0000') === y.join('\u0000') && x.length === y.length) continue;
    return false;
  }
  return true;
}

const sortTime = (m: MeetingSummary): string => m.actual_start_time ?? m.scheduled_start ?? '';

export { EventInputError };
