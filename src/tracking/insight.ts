// Insight from a meeting's folded facts. `buildIndex` does the expensive work
// once per change (sorting calls, sweeping the timer over the whole
// timeline); `insightAt` then answers any "as of" time with binary searches.
// The timer's state at a moment depends only on which intervals contain that
// moment, so the segments of the full timeline cut at `at` are exactly the
// segments one would get by folding only the facts up to `at`.
import { iso } from '../util/iso.js';
import { isInstance, type MeetingFold } from './fold.js';
import { type CallIdentity, type IdentityCall, type IdentityEpoch, identityEpochs, Joiners, type MatchedBy } from './identity.js';
import { type InstanceView, instanceOf, statusAt } from './instances.js';
import { failedDials, type InterruptionFact, interruptionsOf } from './interruptions.js';
import type { Roster } from './roster.js';
import { TimerPieces, timerSegments } from './timer.js';
import type { CallInsight, Insight } from './types.js';

interface CallRow {
  call_id: string;
  instance_id: string;
  join: number;
  /** Effective quit: the call's quit, or its instance's end when it never quit; null = open. */
  quit: number | null;
  joinIso: string;
  quitIso: string | null;
  part_uri: string | null;
  /** The call's output once it has quit, built once and shared by every answer after its quit. */
  closed: CallInsight | null;
}

/** A call with what it claims about its participant and how it ended. */
interface BaseCall extends CallRow, IdentityCall {
  /** Claimed key before any identity rule: person, else uri, else call (loose quits are paired by it). */
  claimedKey: string;
  /** The conf.quit's error: the call was lost. */
  error: string | null;
  /** The lost call's own quit time (before clipping to its instance): the drop is known from then. */
  lostAt: number | null;
}

/** What a participant row says about its person, from its first k + 1 calls (what is known once call k has joined). */
interface RowFacts {
  person: string | null;
  /** The first role its calls claim, in join order. */
  role: string | null;
  /** The strongest tie of its calls: code, then user_data, then roster. */
  matchedBy: MatchedBy | null;
  conflict: boolean;
}

interface ParticipantRow {
  key: string;
  /** factsUpTo[k]: the row as known once its calls 0..k have joined. */
  factsUpTo: RowFacts[];
  calls: CallRow[];
  joins: Float64Array;
  /** Effective quit per call (Infinity = never), same order as joins. */
  quits: Float64Array;
  /** Call outputs latest first; an answer is a suffix of it with open calls replaced. */
  desc: CallInsight[];
  /** partUriUpTo[k] = part_uri of the latest of calls 0..k that has one. */
  partUriUpTo: (string | null)[];
}

/** The participants and interruptions under one identity resolution, which holds from `from` on. */
interface IdentityView {
  from: number;
  participants: ParticipantRow[];
  firstJoins: Float64Array;
  interruptions: InterruptionFact[];
}

export interface MeetingIndex {
  id: string;
  instances: InstanceView[];
  /** Ordered by `from`; the first from −Infinity. Usually one: bindings and identity conflicts add more. */
  views: IdentityView[];
  viewFrom: Float64Array;
  requires: string[] | null;
  segStart: Float64Array;
  segEnd: Float64Array;
  /** segSum[i] = total length of segments 0..i-1. */
  segSum: Float64Array;
  /** Output objects of the segments, the last one possibly still open. */
  segObjs: { start: string; end: string | null }[];
  recordings: { instance_id: string; begin: number; end: number }[];
  lastAt: number;
}

function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What the last build of a fold made of one call: reused while its times are the same. */
interface CallMemo {
  join: number;
  quit: number | null;
  instance: string;
  joinIso: string;
  quitIso: string | null;
  closed: CallInsight | null;
}
/**
 * Per fold (it lives as long as the meeting's cache entry): the previous build's ISO times and
 * closed-call objects by call id. A rebuild after one event then formats and allocates only for the
 * calls that changed, and a closed call is the same object in consecutive insights, which the delta
 * diff (src/client/meeting-deltas.ts) recognises by identity.
 */
const callMemos = new WeakMap<MeetingFold, Map<string, CallMemo>>();

