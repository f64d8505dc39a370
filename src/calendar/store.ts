// SQLite tables of the calendar service: the last good copy of each source
// (so a restart with the server unreachable still shows the day) and which
// meeting lifecycle events were already emitted (so a restart does not repeat them).
import type { Db, Migration, Store } from '../store/db.js';
import type { CalendarEvent, CalendarRoom, CalendarSnapshot } from './model.js';

export interface SourceRow {
  source: string;
  synced_at: string;
  window_from: number;
  window_to: number;
  rooms: CalendarRoom[];
}

export interface StartedRow {
  key: string;
  /** The meeting as it was when its start was emitted (JSON). */
  meeting: string;
  end_ms: number;
}

export const CALENDAR_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'calendar sources, events and fired meeting events',
    up(db) {
      db.exec(`
        CREATE TABLE calendar_sources (
          source TEXT PRIMARY KEY,
          synced_at TEXT NOT NULL,
          window_from INTEGER NOT NULL,
          window_to INTEGER NOT NULL,
          rooms TEXT NOT NULL
        );
        CREATE TABLE calendar_events (
          source TEXT NOT NULL,
          id TEXT NOT NULL,
          start_ms INTEGER NOT NULL,
          end_ms INTEGER NOT NULL,
          data TEXT NOT NULL,
          PRIMARY KEY (source, id)
        );
        CREATE INDEX calendar_events_range ON calendar_events (start_ms, end_ms);
        CREATE TABLE calendar_fired (
          key TEXT NOT NULL,
          type TEXT NOT NULL,
          at TEXT NOT NULL,
          end_ms INTEGER NOT NULL,
          meeting TEXT NOT NULL,
          PRIMARY KEY (key, type)
        );
      `);
    },
  },
];

export class CalendarStore {
  private readonly db: Db;
  constructor(store: Store) {
    store.migrate('calendar', CALENDAR_MIGRATIONS);
    this.db = store.db;
  }

  /** Replaces the source's events inside the snapshot window; older history stays. */
  saveSnapshot(source: string, snap: CalendarSnapshot): void {
    const from = Date.parse(snap.window.from);
    const to = Date.parse(snap.window.to);
    const ins = this.db.prepare(
      'INSERT OR REPLACE INTO calendar_events (source, id, start_ms, end_ms, data) VALUES (?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM calendar_events WHERE source = ? AND start_ms < ? AND end_ms >= ?').run(source, to, from);
      for (const e of snap.events) ins.run(source, e.id, Date.parse(e.start), Date.parse(e.end), JSON.stringify(e));
      this.db
        .prepare(
          'INSERT OR REPLACE INTO calendar_sources (source, synced_at, window_from, window_to, rooms) VALUES (?, ?, ?, ?, ?)',
        )
        .run(source, snap.synced_at, from, to, JSON.stringify(snap.rooms));
    })();
  }

  sources(): Map<string, SourceRow> {
    const rows = this.db.prepare('SELECT * FROM calendar_sources').all() as (Omit<SourceRow, 'rooms'> & { rooms: string })[];
    return new Map(rows.map((r) => [r.source, { ...r, rooms: JSON.parse(r.rooms) as CalendarRoom[] }]));
  }

  events(source: string, fromMs: number, toMs: number): CalendarEvent[] {
    const rows = this.db
      .prepare(
        'SELECT data FROM calendar_events WHERE source = ? AND start_ms < ? AND (end_ms > ? OR (end_ms = start_ms AND start_ms >= ?)) ORDER BY start_ms',
      )
      .all(source, toMs, fromMs, fromMs) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as CalendarEvent);
  }

  fired(key: string, type: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM calendar_fired WHERE key = ? AND type = ?').get(key, type);
  }

  /** Records a fired event for each key, running `inside` in the same transaction (the room event). */
  markFired(keys: string[], type: string, at: string, endMs: number, meetingJson: string, inside: () => void): void {
    const ins = this.db.prepare('INSERT OR IGNORE INTO calendar_fired (key, type, at, end_ms, meeting) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const k of keys) ins.run(k, type, at, endMs, meetingJson);
      inside();
    })();
  }

  /** Meetings whose start was emitted but not their end. */
  startedNotEnded(): StartedRow[] {
    return this.db
      .prepare(
        `SELECT s.key, s.meeting, s.end_ms FROM calendar_fired s
         WHERE s.type = 'meeting.start'
           AND NOT EXISTS (SELECT 1 FROM calendar_fired e WHERE e.type = 'meeting.end' AND e.key = s.key)`,
      )
      .all() as StartedRow[];
  }

  prune(beforeMs: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM calendar_events WHERE end_ms < ?').run(beforeMs);
      this.db.prepare('DELETE FROM calendar_fired WHERE end_ms < ?').run(beforeMs);
    })();
  }
}
