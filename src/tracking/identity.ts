// Who each call's joiner is, as known at each moment. A call claims a person
// through its user_data or the roster (by the contact it came from); a code
// binding (recordBinding) proves a joiner to be a person from the binding's
// time on. Two joiners claiming the same person while both are connected are
// never merged: both are flagged `identity_conflict` until a binding settles it.
//
// What is known changes only at a few moments (a binding's time, the moment two
// joiners of one person first overlap), so the resolution is computed once per
// such moment: `identityEpochs` returns the resolutions with the time each
// starts to hold. Pure.
import type { BindingFacts } from './fold.js';
import { normContact, type Roster } from './roster.js';
import type { MatchedBy } from './types.js';

export type { MatchedBy };

/** A call as the identity rules see it. */
export interface IdentityCall {
  call_id: string;
  join: number;
  /** Effective quit (null = still open). */
  quit: number | null;
  part_uri: string | null;
  /** The person the call claims (user_data, else roster contact) and how. */
  claimed: string | null;
  claimedBy: 'user_data' | 'roster' | null;
  /** The role the call claims (user_data, else the roster's role of the claimed person). */
  role: string | null;
}

/** The participant a call belongs to under one resolution. */
export interface CallIdentity {
  key: string;
  person: string | null;
  role: string | null;
  matchedBy: MatchedBy | null;
  conflict: boolean;
}

export interface IdentityEpoch {
  /** The resolution holds from this time on (−Infinity for the first). */
  from: number;
  /** Per call, same order as the calls given. */
  ids: CallIdentity[];
}

/** The device a call came from: two calls of one joiner never conflict (a rejoin may overlap its own drop). */
export const joinerOf = (c: { call_id: string; part_uri: string | null }): string =>
  c.part_uri !== null ? normContact(c.part_uri) : `call:${c.call_id}`;

/** Joiners computed on first use (normalising every call's uri on each push costs more than the rest of the rules). */
export class Joiners {
  private readonly cache: (string | undefined)[];
  constructor(private readonly calls: readonly IdentityCall[]) {
    this.cache = new Array(calls.length);
  }
  of(i: number): string {
    let j = this.cache[i];
    if (j === undefined) this.cache[i] = j = joinerOf(this.calls[i]);
    return j;
  }
  /** Same joiner: equal uris need no normalising. */
  same(i: number, k: number): boolean {
    const a = this.calls[i].part_uri;
    const b = this.calls[k].part_uri;
    if (a !== null && a === b) return true;
    return this.of(i) === this.of(k);
  }
}

/** A key for a participant nobody claims: its uri, else its call. */
const ownKey = (c: IdentityCall): string => c.part_uri ?? `call:${c.call_id}`;

/** Whether a binding names this call: by call id or by the uri it came from. */
function bindsCall(b: BindingFacts, c: IdentityCall, joiner: string): boolean {
  return b.participant === c.call_id || normContact(b.participant) === joiner;
}

/** Two calls were both connected at some moment ≤ `upto`: the later join is before both quits. */
function overlapKnown(a: IdentityCall, b: IdentityCall, upto: number): boolean {
  const s = Math.max(a.join, b.join);
  return s <= upto && s < (a.quit ?? Number.POSITIVE_INFINITY) && s < (b.quit ?? Number.POSITIVE_INFINITY);
}

/** The bindings in force at `at` per call: the latest binding at or before `at` (ties: the smaller person). */
function boundAt(calls: readonly IdentityCall[], joiners: Joiners, bindings: readonly BindingFacts[], at: number) {
  const out: (BindingFacts | null)[] = new Array(calls.length).fill(null);
  for (const b of bindings) {
    if (b.at > at) continue;
    calls.forEach((c, i) => {
      if (!bindsCall(b, c, joiners.of(i))) return;
      const cur = out[i];
      if (cur === null || b.at > cur.at || (b.at === cur.at && b.person < cur.person)) out[i] = b;
    });
  }
  return out;
}