/** The calls of the fold with their effective quits (loose quits paired, clipped to their instance). */
function baseCalls(fold: MeetingFold, roster: Roster, inst: Map<string, InstanceView>): BaseCall[] {
  let memo = callMemos.get(fold);
  if (!memo) callMemos.set(fold, (memo = new Map()));
  const calls: BaseCall[] = [];
  const byClaim = new Map<string, BaseCall[]>();
  // (No object per lookup: this runs for every call of every changed meeting on each push.)
  for (const c of fold.calls.values()) {
    const join = c.joinFromQuit ?? c.joinFromJoined;
    if (join === null) continue;
    const e = roster.entry(c.person, c.part_uri);
    const claimed = c.person ?? e?.person ?? null;
    const call: BaseCall = {
      call_id: c.call_id,
      instance_id: c.conference,
      join,
      quit: c.quit,
      joinIso: '',
      quitIso: null,
      part_uri: c.part_uri,
      closed: null,
      claimed,
      claimedBy: c.person !== null ? 'user_data' : e ? 'roster' : null,
      role: c.role ?? e?.role ?? null,
      claimedKey: claimed ?? c.part_uri ?? `call:${c.call_id}`,
      error: c.error ?? null,
      lostAt: c.error != null ? c.quit : null,
    };
    calls.push(call);
    let l = byClaim.get(call.claimedKey);
    if (!l) byClaim.set(call.claimedKey, (l = []));
    l.push(call);
  }
  // Quits that name no call close the participant's latest call that joined before them.
  for (const q of fold.looseQuits.values()) {
    const person = q.person ?? roster.entry(q.person, q.part_uri)?.person ?? null;
    let best: BaseCall | null = null;
    for (const c of byClaim.get(person ?? q.part_uri ?? 'call:') ?? []) {
      if (c.instance_id === q.conference && c.join <= q.quit && (!best || c.join > best.join)) best = c;
    }
    if (best) best.quit = best.quit === null ? q.quit : Math.min(best.quit, q.quit);
  }
  for (const c of calls) {
    const i = inst.get(c.instance_id);
    let q = c.quit;
    if (i?.failed) q ??= c.join;
    else if (i && i.end !== null) q = q === null ? i.end : Math.min(q, i.end);
    if (q !== null && q < c.join) q = c.join;
    c.quit = q;
    const m = memo.get(c.call_id);
    if (m && m.join === c.join && m.quit === q && m.instance === c.instance_id) {
      c.joinIso = m.joinIso;
      c.quitIso = m.quitIso;
      c.closed = m.closed;
      continue;
    }
    c.joinIso = iso(c.join);
    c.quitIso = iso(q);
    c.closed =
      q === null
        ? null
        : { call_id: c.call_id, instance_id: c.instance_id, join_time: c.joinIso, quit_time: c.quitIso, duration_ms: q - c.join };
    memo.set(c.call_id, {
      join: c.join,
      quit: q,
      instance: c.instance_id,
      joinIso: c.joinIso,
      quitIso: c.quitIso,
      closed: c.closed,
    });
  }
  return calls;
}

const MATCH_RANK: Record<MatchedBy, number> = { code: 3, user_data: 2, roster: 1 };

/** Participant rows of one resolution: calls grouped by their identity's key, ordered by first join. */
function participantRows(calls: readonly BaseCall[], ids: readonly CallIdentity[]): ParticipantRow[] {
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < calls.length; i++) {
    const key = ids[i].key;
    const g = byKey.get(key);
    if (g) g.push(i);
    else byKey.set(key, [i]);
  }
  const rows: ParticipantRow[] = [];
  for (const [key, own] of byKey) {
    // Most participants have one or two calls: Array#sort allocates scratch space even for those.
    if (own.length > 2) own.sort((a, b) => byJoin(calls[a], calls[b]));
    else if (own.length === 2 && byJoin(calls[own[0]], calls[own[1]]) > 0) own.reverse();
    const factsUpTo: RowFacts[] = [];
    let f: RowFacts = { person: null, role: null, matchedBy: null, conflict: false };
    for (const i of own) {
      const id = ids[i];
      const stronger = id.matchedBy !== null && (f.matchedBy === null || MATCH_RANK[id.matchedBy] > MATCH_RANK[f.matchedBy]);
      const next: RowFacts = {
        person: f.person ?? id.person,
        role: f.role ?? id.role,
        matchedBy: stronger ? id.matchedBy : f.matchedBy,
        conflict: f.conflict || id.conflict,
      };
      // Most rows never change after their first call: share the object.
      const same =
        next.person === f.person && next.role === f.role && next.matchedBy === f.matchedBy && next.conflict === f.conflict;
      f = factsUpTo.length > 0 && same ? f : next;
      factsUpTo.push(f);
    }
    // Plain loops: TypedArray.from with a map function goes through the iterator protocol per element.
    const n = own.length;
    const joins = new Float64Array(n);
    const quits = new Float64Array(n);
    const desc = new Array<CallInsight>(n);
    const partUriUpTo = new Array<string | null>(n);
    let uri: string | null = null;
    for (let k = 0; k < n; k++) {
      const c = calls[own[k]];
      joins[k] = c.join;
      quits[k] = c.quit ?? Number.POSITIVE_INFINITY;
      desc[n - 1 - k] = c.closed ?? {
        call_id: c.call_id,
        instance_id: c.instance_id,
        join_time: c.joinIso,
        quit_time: null,
        duration_ms: 0,
      };
      partUriUpTo[k] = uri = c.part_uri ?? uri;
    }
    rows.push({
      key,
      factsUpTo,
      calls: own.map((i) => calls[i]),
      joins,
      quits,
      desc,
      partUriUpTo,
    });
  }
  rows.sort((a, b) => a.joins[0] - b.joins[0] || (a.key < b.key ? -1 : 1));
  return rows;
}

