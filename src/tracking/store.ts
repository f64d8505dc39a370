// SQLite tables of meeting tracking: the append-only event log (one row per
// distinct event, with its duplicate count), conference (instance) facts,
// meeting summaries with the stored final insight, and calendar schedules.
import type { Statement } from 'better-sqlite3';
import type { Db, Migration, Store } from '../store/db.js';
import { type ConferenceFacts, meetingKeyOf } from './fold.js';
import { dedupKey, parseConfEvent } from './parse.js';
import type { ConfEvent, RosterEntry } from './types.js';

export const TRACKING_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'tracking event log, conferences, meetings, schedules',
    up(db: Db) {
      db.exec(`
        CREATE TABLE tracking_events (
          seq INTEGER PRIMARY KEY,
          dedup_key BLOB NOT NULL UNIQUE,
          conference TEXT NOT NULL,
          event TEXT NOT NULL,
          known INTEGER NOT NULL,
          at INTEGER NOT NULL,
          received_at INTEGER NOT NULL,
          source TEXT NOT NULL,
          raw TEXT NOT NULL,
          norm TEXT,
          duplicates INTEGER NOT NULL DEFAULT 0,
          late INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX tracking_events_by_conference ON tracking_events (conference, at, seq);
        CREATE TABLE tracking_conferences (
          id TEXT PRIMARY KEY,
          meeting_key TEXT NOT NULL,
          facts TEXT NOT NULL
        );
        CREATE INDEX tracking_conferences_by_meeting ON tracking_conferences (meeting_key);
        CREATE TABLE tracking_meetings (
          id TEXT PRIMARY KEY,
          status TEXT NOT NULL,
          actual_start INTEGER,
          actual_end INTEGER,
          error TEXT,
          first_at INTEGER,
          instances INTEGER NOT NULL DEFAULT 0,
          updated_at INTEGER NOT NULL,
          final_insight TEXT,
          final_dirty INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE tracking_schedules (
          id TEXT PRIMARY KEY,
          title TEXT,
          start INTEGER,
          end INTEGER,
          roster TEXT NOT NULL DEFAULT '[]'
        );
      `);
    },
  },
  {
    version: 2,
    name: 'tracking fold snapshots',
    up(db: Db) {
      db.exec(`CREATE TABLE tracking_snapshots (
        meeting TEXT PRIMARY KEY,
        upto_seq INTEGER NOT NULL,
        events INTEGER NOT NULL,
        fold TEXT NOT NULL
      )`);
    },
  },
  {
    version: 3,
    name: 'tracking events unique per (conference, dedup key)',
    // The dedup key is a SHA-1, so a unique index on it alone puts every insert
    // on a random page: a 500-event commit dirtied ~500 index pages. Led by the
    // conference (already part of the key), a batch's inserts share a few pages.
    // The inline UNIQUE cannot be dropped, so the table is rebuilt (seq kept).
    up(db: Db) {
      db.exec(`
        CREATE TABLE tracking_events_v3 (
          seq INTEGER PRIMARY KEY,
          dedup_key BLOB NOT NULL,
          conference TEXT NOT NULL,
          event TEXT NOT NULL,
          known INTEGER NOT NULL,
          at INTEGER NOT NULL,
          received_at INTEGER NOT NULL,
          source TEXT NOT NULL,
          raw TEXT NOT NULL,
          norm TEXT,
          duplicates INTEGER NOT NULL DEFAULT 0,
          late INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO tracking_events_v3 SELECT seq, dedup_key, conference, event, known, at, received_at, source, raw, norm,
          duplicates, late FROM tracking_events;
        DROP TABLE tracking_events;
        ALTER TABLE tracking_events_v3 RENAME TO tracking_events;
        CREATE UNIQUE INDEX tracking_events_dedup ON tracking_events (conference, dedup_key);
        CREATE INDEX tracking_events_by_conference ON tracking_events (conference, at, seq);
      `);
    },
  },
  {
    version: 4,
    name: 'tracking dedup keys: 53-bit field hash instead of SHA-1',
    // Re-keys the stored events with today's dedupKey (an INTEGER; the column's
    // BLOB affinity keeps it as one), derived again from each row as the fold
    // does, so a redelivery of an event stored before still counts as a duplicate.
    up(db: Db) {
      const page = db.prepare('SELECT seq, received_at, raw, norm FROM tracking_events WHERE seq > ? ORDER BY seq LIMIT 1000');
      const rekey = db.prepare('UPDATE OR IGNORE tracking_events SET dedup_key = ? WHERE seq = ?');
      let after = 0;
      for (;;) {
        const rows = page.all(after) as { seq: number; received_at: number; raw: string; norm: string | null }[];
        if (rows.length === 0) return;
        for (const r of rows) {
          after = r.seq;
          let key: number;
          try {
            const raw: unknown = JSON.parse(r.raw);
            key = dedupKey(r.norm ? (JSON.parse(r.norm) as ConfEvent) : parseConfEvent(raw, 0, r.received_at), raw);
          } catch {
            // Valid for the version that stored it, not for this one: a redelivery would be refused now anyway.
            continue;
          }
          rekey.run(key, r.seq);
        }
      }
    },
  },
  {
    version: 5,
    name: 'tracking dedup in memory: drop the unique (conference, dedup key) index',
    // The service checks keys in memory (dedup.ts), loaded from the log per conference.
    up(db: Db) {
      db.exec('DROP INDEX tracking_events_dedup');
    },
  },
  {
    version: 6,
    name: 'tracking: stored final insights lack interruptions and identity fields, recompute them',
    // The next read of each ended meeting folds it again and stores the new shape.
    up(db: Db) {
      db.exec('UPDATE tracking_meetings SET final_dirty = 1 WHERE final_insight IS NOT NULL');
    },
  },
];

