// Verification codes in SQLite (table identity_codes) and the install's
// secret key for their hashes (file identity.key in the data folder).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db, Migration, Store } from '../store/db.js';
import type { Channel, CodeRow, CodeState } from './codes.js';

export const identityMigrations: Migration[] = [
  {
    version: 1,
    name: 'verification codes',
    up(db: Db) {
      db.exec(`CREATE TABLE identity_codes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        meeting TEXT NOT NULL,
        person TEXT NOT NULL,
        channel TEXT NOT NULL,
        hash TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        used_at INTEGER,
        participant TEXT
      );
      CREATE INDEX identity_codes_hash ON identity_codes(meeting, hash);
      CREATE INDEX identity_codes_issued ON identity_codes(meeting, issued_at);
      CREATE INDEX identity_codes_age ON identity_codes(issued_at);`);
    },
  },
];

const KEY_BYTES = 32;

/**
 * The HMAC key of this install: 32 random bytes in `<data_dir>/identity.key`
 * (mode 0600), made on first use. Losing it only invalidates the codes alive
 * at that moment.
 */
export function loadOrCreateKey(dataDir: string): Buffer {
  const file = path.join(dataDir, 'identity.key');
  try {
    const key = fs.readFileSync(file);
    if (key.length !== KEY_BYTES)
      throw new Error(`${file}: expected ${KEY_BYTES} bytes, found ${key.length}; delete it to make a new key`);
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  try {
    fs.writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (e) {
    // Another process made it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKey(dataDir);
    throw e;
  }
}

export interface NewCode {
  meeting: string;
  person: string;
  channel: Channel;
  hash: string;
  issued_at: number;
  expires_at: number;
}

export class IdentityStore {
  private readonly s;
  constructor(private readonly store: Store) {
    store.migrate('identity', identityMigrations);
    const db = store.db;
    this.s = {
      insert: db.prepare(
        `INSERT INTO identity_codes (meeting, person, channel, hash, issued_at, expires_at, state)
         VALUES (@meeting, @person, @channel, @hash, @issued_at, @expires_at, 'live')`,
      ),
      byHash: db.prepare('SELECT * FROM identity_codes WHERE meeting = ? AND hash = ?'),
      live: db.prepare(`SELECT * FROM identity_codes WHERE meeting = ? AND state = 'live' AND expires_at > ?`),
      issuedMeeting: db.prepare('SELECT issued_at FROM identity_codes WHERE meeting = ? AND issued_at > ? ORDER BY issued_at'),
      issuedPerson: db.prepare(
        'SELECT issued_at FROM identity_codes WHERE meeting = ? AND person = ? AND issued_at > ? ORDER BY issued_at',
      ),
      setState: db.prepare('UPDATE identity_codes SET state = ? WHERE id = ?'),
      supersede: db.prepare(
        `UPDATE identity_codes SET state = 'superseded' WHERE meeting = ? AND person = ? AND state = 'live' AND id <> ?`,
      ),
      use: db.prepare(`UPDATE identity_codes SET state = 'used', used_at = ?, participant = ? WHERE id = ? AND state = 'live'`),
      attempt: db.prepare('UPDATE identity_codes SET attempts = attempts + 1 WHERE id = ?'),
      prune: db.prepare('DELETE FROM identity_codes WHERE issued_at < ? AND expires_at < ?'),
      get: db.prepare('SELECT * FROM identity_codes WHERE id = ?'),
    };
  }

  /** Runs `fn` in one transaction (the checks and the writes of an issue or a verify see one state). */
  tx<T>(fn: () => T): T {
    return this.store.db.transaction(fn)();
  }

  insert(c: NewCode): number {
    return Number(this.s.insert.run(c).lastInsertRowid);
  }
  byHash(meeting: string, hash: string): CodeRow[] {
    return this.s.byHash.all(meeting, hash) as CodeRow[];
  }
  live(meeting: string, now: number): CodeRow[] {
    return this.s.live.all(meeting, now) as CodeRow[];
  }
  /** Issue times (ascending) after `since`, of the meeting or of one person of it. */
  issuedSince(meeting: string, since: number, person?: string): number[] {
    const rows = (
      person === undefined ? this.s.issuedMeeting.all(meeting, since) : this.s.issuedPerson.all(meeting, person, since)
    ) as {
      issued_at: number;
    }[];
    return rows.map((r) => r.issued_at);
  }
  setState(id: number, state: CodeState): void {
    this.s.setState.run(state, id);
  }
  /** The person's other live codes of the meeting stop working (the newest code is the one that counts). */
  supersedeOthers(meeting: string, person: string, keep: number): void {
    this.s.supersede.run(meeting, person, keep);
  }
  /** Marks a live code used by `participant`; false when it was no longer live. */
  use(id: number, at: number, participant: string): boolean {
    return this.s.use.run(at, participant, id).changes === 1;
  }
  countAttempt(ids: readonly number[]): void {
    for (const id of ids) this.s.attempt.run(id);
  }
  get(id: number): CodeRow | undefined {
    return this.s.get.get(id) as CodeRow | undefined;
  }
  /** Forgets codes issued before `before` that have also expired by then (the audit log keeps the history). */
  prune(before: number): number {
    return this.s.prune.run(before, before).changes;
  }
}
