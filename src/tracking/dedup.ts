// Which events are already stored, per conference, kept in memory. A unique
// SQLite index on (conference, dedup key) did this before and cost ~0.9 µs of
// a batch event's SQLite work; the event log stays the record: a
// conference's keys are read back from it the first time it is needed.

/** Stored event seq by dedup key, for one conference. */
export type ConferenceKeys = Map<number, number>;

export class DedupIndex {
  /** Insertion order is the LRU order. */
  private readonly byConf = new Map<string, ConferenceKeys>();
  private keys = 0;
  private last: string | null = null;

  constructor(
    /** The (key, seq) pairs of a conference's stored events. */
    private readonly load: (conference: string) => Iterable<[number, number]>,
    /** Keys kept in memory (~40 bytes each) before least recently used conferences are dropped. */
    private readonly budget = 1_000_000,
    /**
     * Conferences kept in memory ([tracking] dedup_conferences). Without it the index kept every
     * conference since the start (~0.75 KB for a 10-event meeting) until the key budget, years away
     * for a room; a conference dropped here is read back from SQLite by its next event.
     */
    private readonly maxConferences = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * The conference's keys (loaded when not in memory). Inside a transaction the
   * load sees that transaction's own inserts, so dropping a conference midway is safe.
   */
  of(conference: string): ConferenceKeys {
    let m = this.byConf.get(conference);
    if (m === undefined) {
      m = new Map(this.load(conference));
      this.keys += m.size;
      this.byConf.set(conference, m);
      this.trim(conference);
    } else if (this.last !== conference) {
      // Re-insert: most recently used last (not per event, a batch's events come in runs).
      this.byConf.delete(conference);
      this.byConf.set(conference, m);
    }
    this.last = conference;
    return m;
  }

  add(keys: ConferenceKeys, key: number, seq: number): void {
    keys.set(key, seq);
    this.keys++;
  }

  /** Conferences and keys held in memory now, and their caps. */
  size(): { conferences: number; maxConferences: number; keys: number; budget: number } {
    return { conferences: this.byConf.size, maxConferences: this.maxConferences, keys: this.keys, budget: this.budget };
  }

  /** Forgets everything: after a rolled-back transaction the maps may hold keys that were never committed. */
  clear(): void {
    this.byConf.clear();
    this.keys = 0;
    this.last = null;
  }

  private trim(keep: string): void {
    for (const [conf, m] of this.byConf) {
      if (this.keys <= this.budget && this.byConf.size <= this.maxConferences) return;
      if (conf === keep) continue;
      this.byConf.delete(conf);
      this.keys -= m.size;
    }
  }
}