/** Events per INSERT statement (11 values each: well under SQLite's bound-parameter limit). */
const INSERT_ROWS = 32;
const EVENT_COLUMNS = 11;

export interface MeetingRow {
  id: string;
  status: string;
  actual_start: number | null;
  actual_end: number | null;
  error: string | null;
  first_at: number | null;
  instances: number;
  updated_at: number;
  final_dirty: number;
}

export interface EventRow {
  seq: number;
  conference: string;
  event: string;
  known: number;
  at: number;
  received_at: number;
  source: string;
  raw: string;
  duplicates: number;
  late: number;
}

export interface ScheduleRow {
  id: string;
  title: string | null;
  start: number | null;
  end: number | null;
  roster: string;
}

/** Prepared statements over the tracking tables (all synchronous, called inside transactions). */
export class TrackingStore {
  readonly db: Db;
  private readonly s;
  private readonly buffered: unknown[] = [];
  private readonly inserts = new Map<number, Statement>();
  /** 0 = read max(seq) on the next append (once per transaction: nothing else may have written meanwhile). */
  private nextSeq = 0;
  constructor(store: Store) {
    store.migrate('tracking', TRACKING_MIGRATIONS);
    const db = (this.db = store.db);
    this.s = {
      maxSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM tracking_events').pluck(),
      duplicate: db.prepare('UPDATE tracking_events SET duplicates = duplicates + 1, late = max(late, ?) WHERE seq = ?'),
      keysOf: db.prepare('SELECT dedup_key, seq FROM tracking_events WHERE conference = ?').raw(),
      conference: db.prepare('SELECT meeting_key, facts FROM tracking_conferences WHERE id = ?'),
      putConference: db.prepare(
        `INSERT INTO tracking_conferences (id, meeting_key, facts) VALUES (?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET meeting_key = excluded.meeting_key, facts = excluded.facts`,
      ),
      conferencesOf: db.prepare('SELECT facts FROM tracking_conferences WHERE meeting_key = ?'),
      // Never the final insight here: it can be megabytes.
      meeting: db.prepare(
        `SELECT id, status, actual_start, actual_end, error, first_at, instances, updated_at, final_dirty
         FROM tracking_meetings WHERE id = ?`,
      ),
      meetingStatus: db.prepare('SELECT status FROM tracking_meetings WHERE id = ?').pluck(),
      putMeeting: db.prepare(
        `INSERT INTO tracking_meetings (id, status, actual_start, actual_end, error, first_at, instances, updated_at, final_dirty)
         VALUES (@id, @status, @actual_start, @actual_end, @error, @first_at, @instances, @updated_at, 1)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, actual_start = excluded.actual_start,
           actual_end = excluded.actual_end, error = excluded.error, first_at = excluded.first_at,
           instances = excluded.instances, updated_at = excluded.updated_at, final_dirty = 1`,
      ),
      touchMeeting: db.prepare('UPDATE tracking_meetings SET final_dirty = 1, updated_at = ? WHERE id = ?'),
      deleteMeeting: db.prepare('DELETE FROM tracking_meetings WHERE id = ?'),
      storeFinal: db.prepare('UPDATE tracking_meetings SET final_insight = ?, final_dirty = 0 WHERE id = ? AND updated_at = ?'),
      finalOf: db.prepare('SELECT final_insight FROM tracking_meetings WHERE id = ? AND final_dirty = 0').pluck(),
      eventsOf: db.prepare(
        `SELECT e.seq, e.conference, e.event, e.known, e.at, e.received_at, e.source, e.raw, e.duplicates, e.late
         FROM tracking_events e JOIN tracking_conferences c ON c.id = e.conference
         WHERE c.meeting_key = ? AND e.seq > ? ORDER BY e.at, e.seq LIMIT ? OFFSET ?`,
      ),
      normsOf: db.prepare(
        `SELECT e.seq, e.norm, e.raw, e.received_at FROM tracking_events e JOIN tracking_conferences c ON c.id = e.conference
         WHERE c.meeting_key = ? AND e.known = 1 AND e.seq > ?`,
      ),
      snapshot: db.prepare('SELECT upto_seq, events, fold FROM tracking_snapshots WHERE meeting = ?'),
      putSnapshot: db.prepare(
        `INSERT INTO tracking_snapshots (meeting, upto_seq, events, fold) VALUES (?, ?, ?, ?)
         ON CONFLICT(meeting) DO UPDATE SET upto_seq = excluded.upto_seq, events = excluded.events, fold = excluded.fold`,
      ),
      deleteSnapshot: db.prepare('DELETE FROM tracking_snapshots WHERE meeting = ?'),
      schedule: db.prepare('SELECT * FROM tracking_schedules WHERE id = ?'),
      putSchedule: db.prepare(
        `INSERT INTO tracking_schedules (id, title, start, end, roster) VALUES (@id, @title, @start, @end, @roster)
         ON CONFLICT(id) DO UPDATE SET title = excluded.title, start = excluded.start, end = excluded.end, roster = excluded.roster`,
      ),
      list: db.prepare(
        `SELECT m.id AS id, m.status AS status, m.actual_start AS actual_start, m.actual_end AS actual_end, m.error AS error,
                m.instances AS instances, m.first_at AS first_at, s.title AS title, s.start AS sched_start, s.end AS sched_end
         FROM tracking_meetings m LEFT JOIN tracking_schedules s ON s.id = m.id
         UNION ALL
         SELECT s.id, 'scheduled', NULL, NULL, NULL, 0, NULL, s.title, s.start, s.end
         FROM tracking_schedules s WHERE NOT EXISTS (SELECT 1 FROM tracking_meetings m WHERE m.id = s.id)`,
      ),
    };
  }

