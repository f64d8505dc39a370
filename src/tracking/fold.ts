// The facts of one meeting, folded from its events. Every merge is
// commutative and idempotent (min/max/first-by-order), so the fold of a set of
// events is the same for any delivery order and any number of duplicates.
import { isSideEvent } from './parse.js';
import type { ConfEvent } from './types.js';

export interface ConferenceFacts {
  id: string;
  createBegin: number | null;
  /** Begin/end from a successful conf.end. */
  endBegin: number | null;
  endEnd: number | null;
  /** Receipt time of the earliest conf.end that reported a failure (no times). */
  failedAt: number | null;
  error: string | null;
  timerRequires: string[] | null;
  /** Earliest time any event of this conference reports (its begin when no event gives one). */
  firstAt: number;
  /** user_data.meeting of the create event, and of the end event (used when no create event has one). */
  meetingFromCreate: string | null;
  meetingFromEnd: string | null;
  /**
   * Set only on the pseudo conference of the agent's own events (`twilio:<meeting>`,
   * `identity:<meeting>`): the meeting they name. Such a row is not an instance.
   * Absent in facts stored before it existed.
   */
  sideMeeting?: string | null;
}

export function newConference(id: string, ev: ConfEvent): ConferenceFacts {
  return {
    id,
    createBegin: null,
    endBegin: null,
    endEnd: null,
    failedAt: null,
    error: null,
    timerRequires: null,
    firstAt: ev.at,
    meetingFromCreate: null,
    meetingFromEnd: null,
  };
}

/** The meeting a conference belongs to: create's user_data.meeting, else end's, else the conference itself. */
export const meetingKeyOf = (c: ConferenceFacts): string => c.sideMeeting ?? c.meetingFromCreate ?? c.meetingFromEnd ?? c.id;

/** False for the pseudo conference that files the agent's own events (dial-outs, bindings) under a meeting. */
export const isInstance = (c: ConferenceFacts): boolean => !c.sideMeeting;

/** Merges one known event into its conference's facts (used by the fold and by the stored instance rows). */
export function applyToConference(c: ConferenceFacts, ev: ConfEvent): void {
  c.firstAt = Math.min(c.firstAt, ev.join_time ?? ev.at, ev.at);
  if (isSideEvent(ev)) {
    c.sideMeeting = pickText(c.sideMeeting ?? null, ev.meeting);
  } else if (ev.event === 'conf.create.succ') {
    c.createBegin = minN(c.createBegin, ev.begin_time);
    if (ev.timer_requires) c.timerRequires = pickRequires(c.timerRequires, ev.timer_requires);
    c.meetingFromCreate = pickText(c.meetingFromCreate, ev.meeting);
  } else if (ev.event === 'conf.end') {
    if (ev.end_time === null) {
      c.failedAt = minN(c.failedAt, ev.at);
    } else {
      c.endBegin = minN(c.endBegin, ev.begin_time);
      c.endEnd = maxN(c.endEnd, ev.end_time);
    }
    c.error = pickText(c.error, ev.error);
    c.meetingFromEnd = pickText(c.meetingFromEnd, ev.meeting);
  }
}

/** False when applyToConference(c, ev) would change nothing: a join, quit or recording no earlier than the conference's first time (most events). */
export function mayChangeConference(c: ConferenceFacts, ev: ConfEvent): boolean {
  return ev.event === 'conf.create.succ' || ev.event === 'conf.end' || Math.min(ev.join_time ?? ev.at, ev.at) < c.firstAt;
}

export interface CallFacts {
  call_id: string;
  conference: string;
  joinFromJoined: number | null;
  joinFromQuit: number | null;
  quit: number | null;
  part_uri: string | null;
  person: string | null;
  role: string | null;
  /** A conf.quit's `error`: the call was lost, not left (absent in facts stored before it existed). */
  error?: string | null;
}

/** One status of an outbound call (recordDial), keyed by call_sid + status + sequence. */
export interface DialFacts {
  call_sid: string;
  status: string;
  sequence: number | null;
  at: number;
  person: string | null;
  number: string | null;
  reason: string | null;
}

/** A joiner bound to a person by a verified code (recordBinding). */
export interface BindingFacts {
  participant: string;
  person: string;
  at: number;
  by: string;
}

/** A quit that names no call (Zoom participant_left): paired with its participant's latest earlier join. */
export interface LooseQuit {
  conference: string;
  part_uri: string | null;
  person: string | null;
  role: string | null;
  quit: number;
}

export interface RecordingFacts {
  conference: string;
  begin: number;
  end: number;
}

const minN = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const maxN = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
/** Deterministic pick between two texts: non-null wins, then the smaller. */
export const pickText = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : a <= b ? a : b);

export class MeetingFold {
  readonly conferences = new Map<string, ConferenceFacts>();
  readonly calls = new Map<string, CallFacts>();
  readonly looseQuits = new Map<string, LooseQuit>();
  readonly recordings = new Map<string, RecordingFacts>();
  readonly dials = new Map<string, DialFacts>();
  readonly bindings = new Map<string, BindingFacts>();
  /** Latest own time of any event: nothing changes after it. */
  lastAt = Number.NEGATIVE_INFINITY;
  events = 0;