export function buildIndex(id: string, fold: MeetingFold, roster: Roster, defaultRequires: readonly string[]): MeetingIndex {
  const instances = [...fold.conferences.values()].filter(isInstance).map(instanceOf);
  instances.sort((a, b) => a.visibleFrom - b.visibleFrom || (a.id < b.id ? -1 : 1));
  const inst = new Map(instances.map((i) => [i.id, i]));
  const calls = baseCalls(fold, roster, inst);
  const joiners = new Joiners(calls);
  const epochs = identityEpochs(calls, [...fold.bindings.values()], roster, joiners);
  const failed = failedDials(fold.dials.values());
  // Interruptions, when the meeting has none of their sources (most meetings), are none under any resolution.
  const mayInterrupt = failed.length > 0 || calls.some((c) => c.error !== null) || instances.some((i) => i.error !== null);

  const views: IdentityView[] = epochs.map((ep) => {
    const participants = participantRows(calls, ep.ids);
    return {
      from: ep.from,
      participants,
      firstJoins: new Float64Array(participants.map((p) => p.joins[0])),
      interruptions: mayInterrupt ? interruptionsOf(calls, ep.ids, (i) => joiners.of(i), instances, failed, roster) : [],
    };
  });

  // The meeting's own rule: the earliest instance that carries timer_requires wins over the config.
  const own = instances.find((i) => i.timerRequires !== null)?.timerRequires ?? null;
  const reqList = own ?? (defaultRequires.length ? [...new Set(defaultRequires)] : null);
  const requires = reqList && reqList.length > 0 ? [...new Set(reqList)].sort() : null;
  const seg = timerSegments(...timerPieces(calls, epochs, inst), requires);

  const recordings = [...fold.recordings.values()]
    .map((r) => ({ instance_id: r.conference, begin: r.begin, end: r.end }))
    .sort((a, b) => a.begin - b.begin || a.end - b.end || (a.instance_id < b.instance_id ? -1 : 1));

  return {
    id,
    instances,
    views,
    viewFrom: Float64Array.from(views, (v) => v.from),
    requires,
    ...seg,
    segObjs: Array.from(seg.segStart, (st, k) => ({
      start: iso(st),
      end: seg.segEnd[k] === Number.POSITIVE_INFINITY ? null : iso(seg.segEnd[k]),
    })),
    recordings,
    lastAt: fold.lastAt,
  };
}

const byJoin = (a: CallRow, b: CallRow): number => a.join - b.join || (a.call_id < b.call_id ? -1 : 1);

/**
 * Call intervals (clipped to their open instance) as timer pieces: a call is
 * cut where the identity resolution changes, each piece counting for the
 * participant it belonged to then, with the role the call claimed then (a
 * participant counts for a role while one of its calls with that role is open).
 */