  /**
   * Appends an event the caller found new (DedupIndex) and returns its seq.
   * Rows are buffered and written INSERT_ROWS per statement (one statement
   * per row cost ~1 µs more per event); every read of the log here writes
   * the buffer first, and the caller calls flushEvents() before its commit.
   * Seqs are assigned here (max + 1, as SQLite would) so they are known at once.
   * `norm` (the internal event as JSON) is stored only when it cannot be
   * derived again from `raw` (Zoom bodies).
   */
  appendEvent(
    key: number,
    ev: ConfEvent,
    receivedAt: number,
    source: string,
    raw: string,
    norm: string | null,
    late: boolean,
  ): number {
    if (this.nextSeq === 0) this.nextSeq = (this.s.maxSeq.get() as number) + 1;
    const seq = this.nextSeq++;
    const b = this.buffered;
    b.push(seq, key, ev.conference, ev.event, ev.known ? 1 : 0, ev.at, receivedAt, source, raw, norm, late ? 1 : 0);
    if (b.length === INSERT_ROWS * EVENT_COLUMNS) this.flushEvents();
    return seq;
  }
  /** Writes the buffered events (inside the caller's transaction). */
  flushEvents(): void {
    const b = this.buffered;
    if (b.length === 0) return;
    const rows = b.length / EVENT_COLUMNS;
    let st = this.inserts.get(rows);
    if (st === undefined) {
      const values = Array.from({ length: rows }, () => `(${Array(EVENT_COLUMNS).fill('?').join(',')})`).join(',');
      st = this.db.prepare(
        `INSERT INTO tracking_events (seq, dedup_key, conference, event, known, at, received_at, source, raw, norm, late) VALUES ${values}`,
      );
      this.inserts.set(rows, st);
    }
    // Spread, not st.run(b): an array argument is read element by element through the V8 API, which is slower.
    st.run(...b);
    b.length = 0;
  }
  /** Empties the buffer and reads the next seq again: at the start of each transaction, and after a rolled-back one. */
  resetEvents(): void {
    this.buffered.length = 0;
    this.nextSeq = 0;
  }
  countDuplicate(seq: number, late: boolean): void {
    this.flushEvents();
    this.s.duplicate.run(late ? 1 : 0, seq);
  }
  /** (dedup key, seq) of a conference's stored events; keys that are not numbers (SHA-1s that migration 4 could not re-key) match nothing now. */
  *keysOf(conference: string): Iterable<[number, number]> {
    this.flushEvents();
    for (const [key, seq] of this.s.keysOf.all(conference) as [unknown, number][]) {
      if (typeof key === 'number') yield [key, seq];
    }
  }
  conference(id: string): { meetingKey: string; facts: ConferenceFacts | null } | undefined {
    const r = this.s.conference.get(id) as { meeting_key: string; facts: string } | undefined;
    if (!r) return undefined;
    const facts = JSON.parse(r.facts) as ConferenceFacts | null;
    return { meetingKey: r.meeting_key, facts };
  }
  /** Facts are null for a conference that has only sent events we do not know. */
  putConference(id: string, facts: ConferenceFacts | null): string {
    const key = facts ? meetingKeyOf(facts) : id;
    this.s.putConference.run(id, key, JSON.stringify(facts));
    return key;
  }
  conferencesOf(meeting: string): ConferenceFacts[] {
    return (this.s.conferencesOf.all(meeting) as { facts: string }[])
      .map((r) => JSON.parse(r.facts) as ConferenceFacts | null)
      .filter((f): f is ConferenceFacts => f !== null);
  }
  meeting(id: string): MeetingRow | undefined {
    return this.s.meeting.get(id) as MeetingRow | undefined;
  }
  meetingStatus(id: string): string | undefined {
    return this.s.meetingStatus.get(id) as string | undefined;
  }
  putMeeting(row: Omit<MeetingRow, 'final_dirty'>): void {
    this.s.putMeeting.run(row);
  }
  touchMeeting(id: string, now: number): void {
    this.s.touchMeeting.run(now, id);
  }
  deleteMeeting(id: string): void {
    this.s.deleteMeeting.run(id);
  }
  /** Stores the final insight unless an event changed the meeting since `updatedAt`. */
  storeFinal(id: string, json: string, updatedAt: number): void {
    this.s.storeFinal.run(json, id, updatedAt);
  }
  finalOf(id: string): string | undefined {
    return this.s.finalOf.get(id) as string | undefined;
  }
  /** The meeting's events stored after seq `afterSeq` (0 = all), in event-time order. */
  eventsOf(meeting: string, limit: number, offset: number, afterSeq = 0): EventRow[] {
    this.flushEvents();
    return this.s.eventsOf.all(meeting, afterSeq, limit, offset) as EventRow[];
  }
  /** The known events of a meeting after `afterSeq`, as stored (for folding). */
  knownEventsOf(meeting: string, afterSeq = 0): { seq: number; norm: string | null; raw: string; received_at: number }[] {
    this.flushEvents();
    return this.s.normsOf.all(meeting, afterSeq) as { seq: number; norm: string | null; raw: string; received_at: number }[];
  }
  snapshot(meeting: string): { upto_seq: number; events: number; fold: string } | undefined {
    return this.s.snapshot.get(meeting) as { upto_seq: number; events: number; fold: string } | undefined;
  }
  putSnapshot(meeting: string, uptoSeq: number, events: number, fold: string): void {
    this.s.putSnapshot.run(meeting, uptoSeq, events, fold);
  }
  /** Called when conferences move between meetings: older events then belong to a snapshot that lacks them. */
  deleteSnapshot(meeting: string): void {
    this.s.deleteSnapshot.run(meeting);
  }
  schedule(id: string): ScheduleRow | undefined {
    return this.s.schedule.get(id) as ScheduleRow | undefined;
  }
  putSchedule(row: ScheduleRow): void {
    this.s.putSchedule.run(row);
  }
  roster(id: string): RosterEntry[] {
    const r = this.schedule(id);
    return r ? (JSON.parse(r.roster) as RosterEntry[]) : [];
  }
  list(): {
    id: string;
    status: string;
    actual_start: number | null;
    actual_end: number | null;
    error: string | null;
    instances: number;
    first_at: number | null;
    title: string | null;
    sched_start: number | null;
    sched_end: number | null;
  }[] {
    return this.s.list.all() as ReturnType<TrackingStore['list']>;
  }
}
