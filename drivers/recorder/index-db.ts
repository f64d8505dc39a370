// The recordings index: an SQLite file next to the recordings
// (<recordings>/index.sqlite), so the files and their index travel together.
// Sessions (one per meeting or ad-hoc recording), segments (one per MP4 file)
// and gaps (time not recorded inside a session, with the reason).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export interface SegmentRow {
  id: number;
  session: string;
  meeting_id: string | null;
  stream: string;
  /** Relative to the recordings directory: `<yyyy-mm-dd>/<session>/<stream>_<start>.mp4`. */
  path: string;
  start: string;
  end: string | null;
  bytes: number;
  duration_s: number | null;
  /** recording: being written; complete: closed by ffmpeg; recovered: closed after ffmpeg died. */
  state: 'recording' | 'complete' | 'recovered';
}

export interface GapRow {
  id: number;
  session: string;
  stream: string;
  start: string;
  end: string | null;
  reason: string;
}

export interface SessionRow {
  key: string;
  id: string;
  meeting_id: string | null;
  title: string | null;
  stream: string;
  started_at: string;
  ended_at: string | null;
}

const MIGRATIONS: ((db: Database.Database) => void)[] = [
  (db) =>
    db.exec(`
    CREATE TABLE sessions (
      key TEXT PRIMARY KEY,           -- <yyyy-mm-dd>/<session id>
      id TEXT NOT NULL,
      meeting_id TEXT,
      title TEXT,
      stream TEXT NOT NULL,
      started_at TEXT NOT NULL,
      ended_at TEXT
    );
    CREATE TABLE segments (
      id INTEGER PRIMARY KEY,
      session TEXT NOT NULL REFERENCES sessions(key),
      meeting_id TEXT,
      stream TEXT NOT NULL,
      path TEXT NOT NULL UNIQUE,
      start TEXT NOT NULL,
      end TEXT,
      bytes INTEGER NOT NULL DEFAULT 0,
      duration_s REAL,
      state TEXT NOT NULL
    );
    CREATE INDEX segments_start ON segments(start);
    CREATE TABLE gaps (
      id INTEGER PRIMARY KEY,
      session TEXT NOT NULL REFERENCES sessions(key),
      stream TEXT NOT NULL,
      start TEXT NOT NULL,
      end TEXT,
      reason TEXT NOT NULL
    );`),
];

export class RecordingIndex {
  readonly db: Database.Database;
  constructor(readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
    this.db = new Database(path.join(root, 'index.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    const v = this.db.pragma('user_version', { simple: true }) as number;
    if (v > MIGRATIONS.length) throw new Error(`${root}/index.sqlite has schema ${v}; this agent knows ${MIGRATIONS.length}`);
    for (let i = v; i < MIGRATIONS.length; i++) {
      this.db.transaction(() => {
        MIGRATIONS[i](this.db);
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  openSession(s: Omit<SessionRow, 'ended_at'>): void {
    this.db
      .prepare(
        `INSERT INTO sessions (key, id, meeting_id, title, stream, started_at) VALUES (@key, @id, @meeting_id, @title, @stream, @started_at)
         ON CONFLICT(key) DO UPDATE SET ended_at = NULL, title = COALESCE(excluded.title, title)`,
      )
      .run(s);
  }

  session(key: string): SessionRow | undefined {
    return this.db.prepare('SELECT * FROM sessions WHERE key = ?').get(key) as SessionRow | undefined;
  }

  /**
   * Undoes a start that recorded nothing: its gaps (from `since`) go, and the
   * session row is removed — or, when the session existed before (a meeting
   * recorded twice a day), put back as it was.
   */
  discardAttempt(key: string, since: string, before: SessionRow | undefined): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM gaps WHERE session = ? AND start >= ?').run(key, since);
      if (before) {
        this.db.prepare('UPDATE sessions SET ended_at = ?, title = ? WHERE key = ?').run(before.ended_at, before.title, key);
      } else if ((this.db.prepare('SELECT COUNT(*) AS n FROM segments WHERE session = ?').get(key) as { n: number }).n === 0) {
        this.db.prepare('DELETE FROM gaps WHERE session = ?').run(key);
        this.db.prepare('DELETE FROM sessions WHERE key = ?').run(key);
      }
    })();
  }

  closeSession(key: string, at: string): void {
    this.db.prepare('UPDATE sessions SET ended_at = ? WHERE key = ?').run(at, key);
  }

  /** Segments left "recording" by an agent that died: closed as recovered by the caller. */
  dangling(): SegmentRow[] {
    return this.db.prepare(`SELECT * FROM segments WHERE state = 'recording'`).all() as SegmentRow[];
  }

  openSegment(row: Pick<SegmentRow, 'session' | 'meeting_id' | 'stream' | 'path' | 'start'>): number {
    const r = this.db
      .prepare(
        `INSERT INTO segments (session, meeting_id, stream, path, start, state) VALUES (@session, @meeting_id, @stream, @path, @start, 'recording')
         ON CONFLICT(path) DO UPDATE SET state = 'recording', end = NULL
         RETURNING id`,
      )
      .get(row) as { id: number };
    return r.id;
  }

  closeSegment(p: string, v: { end: string; bytes: number; duration_s: number; state: 'complete' | 'recovered' }): void {
    this.db
      .prepare('UPDATE segments SET end = @end, bytes = @bytes, duration_s = @duration_s, state = @state WHERE path = @path')
      .run({ ...v, path: p });
  }

  deleteSegment(id: number): void {
    this.db.prepare('DELETE FROM segments WHERE id = ?').run(id);
  }

  segment(p: string): SegmentRow | undefined {
    return this.db.prepare('SELECT * FROM segments WHERE path = ?').get(p) as SegmentRow | undefined;
  }

  segments(filter: { session?: string; limit?: number } = {}): SegmentRow[] {
    if (filter.session) {
      return this.db.prepare('SELECT * FROM segments WHERE session = ? ORDER BY start, id').all(filter.session) as SegmentRow[];
    }
    return this.db
      .prepare('SELECT * FROM segments ORDER BY start DESC, id DESC LIMIT ?')
      .all(filter.limit ?? 1000) as SegmentRow[];
  }

  allSegments(): SegmentRow[] {
    return this.db.prepare('SELECT * FROM segments ORDER BY start, id').all() as SegmentRow[];
  }

  openGap(g: Omit<GapRow, 'id' | 'end'>): void {
    this.db.prepare('INSERT INTO gaps (session, stream, start, reason) VALUES (@session, @stream, @start, @reason)').run(g);
  }

  /** Closes the session's open gap (when the next segment starts). */
  closeGap(session: string, end: string): void {
    this.db.prepare('UPDATE gaps SET end = ? WHERE session = ? AND end IS NULL').run(end, session);
  }

  gaps(session: string): GapRow[] {
    return this.db.prepare('SELECT * FROM gaps WHERE session = ? ORDER BY start, id').all(session) as GapRow[];
  }

  sessions(limit = 100): SessionRow[] {
    return this.db.prepare('SELECT * FROM sessions ORDER BY started_at DESC LIMIT ?').all(limit) as SessionRow[];
  }
}
