// A meeting's insight as it travels: a bounded summary, and deltas that carry
// only what changed, numbered per meeting. Pure and shared: the agent builds
// deltas with `diffInsight`; the typed client and the console rebuild the
// insight with `applyMeetingDelta` (docs/mqtt.md, "Meeting insight").
//
// Durations of open calls grow with time alone, so a delta is taken against
// the previous insight *advanced* to the new `as_of` (open calls and the
// participants holding them gain the elapsed time); only rows that differ from
// that are sent. Applying advances the same way, so the result is exact.

export type MeetingStatus = 'scheduled' | 'live' | 'ended' | 'failed';

export interface CallInsight {
  call_id: string;
  instance_id: string;
  join_time: string;
  quit_time: string | null;
  duration_ms: number;
}

/** How a participant was tied to its person: the invite's user_data, the roster (by contact), or a verified code. */
export type MatchedBy = 'user_data' | 'roster' | 'code';

export interface ParticipantInsight {
  key: string;
  person: string | null;
  role: string | null;
  part_uri: string | null;
  matched: boolean;
  /** null when not matched. */
  matched_by: MatchedBy | null;
  /** Another joiner claims the same person and was connected at the same time; settled by a code binding. */
  identity_conflict: boolean;
  connected: boolean;
  total_ms: number;
  /** Latest first. */
  calls: CallInsight[];
}

export interface InstanceInsight {
  id: string;
  begin_time: string | null;
  end_time: string | null;
  status: 'live' | 'ended' | 'failed';
  error: string | null;
}

/**
 * A break in the meeting: a participant's call lost (`dropped`), a dial-out
 * that could not be placed (`dial_failed`), a conference instance that failed
 * or ended with an error (`instance_failed`, participant null).
 */
export interface InterruptionInsight {
  at: string;
  kind: 'dropped' | 'dial_failed' | 'instance_failed';
  participant: string | null;
  reason: string | null;
  /** Until the participant (the meeting) was back; null while not back. */
  duration_ms: number | null;
}

export interface TimerSegment {
  start: string;
  end: string | null;
}

export interface Insight {
  id: string;
  status: MeetingStatus;
  actual_start_time: string | null;
  actual_end_time: string | null;
  error: string | null;
  instances: InstanceInsight[];
  participants: ParticipantInsight[];
  timer: {
    running: boolean;
    elapsed_ms: number;
    /** Roles the timer waits for; null = at least two participants. */
    requires: string[] | null;
    segments: TimerSegment[];
  };
  recordings: { instance_id: string; begin_time: string; end_time: string }[];
  /** By time. */
  interruptions: InterruptionInsight[];
  as_of: string;
  final: boolean;
}

/** The bounded part of an insight: its size does not grow with participants or calls. */
export interface InsightSummary {
  id: string;
  status: MeetingStatus;
  actual_start_time: string | null;
  actual_end_time: string | null;
  error: string | null;
  as_of: string;
  final: boolean;
  timer: { running: boolean; elapsed_ms: number; requires: string[] | null; segments: number };
  counts: {
    participants: number;
    connected: number;
    calls: number;
    instances: number;
    recordings: number;
    interruptions: number;
  };
}

/**
 * One change of a meeting's insight. `seq` grows by one per delta of a meeting
 * within one `epoch` (one run of the agent). A delta with `insight` is a full
 * reset (applies to anything); otherwise it applies only to the state at `seq - 1`.
 */
export interface MeetingDelta {
  id: string;
  epoch: string;
  seq: number;
  summary: InsightSummary;
  /** Full insight: sent when the agent has no earlier state of the meeting to diff against. */
  insight?: Insight;
  /** Participants added or changed: the row, with only its calls that are new or changed (see `calls_kept`). */
  participants?: ParticipantDelta[];
  /** Keys of participants no longer in the insight. */
  removed?: string[];
  /** The instances, when they changed. */
  instances?: InstanceInsight[];
  /** The recordings, when they changed. */
  recordings?: Insight['recordings'];
  /** The interruptions, when they changed. */
  interruptions?: Insight['interruptions'];
  /** Timer segments from index `from` on replace the old ones from there. */
  segments?: { from: number; items: TimerSegment[] };
}