  /** The fold as JSON (a snapshot: folding more events into the restored fold continues exactly). */
  toJSON(): string {
    return JSON.stringify({
      v: 1,
      conferences: [...this.conferences.values()],
      calls: [...this.calls.values()],
      looseQuits: [...this.looseQuits],
      recordings: [...this.recordings],
      dials: [...this.dials],
      bindings: [...this.bindings],
      lastAt: Number.isFinite(this.lastAt) ? this.lastAt : null,
      events: this.events,
    });
  }

  static fromJSON(text: string): MeetingFold {
    const o = JSON.parse(text) as {
      conferences: ConferenceFacts[];
      calls: CallFacts[];
      looseQuits: [string, LooseQuit][];
      recordings: [string, RecordingFacts][];
      dials?: [string, DialFacts][];
      bindings?: [string, BindingFacts][];
      lastAt: number | null;
      events: number;
    };
    const f = new MeetingFold();
    for (const c of o.conferences) f.conferences.set(c.id, c);
    for (const c of o.calls) f.calls.set(c.call_id, c);
    for (const [k, v] of o.looseQuits) f.looseQuits.set(k, v);
    for (const [k, v] of o.recordings) f.recordings.set(k, v);
    for (const [k, v] of o.dials ?? []) f.dials.set(k, v);
    for (const [k, v] of o.bindings ?? []) f.bindings.set(k, v);
    f.lastAt = o.lastAt ?? Number.NEGATIVE_INFINITY;
    f.events = o.events;
    return f;
  }

  add(ev: ConfEvent): void {
    this.events++;
    // Unknown events are logged and listed, but say nothing about the meeting.
    if (!ev.known) return;
    this.lastAt = Math.max(this.lastAt, ev.at, ev.join_time ?? ev.at);
    // The agent's own events: facts of the meeting, not of a conference instance.
    if (ev.event === 'dial.status') {
      this.addDial(ev);
      return;
    }
    if (ev.event === 'identity.bound') {
      this.addBinding(ev);
      return;
    }
    let c = this.conferences.get(ev.conference);
    if (!c) this.conferences.set(ev.conference, (c = newConference(ev.conference, ev)));
    applyToConference(c, ev);
    switch (ev.event) {
      case 'conf.joined':
      case 'conf.quit':
        this.addCall(ev);
        break;
      case 'conf.record_end':
        if (ev.begin_time !== null && ev.end_time !== null) {
          this.recordings.set(`${ev.conference}|${ev.begin_time}|${ev.end_time}`, {
            conference: ev.conference,
            begin: ev.begin_time,
            end: ev.end_time,
          });
        }
        break;
      default:
        // conf.play_end: kept in the event log; the insight has no playback list.
        break;
    }
  }

  private addCall(ev: ConfEvent): void {
    const quit = ev.event === 'conf.quit';
    if (ev.call_id === null) {
      if (!quit || ev.quit_time === null) return;
      const k = JSON.stringify([ev.conference, ev.part_uri, ev.person, ev.quit_time]);
      const prev = this.looseQuits.get(k);
      this.looseQuits.set(k, {
        conference: ev.conference,
        part_uri: ev.part_uri,
        person: ev.person,
        role: pickText(prev?.role ?? null, ev.role),
        quit: ev.quit_time,
      });
      return;
    }
    let call = this.calls.get(ev.call_id);
    if (!call) {
      call = {
        call_id: ev.call_id,
        conference: ev.conference,
        joinFromJoined: null,
        joinFromQuit: null,
        quit: null,
        part_uri: null,
        person: null,
        role: null,
      };
      this.calls.set(ev.call_id, call);
    } else if (call.conference !== ev.conference) {
      // A call id seen in two conferences: keep one deterministically.
      if (ev.conference > call.conference) return;
      call.conference = ev.conference;
    }
    if (quit) {
      call.joinFromQuit = minN(call.joinFromQuit, ev.join_time);
      call.quit = minN(call.quit, ev.quit_time);
    } else {
      call.joinFromJoined = minN(call.joinFromJoined, ev.join_time);
    }
    call.part_uri = pickText(call.part_uri, ev.part_uri);
    call.person = pickText(call.person, ev.person);
    call.role = pickText(call.role, ev.role);
    if (quit && ev.error !== null) call.error = pickText(call.error ?? null, ev.error);
  }

  private addDial(ev: ConfEvent): void {
    const sid = ev.call_id as string;
    const status = ev.status as string;
    const k = `${sid}|${status}|${ev.sequence ?? ''}`;
    const prev = this.dials.get(k);
    this.dials.set(k, {
      call_sid: sid,
      status,
      sequence: ev.sequence,
      at: prev ? Math.min(prev.at, ev.at) : ev.at,
      person: pickText(prev?.person ?? null, ev.person),
      number: pickText(prev?.number ?? null, ev.part_uri),
      reason: pickText(prev?.reason ?? null, ev.error),
    });
  }

  private addBinding(ev: ConfEvent): void {
    const b: BindingFacts = {
      participant: ev.participant as string,
      person: ev.person as string,
      at: ev.at,
      by: ev.by ?? 'code',
    };
    this.bindings.set(JSON.stringify([b.participant, b.person, b.at, b.by]), b);
  }
}

function pickRequires(a: string[] | null, b: string[]): string[] {
  if (a === null) return [...b].sort();
  const sb = [...b].sort();
  return JSON.stringify(a) <= JSON.stringify(sb) ? a : sb;
}
