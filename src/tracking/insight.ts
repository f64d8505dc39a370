// Insight from a meeting's folded facts. `buildIndex` does the expensive work
// once per change (sorting calls, sweeping the timer over the whole
// timeline); `insightAt` then answers any "as of" time with binary searches.
// The timer's state at a moment depends only on which intervals contain that
// moment, so the segments of the full timeline cut at `at` are exactly the
// segments one would get by folding only the facts up to `at`.
import { iso } from '../util/iso.js';
import type { MeetingFold } from './fold.js';
import { type InstanceView, instanceOf, statusAt } from './instances.js';
import type { Roster } from './roster.js';
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

interface ParticipantRow {
  key: string;
  person: string | null;
  role: string | null;
  matched: boolean;
  calls: CallRow[];
  joins: Float64Array;
  /** Effective quit per call (Infinity = never), same order as joins. */
  quits: Float64Array;
  /** Call outputs latest first; an answer is a suffix of it with open calls replaced. */
  desc: CallInsight[];
  /** partUriUpTo[k] = part_uri of the latest of calls 0..k that has one. */
  partUriUpTo: (string | null)[];
}

export interface MeetingIndex {
  id: string;
  instances: InstanceView[];
  participants: ParticipantRow[];
  firstJoins: Float64Array;
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

export function buildIndex(id: string, fold: MeetingFold, roster: Roster, defaultRequires: readonly string[]): MeetingIndex {
  const instances = [...fold.conferences.values()].map(instanceOf);
  instances.sort((a, b) => a.visibleFrom - b.visibleFrom || (a.id < b.id ? -1 : 1));
  const inst = new Map(instances.map((i) => [i.id, i]));

  // Calls grouped by participant (user_data person, else roster by contact, else the uri).
  const byKey = new Map<string, { person: string | null; role: string | null; calls: (CallRow & { role: string | null })[] }>();
  // (No object per lookup: this runs for every call of every changed meeting on each push.)
  for (const c of fold.calls.values()) {
    const join = c.joinFromQuit ?? c.joinFromJoined;
    if (join === null) continue;
    const e = roster.entry(c.person, c.part_uri);
    const person = c.person ?? e?.person ?? null;
    const key = person ?? c.part_uri ?? `call:${c.call_id}`;
    let p = byKey.get(key);
    if (!p) byKey.set(key, (p = { person, role: null, calls: [] }));
    p.calls.push({
      call_id: c.call_id,
      instance_id: c.conference,
      join,
      quit: c.quit,
      joinIso: '',
      quitIso: null,
      part_uri: c.part_uri,
      role: c.role ?? e?.role ?? null,
      closed: null,
    });
  }
  // Quits that name no call close the participant's latest call that joined before them.
  for (const q of fold.looseQuits.values()) {
    const person = q.person ?? roster.entry(q.person, q.part_uri)?.person ?? null;
    const p = byKey.get(person ?? q.part_uri ?? 'call:');
    if (!p) continue;
    let best: CallRow | null = null;
    for (const c of p.calls) {
      if (c.instance_id === q.conference && c.join <= q.quit && (!best || c.join > best.join)) best = c;
    }
    if (best) best.quit = best.quit === null ? q.quit : Math.min(best.quit, q.quit);
  }

  const participants: ParticipantRow[] = [];
  for (const [key, p] of byKey) {
    // Most participants have one or two calls: Array#sort allocates scratch space even for those.
    if (p.calls.length > 2) p.calls.sort(byJoin);
    else if (p.calls.length === 2 && byJoin(p.calls[0], p.calls[1]) > 0) p.calls.reverse();
    let role: string | null = null;
    for (const c of p.calls) {
      role ??= c.role;
      const i = inst.get(c.instance_id);
      let q = c.quit;
      if (i?.failed) q ??= c.join;
      else if (i && i.end !== null) q = q === null ? i.end : Math.min(q, i.end);
      if (q !== null && q < c.join) q = c.join;
      c.quit = q;
      c.joinIso = iso(c.join);
      c.quitIso = iso(q);
      c.closed =
        q === null
          ? null
          : {
              call_id: c.call_id,
              instance_id: c.instance_id,
              join_time: c.joinIso,
              quit_time: c.quitIso,
              duration_ms: q - c.join,
            };
    }
    // Plain loops: TypedArray.from with a map function goes through the iterator protocol per element.
    const n = p.calls.length;
    const joins = new Float64Array(n);
    const quits = new Float64Array(n);
    const desc = new Array<CallInsight>(n);
    const partUriUpTo = new Array<string | null>(n);
    let uri: string | null = null;
    for (let k = 0; k < n; k++) {
      const c = p.calls[k];
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
    participants.push({
      key,
      person: p.person,
      role,
      matched: p.person !== null,
      calls: p.calls,
      joins,
      quits,
      desc,
      partUriUpTo,
    });
  }
  participants.sort((a, b) => a.joins[0] - b.joins[0] || (a.key < b.key ? -1 : 1));

  // The meeting's own rule: the earliest instance that carries timer_requires wins over the config.
  const own = instances.find((i) => i.timerRequires !== null)?.timerRequires ?? null;
  const reqList = own ?? (defaultRequires.length ? [...new Set(defaultRequires)] : null);
  const requires = reqList && reqList.length > 0 ? [...new Set(reqList)].sort() : null;
  const seg = timerSegments(participants, inst, requires);

  const recordings = [...fold.recordings.values()]
    .map((r) => ({ instance_id: r.conference, begin: r.begin, end: r.end }))
    .sort((a, b) => a.begin - b.begin || a.end - b.end || (a.instance_id < b.instance_id ? -1 : 1));

  return {
    id,
    instances,
    participants,
    firstJoins: new Float64Array(participants.map((p) => p.joins[0])),
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

/** Sweeps call intervals (clipped to their open instance) and returns the maximal intervals where the rule held. */
function timerSegments(
  participants: readonly ParticipantRow[],
  inst: Map<string, InstanceView>,
  requires: string[] | null,
): { segStart: Float64Array; segEnd: Float64Array; segSum: Float64Array } {
  const times: number[] = [];
  const deltas: number[] = [];
  const who: number[] = [];
  participants.forEach((p, pi) => {
    for (const c of p.calls) {
      const i = inst.get(c.instance_id);
      if (!i || i.failed || i.begin === null) continue;
      const s = Math.max(c.join, i.begin);
      const e = c.quit ?? Number.POSITIVE_INFINITY;
      if (e <= s) continue;
      times.push(s);
      deltas.push(1);
      who.push(pi);
      if (e !== Number.POSITIVE_INFINITY) {
        times.push(e);
        deltas.push(-1);
        who.push(pi);
      }
    }
  });
  const order = new Uint32Array(times.length);
  for (let k = 0; k < order.length; k++) order[k] = k;
  order.sort((a, b) => times[a] - times[b]);
  const open = new Int32Array(participants.length);
  const roleIdx = participants.map((p) => (requires && p.role !== null ? requires.indexOf(p.role) : -1));
  const roleCount = new Int32Array(requires?.length ?? 0);
  let connected = 0;
  const starts: number[] = [];
  const ends: number[] = [];
  let running = false;
  for (let k = 0; k < order.length; ) {
    const t = times[order[k]];
    for (; k < order.length && times[order[k]] === t; k++) {
      const j = order[k];
      const pi = who[j];
      const before = open[pi];
      open[pi] += deltas[j];
      if (before === 0 && open[pi] > 0) {
        connected++;
        if (roleIdx[pi] >= 0) roleCount[roleIdx[pi]]++;
      } else if (before > 0 && open[pi] === 0) {
        connected--;
        if (roleIdx[pi] >= 0) roleCount[roleIdx[pi]]--;
      }
    }
    const holds = requires ? roleCount.every((n) => n > 0) : connected >= 2;
    if (holds && !running) {
      starts.push(t);
      running = true;
    } else if (!holds && running) {
      ends.push(t);
      running = false;
    }
  }
  if (running) ends.push(Number.POSITIVE_INFINITY);
  const segSum = new Float64Array(starts.length + 1);
  for (let i = 0; i < starts.length; i++) segSum[i + 1] = segSum[i] + (ends[i] - starts[i]);
  return { segStart: Float64Array.from(starts), segEnd: Float64Array.from(ends), segSum };
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
      error: i.error,
    }));
  const participants: Insight['participants'] = [];
  const np = upperBound(ix.firstJoins, at);
  for (let pi = 0; pi < np; pi++) {
    const p = ix.participants[pi];
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
    participants.push({
      key: p.key,
      person: p.person,
      role: p.role,
      part_uri: partUri,
      matched: p.matched,
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
    as_of: iso(at),
    final: (st.status === 'ended' || st.status === 'failed') && at >= ix.lastAt,
  };
}