/**
 * A participant row in a delta. `calls` are the row's newest calls (latest
 * first); the row's older calls are the last `calls_kept` calls of the held
 * row (advanced), which did not change. No `calls_kept`: `calls` is the whole list.
 */
export interface ParticipantDelta extends ParticipantInsight {
  calls_kept?: number;
}

/** What a follower holds: the insight after delta `seq` of `epoch`. */
export interface MeetingState {
  epoch: string;
  seq: number;
  insight: Insight;
}

/** The answer of `meetings.snapshot`: the insight a follower starts from. */
export type MeetingSnapshot = MeetingState;

export function summarize(i: Insight): InsightSummary {
  let connected = 0;
  let calls = 0;
  for (const p of i.participants) {
    if (p.connected) connected++;
    calls += p.calls.length;
  }
  return {
    id: i.id,
    status: i.status,
    actual_start_time: i.actual_start_time,
    actual_end_time: i.actual_end_time,
    error: i.error,
    as_of: i.as_of,
    final: i.final,
    timer: {
      running: i.timer.running,
      elapsed_ms: i.timer.elapsed_ms,
      requires: i.timer.requires,
      segments: i.timer.segments.length,
    },
    counts: {
      participants: i.participants.length,
      connected,
      calls,
      instances: i.instances.length,
      recordings: i.recordings.length,
      // An insight stored before interruptions existed has none.
      interruptions: i.interruptions?.length ?? 0,
    },
  };
}

/** A participant row as it reads `deltaMs` later with nothing else changed: open calls keep running. */
function advanceParticipant(p: ParticipantInsight, deltaMs: number): ParticipantInsight {
  if (!p.connected || deltaMs === 0) return p;
  let open = 0;
  const calls = p.calls.map((c) => {
    if (c.quit_time !== null) return c;
    open++;
    return { ...c, duration_ms: c.duration_ms + deltaMs };
  });
  return { ...p, total_ms: p.total_ms + open * deltaMs, calls };
}

/**
 * Deep equality of JSON-shaped values (what JSON.stringify would tell apart,
 * except key order), without building strings: the diff runs over every
 * participant and call of a meeting on each push.
 */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let n = 0;
  for (const k in ra) {
    if (ra[k] === undefined) continue;
    n++;
    if (!sameValue(ra[k], rb[k])) return false;
  }
  for (const k in rb) if (rb[k] !== undefined) n--;
  return n === 0;
}

/** `next` equals call `old` advanced by `deltaMs` (an open call of a connected row gains the elapsed time). */
function sameCallAdvanced(old: CallInsight, next: CallInsight, deltaMs: number): boolean {
  if (old.quit_time !== null || deltaMs === 0) return sameValue(old, next);
  if (next.duration_ms !== old.duration_ms + deltaMs) return false;
  const ro = old as unknown as Record<string, unknown>;
  const rn = next as unknown as Record<string, unknown>;
  for (const k in rn) if (k !== 'duration_ms' && !sameValue(ro[k], rn[k])) return false;
  for (const k in ro) if (!(k in rn) && ro[k] !== undefined) return false;
  return true;
}

/** `next` equals `advanceParticipant(old, deltaMs)`, without building the advanced row. */
function sameParticipantAdvanced(old: ParticipantInsight, next: ParticipantInsight, deltaMs: number): boolean {
  const d = old.connected ? deltaMs : 0;
  if (old.calls.length !== next.calls.length) return false;
  let open = 0;
  for (let i = 0; i < old.calls.length; i++) {
    if (!sameCallAdvanced(old.calls[i], next.calls[i], d)) return false;
    if (old.calls[i].quit_time === null) open++;
  }
  if (next.total_ms !== old.total_ms + open * d) return false;
  const ro = old as unknown as Record<string, unknown>;
  const rn = next as unknown as Record<string, unknown>;
  let n = 0;
  for (const k in ro) {
    if (ro[k] === undefined) continue;
    n++;
    if (k !== 'calls' && k !== 'total_ms' && !sameValue(ro[k], rn[k])) return false;
  }
  for (const k in rn) if (rn[k] !== undefined) n--;
  return n === 0;
}

