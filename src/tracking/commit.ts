// The commit path of meeting tracking: one SQLite transaction stores a batch of
// validated conference events — each distinct event once (duplicates are
// counted on the stored one), with its seq, its `meeting.event` room event and
// the meetings' summaries — and then brings the in-memory folds up to date.
// This is the hot path of batch ingest: keep the per-event loop free of
// closures, copies and calls it does not need.
import type { AgentContext } from '../app-context.js';
import { iso } from '../util/iso.js';
import type { MeetingCache } from './cache.js';
import { DedupIndex } from './dedup.js';
import { applyToConference, type ConferenceFacts, isInstance, mayChangeConference, newConference } from './fold.js';
import { instanceOf, statusAt } from './instances.js';
import { dedupKey, isSideEvent } from './parse.js';
import type { TrackingStore } from './store.js';
import type { ConfEvent } from './types.js';

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

/** The events of one request (or one ingest call), answered with their own IngestResult. */
export interface EventGroup {
  items: readonly IncomingEvent[];
  source: string;
}

/** Told of each meeting a commit changed, after the commit and before the folds are updated (a pending push pins its fold). */
export interface MeetingPublisher {
  schedulePublish(meeting: string): void;
}

export class EventCommitter {
  private readonly dedup: DedupIndex;

  constructor(
    private readonly ctx: Pick<AgentContext, 'events' | 'clock'>,
    private readonly store: TrackingStore,
    private readonly cache: MeetingCache,
    private readonly publisher: MeetingPublisher,
    /** [tracking] dedup_conferences. */
    dedupConferences?: number,
  ) {
    this.dedup = new DedupIndex((conference) => this.store.keysOf(conference), undefined, dedupConferences);
  }

  /** Dedup keys held in memory (see DedupIndex). */
  dedupSize(): ReturnType<DedupIndex['size']> {
    return this.dedup.size();
  }

  /** Stores the groups' events in one transaction; one result per group, returned after the commit. */
  commit(groups: readonly EventGroup[]): IngestResult[] {
    const now = this.ctx.clock.now();
    const nowIso = iso(now);
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
          // A side event (dial-out, binding) names its meeting; a conference event is filed under its conference until known.
          const oldKey = conf?.meetingKey ?? (isSideEvent(ev) ? (ev.meeting as string) : ev.conference);
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
            at: iso(ev.at),
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
      this.publisher.schedulePublish(m);
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
    // The pseudo conferences of dial-outs and bindings are no instances: a meeting with only those is `scheduled`.
    const instances = facts.filter(isInstance).map(instanceOf);
    const st = statusAt(instances, Number.POSITIVE_INFINITY);
    const row = {
      id: meeting,
      status: st.status,
      actual_start: st.start,
      actual_end: st.end,
      error: st.error,
      first_at:
        instances.length > 0 ? Math.min(...instances.map((i) => i.visibleFrom)) : Math.min(...facts.map((f) => f.firstAt)),
      instances: instances.length,
      updated_at: now,
    };
    this.store.putMeeting(row);
    if (prev?.status !== st.status) {
      this.ctx.events.emit({
        type: 'meeting.status',
        at: iso(now),
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