function timerPieces(
  calls: readonly BaseCall[],
  epochs: readonly IdentityEpoch[],
  inst: Map<string, InstanceView>,
): [TimerPieces, number] {
  const slots = new Map<string, number>();
  const slotOf = (key: string): number => {
    let s = slots.get(key);
    if (s === undefined) slots.set(key, (s = slots.size));
    return s;
  };
  const pieces = new TimerPieces();
  calls.forEach((c, i) => {
    const ins = inst.get(c.instance_id);
    if (!ins || ins.failed || ins.begin === null) return;
    const s = Math.max(c.join, ins.begin);
    const e = c.quit ?? Number.POSITIVE_INFINITY;
    if (e <= s) return;
    for (let k = 0; k < epochs.length; k++) {
      const from = Math.max(s, epochs[k].from);
      const to = Math.min(e, k + 1 < epochs.length ? epochs[k + 1].from : Number.POSITIVE_INFINITY);
      if (to <= from) continue;
      const id = epochs[k].ids[i];
      pieces.add(from, to, slotOf(id.key), id.role);
    }
  });
  return [pieces, slots.size];
}

/** The insight as of `at` (epoch ms): only facts whose own time is ≤ at count. */
export function insightAt(ix: MeetingIndex, at: number): Insight {
  const st = statusAt(ix.instances, at);
  const instances = ix.instances
    .filter((i) => i.visibleFrom <= at)
    .map((i) => ({
      id: i.id,
      begin_time: iso(i.begin),
      end_time: i.end !== null && i.end <= at ? iso(i.end) : null,
      status: (i.failed ? 'failed' : i.end !== null && i.end <= at ? 'ended' : 'live') as 'live' | 'ended' | 'failed',
      // An instance that ended with an error tells it from its end on.
      error: i.failed || (i.end !== null && i.end <= at) ? i.error : null,
    }));
  const view = ix.views[Math.max(0, upperBound(ix.viewFrom, at) - 1)];
  const participants: Insight['participants'] = [];
  const np = upperBound(view.firstJoins, at);
  for (let pi = 0; pi < np; pi++) {
    const p = view.participants[pi];
    const n = upperBound(p.joins, at);
    const len = p.desc.length;
    const calls = p.desc.slice(len - n);
    const { joins, quits } = p;
    let total = 0;
    let connected = false;
    for (let k = 0; k < n; k++) {
      const q = quits[k];
      if (q <= at) {
        total += q - joins[k];
        continue;
      }
      // Open at `at`: its own object, with the duration so far.
      connected = true;
      total += at - joins[k];
      const c = p.calls[k];
      calls[n - 1 - k] = {
        call_id: c.call_id,
        instance_id: c.instance_id,
        join_time: c.joinIso,
        quit_time: null,
        duration_ms: at - joins[k],
      };
    }
    const partUri = n > 0 ? p.partUriUpTo[n - 1] : null;
    const f = p.factsUpTo[Math.max(0, n - 1)];
    participants.push({
      key: p.key,
      person: f.person,
      role: f.role,
      part_uri: partUri,
      matched: f.person !== null,
      matched_by: f.matchedBy,
      identity_conflict: f.conflict,
      connected,
      total_ms: total,
      calls,
    });
  }
  const ns = upperBound(ix.segStart, at);
  let segments: Insight['timer']['segments'] = [];
  let elapsed = 0;
  let running = false;
  if (ns > 0) {
    segments = ix.segObjs.slice(0, ns);
    elapsed = ix.segSum[ns - 1];
    const s = ix.segStart[ns - 1];
    const e = ix.segEnd[ns - 1];
    running = e > at;
    elapsed += Math.min(e, at) - s;
    if (running) segments[ns - 1] = { start: segments[ns - 1].start, end: null };
  }
  const recordings = ix.recordings
    .filter((r) => r.end <= at)
    .map((r) => ({ instance_id: r.instance_id, begin_time: iso(r.begin), end_time: iso(r.end) }));
  const interruptions: Insight['interruptions'] = [];
  for (const x of view.interruptions) {
    if (x.at > at) break;
    interruptions.push({
      at: iso(x.at),
      kind: x.kind,
      participant: x.participant,
      reason: x.reason,
      duration_ms: x.back <= at ? x.back - x.at : null,
    });
  }
  return {
    id: ix.id,
    status: st.status,
    actual_start_time: iso(st.start),
    actual_end_time: iso(st.end),
    error: st.error,
    instances,
    participants,
    timer: { running, elapsed_ms: elapsed, requires: ix.requires, segments },
    recordings,
    interruptions,
    as_of: iso(at),
    final: (st.status === 'ended' || st.status === 'failed') && at >= ix.lastAt,
  };
}