/** The resolution with what is known at `at`: bindings up to it and overlaps that began by it. */
function resolve(
  calls: readonly IdentityCall[],
  joiners: Joiners,
  bindings: readonly BindingFacts[],
  roster: Roster,
  at: number,
): CallIdentity[] {
  // Before any change point nothing is bound and no two joiners have overlapped: each call is what it claims.
  const nothingKnown = at === Number.NEGATIVE_INFINITY;
  const bound = nothingKnown ? null : boundAt(calls, joiners, bindings, at);
  const ids: CallIdentity[] = calls.map((c, i) => {
    const b = bound === null ? null : bound[i];
    if (b !== null) {
      const role = roster.entry(b.person, null)?.role ?? (c.claimed === b.person ? c.role : null);
      return { key: b.person, person: b.person, role, matchedBy: 'code', conflict: false };
    }
    if (c.claimed !== null) return { key: c.claimed, person: c.claimed, role: c.role, matchedBy: c.claimedBy, conflict: false };
    return { key: ownKey(c), person: null, role: c.role, matchedBy: null, conflict: false };
  });
  if (nothingKnown) return ids;
  // Per person, the calls claiming it (not bound) and the calls bound to it.
  const byPerson = new Map<string, { claimed: number[]; bound: number[] }>();
  ids.forEach((id, i) => {
    if (id.person === null) return;
    let g = byPerson.get(id.person);
    if (!g) byPerson.set(id.person, (g = { claimed: [], bound: [] }));
    (id.matchedBy === 'code' ? g.bound : g.claimed).push(i);
  });
  for (const [person, g] of byPerson) {
    if (g.claimed.length === 0) continue;
    // A joiner claiming a person who was proven (by code) to be someone else connected at the same time is not that person.
    const demoted = new Set<string>();
    for (const i of g.claimed) {
      if (g.bound.some((j) => !joiners.same(i, j) && overlapKnown(calls[i], calls[j], at))) demoted.add(joiners.of(i));
    }
    const rest = demoted.size === 0 ? g.claimed : g.claimed.filter((i) => !demoted.has(joiners.of(i)));
    const conflicting = new Set<string>();
    for (let x = 0; x < rest.length; x++) {
      for (let y = x + 1; y < rest.length; y++) {
        const i = rest[x];
        const j = rest[y];
        if (overlapKnown(calls[i], calls[j], at) && !joiners.same(i, j)) {
          conflicting.add(joiners.of(i)).add(joiners.of(j));
        }
      }
    }
    if (demoted.size === 0 && conflicting.size === 0) continue;
    for (const i of g.claimed) {
      const joiner = joiners.of(i);
      if (demoted.has(joiner)) {
        ids[i] = { key: ownKey(calls[i]), person: null, role: null, matchedBy: null, conflict: false };
      } else if (conflicting.has(joiner)) {
        ids[i] = { ...ids[i], key: `${person}#${joiner}`, conflict: true };
      }
    }
  }
  return ids;
}

/**
 * The moments the resolution may change: each binding's time, and each moment
 * two calls of different joiners that share a candidate person (claimed, or
 * bound at any time) begin to overlap.
 */
function changePoints(calls: readonly IdentityCall[], joiners: Joiners, bindings: readonly BindingFacts[]): number[] {
  const points = new Set<number>();
  const candidates = new Map<string, number[]>();
  const add = (person: string, i: number) => {
    let l = candidates.get(person);
    if (!l) candidates.set(person, (l = []));
    if (l[l.length - 1] !== i) l.push(i);
  };
  calls.forEach((c, i) => {
    if (c.claimed !== null) add(c.claimed, i);
    for (const b of bindings) {
      if (bindsCall(b, c, joiners.of(i))) {
        points.add(b.at);
        add(b.person, i);
      }
    }
  });
  for (const list of candidates.values()) {
    if (list.length < 2) continue;
    // Most people join from one device all meeting long: nothing to sweep.
    const uri = calls[list[0]].part_uri;
    if (uri !== null && list.every((i) => calls[i].part_uri === uri)) continue;
    const order = [...new Set(list)].sort((a, b) => calls[a].join - calls[b].join);
    const open: number[] = [];
    for (const i of order) {
      const j = calls[i].join;
      for (let k = open.length - 1; k >= 0; k--) {
        if ((calls[open[k]].quit ?? Number.POSITIVE_INFINITY) <= j) open.splice(k, 1);
      }
      if (open.some((o) => !joiners.same(o, i))) points.add(j);
      open.push(i);
    }
  }
  return [...points].sort((a, b) => a - b);
}

const sameIds = (a: readonly CallIdentity[], b: readonly CallIdentity[]): boolean =>
  a.every(
    (x, i) =>
      x.key === b[i].key &&
      x.person === b[i].person &&
      x.role === b[i].role &&
      x.matchedBy === b[i].matchedBy &&
      x.conflict === b[i].conflict,
  );

/** The resolutions over time, first from −Infinity; consecutive equal ones are merged. */
export function identityEpochs(
  calls: readonly IdentityCall[],
  bindings: readonly BindingFacts[],
  roster: Roster,
  joiners: Joiners = new Joiners(calls),
): IdentityEpoch[] {
  const epochs: IdentityEpoch[] = [
    { from: Number.NEGATIVE_INFINITY, ids: resolve(calls, joiners, bindings, roster, Number.NEGATIVE_INFINITY) },
  ];
  for (const p of changePoints(calls, joiners, bindings)) {
    const ids = resolve(calls, joiners, bindings, roster, p);
    if (!sameIds(ids, epochs[epochs.length - 1].ids)) epochs.push({ from: p, ids });
  }
  return epochs;
}