/** Participants ordered as the agent orders them: first join (their earliest call), then key. */
function byFirstJoin(a: ParticipantInsight, b: ParticipantInsight): number {
  const ja = a.calls[a.calls.length - 1]?.join_time ?? '';
  const jb = b.calls[b.calls.length - 1]?.join_time ?? '';
  if (ja !== jb) return ja < jb ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The delta that turns `prev` (the state at seq - 1, or null for none) into `next`. */
export function diffInsight(prev: Insight | null, next: Insight, epoch: string, seq: number): MeetingDelta {
  const summary = summarize(next);
  if (prev === null || prev.id !== next.id) return { id: next.id, epoch, seq, summary, insight: next };
  const d: MeetingDelta = { id: next.id, epoch, seq, summary };
  const deltaMs = Date.parse(next.as_of) - Date.parse(prev.as_of);
  const before = new Map(prev.participants.map((p) => [p.key, p]));
  const changed: ParticipantDelta[] = [];
  for (const p of next.participants) {
    const old = before.get(p.key);
    before.delete(p.key);
    if (!old) {
      changed.push(p);
      continue;
    }
    if (sameParticipantAdvanced(old, p, deltaMs)) continue;
    // Calls only ever change at the head (a new call, an open one that quit): send the head only.
    const d = old.connected ? deltaMs : 0;
    let kept = 0;
    const a = old.calls;
    const b = p.calls;
    while (kept < a.length && kept < b.length && sameCallAdvanced(a[a.length - 1 - kept], b[b.length - 1 - kept], d)) kept++;
    changed.push(kept > 0 ? { ...p, calls: b.slice(0, b.length - kept), calls_kept: kept } : p);
  }
  if (changed.length) d.participants = changed;
  if (before.size) d.removed = [...before.keys()];
  if (!sameValue(prev.instances, next.instances)) d.instances = next.instances;
  if (!sameValue(prev.recordings, next.recordings)) d.recordings = next.recordings;
  if (!sameValue(prev.interruptions ?? [], next.interruptions ?? [])) d.interruptions = next.interruptions;
  const a = prev.timer.segments;
  const b = next.timer.segments;
  let from = 0;
  while (from < a.length && from < b.length && a[from].start === b[from].start && a[from].end === b[from].end) from++;
  if (from < a.length || from < b.length) d.segments = { from, items: b.slice(from) };
  return d;
}

/** What became of a delta offered to a state. */
export type ApplyOutcome =
  /** Applied: `state` is the new state. */
  | { kind: 'applied'; state: MeetingState }
  /** Already included (seq not newer): ignore it. */
  | { kind: 'stale' }
  /** Cannot be applied (missing deltas, another epoch, no state): fetch a fresh snapshot. */
  | { kind: 'gap' };

/**
 * Offers delta `d` to `state` (null = none yet). Pure: `state` is not changed.
 * Rules: a full delta (with `insight`) always applies unless it is older than the state
 * of the same epoch; other deltas apply only to the state at `seq - 1` of the same epoch.
 */
export function applyMeetingDelta(state: MeetingState | null, d: MeetingDelta): ApplyOutcome {
  if (d.insight) {
    if (state && state.epoch === d.epoch && d.seq <= state.seq) return { kind: 'stale' };
    return { kind: 'applied', state: { epoch: d.epoch, seq: d.seq, insight: d.insight } };
  }
  if (!state || state.epoch !== d.epoch || state.insight.id !== d.id) return { kind: 'gap' };
  if (d.seq <= state.seq) return { kind: 'stale' };
  if (d.seq !== state.seq + 1) return { kind: 'gap' };
  const prev = state.insight;
  const s = d.summary;
  const deltaMs = Date.parse(s.as_of) - Date.parse(prev.as_of);
  const rows = new Map(prev.participants.map((p) => [p.key, advanceParticipant(p, deltaMs)]));
  for (const k of d.removed ?? []) rows.delete(k);
  let reorder = false;
  for (const pd of d.participants ?? []) {
    const old = rows.get(pd.key);
    const { calls_kept, ...row } = pd;
    if (calls_kept !== undefined && (!old || old.calls.length < calls_kept)) return { kind: 'gap' };
    const p: ParticipantInsight =
      calls_kept === undefined || !old
        ? row
        : { ...row, calls: [...row.calls, ...old.calls.slice(old.calls.length - calls_kept)] };
    if (!old || byFirstJoin(old, p) !== 0) reorder = true;
    rows.set(p.key, p);
  }
  const participants = [...rows.values()];
  if (reorder) participants.sort(byFirstJoin);
  const segs = d.segments ? [...prev.timer.segments.slice(0, d.segments.from), ...d.segments.items] : prev.timer.segments;
  const insight: Insight = {
    id: s.id,
    status: s.status,
    actual_start_time: s.actual_start_time,
    actual_end_time: s.actual_end_time,
    error: s.error,
    instances: d.instances ?? prev.instances,
    participants,
    timer: { running: s.timer.running, elapsed_ms: s.timer.elapsed_ms, requires: s.timer.requires, segments: segs },
    recordings: d.recordings ?? prev.recordings,
    interruptions: d.interruptions ?? prev.interruptions ?? [],
    as_of: s.as_of,
    final: s.final,
  };
  return { kind: 'applied', state: { epoch: d.epoch, seq: d.seq, insight } };
}

/**
 * Follows one meeting: holds its state, applies deltas, and asks for a fresh
 * snapshot (through `fetchSnapshot`) when one cannot be applied. The console
 * and `RoomAgentClient.followMeeting` both use it.
 */
export class MeetingFollower {
  state: MeetingState | null = null;
  private fetching: Promise<void> | null = null;
  /** Deltas that arrived while a snapshot was on its way: applied after it. */
  private waiting: MeetingDelta[] = [];

  constructor(
    readonly id: string,
    private readonly fetchSnapshot: (id: string) => Promise<MeetingSnapshot>,
    private readonly onChange: (state: MeetingState) => void,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Fetches a fresh snapshot (on start, after a gap, after a reconnect). */
  resync(): Promise<void> {
    this.fetching ??= this.fetchSnapshot(this.id).then(
      (snap) => {
        this.fetching = null;
        if (!this.state || this.state.epoch !== snap.epoch || snap.seq >= this.state.seq) this.state = snap;
        const queued = this.waiting.splice(0);
        this.onChange(this.state);
        for (const d of queued) this.offer(d);
      },
      (e) => {
        this.fetching = null;
        this.waiting = [];
        this.onError(e);
      },
    );
    return this.fetching;
  }

  /** A delta from the `meetings` topic (deltas of other meetings are ignored). */
  offer(d: MeetingDelta): void {
    if (d.id !== this.id) return;
    if (this.fetching) {
      this.waiting.push(d);
      return;
    }
    const r = applyMeetingDelta(this.state, d);
    if (r.kind === 'applied') {
      this.state = r.state;
      this.onChange(r.state);
    } else if (r.kind === 'gap') {
      this.waiting.push(d);
      void this.resync();
    }
  }
}

/** True when `data` (a `meetings` topic message) is a meeting delta. */
export function isMeetingDelta(data: unknown): data is MeetingDelta {
  const d = data as MeetingDelta | null;
  return !!d && typeof d === 'object' && typeof d.id === 'string' && typeof d.seq === 'number' && typeof d.epoch === 'string';
}
